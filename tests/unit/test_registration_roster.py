"""Roster files as communities keep them: CSV (UTF-8 or GBK) and XLSX with Chinese headers."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from services.registration import roster

HEADER = ["序号", "姓名", "手机号码", "身份证号码", "工作单位", "所在社区", "网格", "楼栋", "特长", "服务岗位"]
LINE = ["1", "张三", "13900000001", "11010519491231002X", "某单位", "东风社区", "第一网格", "1栋", "法律、医疗",
        "法律服务"]


def test_csv_with_chinese_headers_becomes_rows_with_line_numbers():
    lines = [",".join(HEADER), ",".join(LINE), ",,,,,,,,,", ",".join(LINE[:6])]
    content = ("\n".join(lines) + "\n").encode("utf-8-sig")
    rows = roster.parse(content, "名册.csv")
    assert rows[0] == {"row": 2, "name": "张三", "phone": "13900000001", "id_number": "11010519491231002X",
                       "work_unit": "某单位", "community": "东风社区", "grid": "第一网格", "building": "1栋",
                       "skills": "法律、医疗", "posts": "法律服务"}
    assert rows[1]["row"] == 4  # the blank line is skipped but keeps its number
    assert "grid" not in rows[1]


def test_gbk_csv_as_excel_saves_it_in_china():
    content = (",".join(HEADER) + "\n" + ",".join(LINE) + "\n").encode("gb18030")
    assert roster.parse(content, "名册.csv")[0]["name"] == "张三"


def test_xlsx_numbers_keep_their_digits():
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "手机号", "身份证号", "社区"])
    sheet.append(["李四", 13900000002, "11010519491231002X", "东风社区"])
    out = io.BytesIO()
    book.save(out)
    rows = roster.parse(out.getvalue(), "名册.xlsx")
    assert rows == [{"row": 2, "name": "李四", "phone": "13900000002", "id_number": "11010519491231002X",
                     "community": "东风社区"}]


def test_missing_required_columns_and_unreadable_files_are_reported():
    with pytest.raises(roster.RosterFileError, match="身份证号码"):
        roster.parse("姓名,手机号码,所在社区\n张三,13900000001,东风社区\n".encode(), "a.csv")
    with pytest.raises(roster.RosterFileError):
        roster.parse(b"", "a.csv")
    with pytest.raises(roster.RosterFileError):
        roster.parse(b"PK\x03\x04not really a workbook", "a.xlsx")


def test_export_writes_csv_and_xlsx_that_read_back():
    rows = [{"id": 1, "name": "张三", "phone": "139****0001", "skills": ["法律", "医疗"], "status_label": "已报到"}]
    csv_bytes = roster.write(roster.EXPORT_COLUMNS, rows, "csv")
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    text = csv_bytes.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("编号,姓名,手机号码") and "法律、医疗" in text
    sheet = load_workbook(io.BytesIO(roster.write(roster.EXPORT_COLUMNS, rows, "xlsx"))).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("编号", "姓名", "手机号码") and values[1][1] == "张三"
