"""``baodao roster``: import with an error report, re-import, export; on the real database and broker."""

import io

from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from cli import demo
from cli.main import cli
from common.migrations import upgrade
from services.registration.domain import id_number_check_char


def _id(n: int) -> str:
    first17 = f"4406041990{n:07d}"
    return first17 + id_number_check_char(first17)


def _workbook(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "手机号", "身份证号", "社区", "网格", "特长", "空闲时间"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_roster_command_imports_reports_and_exports(db_url_factory, amqp_uri, tmp_path, monkeypatch):
    url = db_url_factory("registration")
    upgrade("registration", url)
    demo.seed({"registration": url}, amqp_uri)
    monkeypatch.setenv("REGISTRATION_DATABASE_URL", url)
    monkeypatch.setenv("AMQP_URI", amqp_uri)
    good = [[f"表{n}", f"1350000{n:04d}", _id(n), "跃进社区", "第一网格", "调解", "周末全天"] for n in range(30)]
    path = tmp_path / "跃进名册.xlsx"
    path.write_bytes(_workbook(good[:10] + [["", "135", _id(99)[:17] + "0", "不存在社区", "", "", ""]] + good[10:]))
    runner = CliRunner()
    failed = runner.invoke(cli, ["roster", "import", str(path)])
    assert failed.exit_code == 1
    report = (tmp_path / "跃进名册.xlsx.errors.csv").read_text(encoding="utf-8-sig").splitlines()
    assert report[0] == "行号,原因" and report[1].startswith("12,缺少姓名")
    assert "找不到社区“不存在社区”" in report[1]

    path.write_bytes(_workbook(good))
    done = runner.invoke(cli, ["roster", "import", str(path), "--as", "staff2"])
    assert done.exit_code == 0, done.output
    assert "新增 30，更新 0，未变 0" in done.output
    again = runner.invoke(cli, ["roster", "import", str(path)])
    assert "新增 0，更新 0，未变 30" in again.output
    refused = runner.invoke(cli, ["roster", "import", str(path), "--as", "staff1"])  # not 东风社区's members
    assert refused.exit_code == 1 and "不在您的管辖范围内" in refused.output

    out = tmp_path / "人才库.xlsx"
    exported = runner.invoke(cli, ["roster", "export", str(out), "--as", "staff2"])
    assert exported.exit_code == 0, exported.output
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 30 + 1  # header, the roster, 陈静
    assert rows[1][2].isdigit()  # the community's own staff see full phone numbers
