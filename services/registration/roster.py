"""Rosters as communities and work units keep them: CSV or XLSX files with Chinese headers.

Pure conversions (bytes ⇄ rows) shared by the ``baodao roster`` command and the gateway's
upload and download endpoints; the service only ever sees rows as JSON.
"""

import csv
import io

from common.exports import safe_cell

# spreadsheet header → row key; several spellings are common in the wild
HEADERS = {
    "姓名": "name",
    "手机号码": "phone", "手机号": "phone", "手机": "phone", "联系电话": "phone", "联系方式": "phone",
    "身份证号码": "id_number", "身份证号": "id_number", "公民身份号码": "id_number", "身份证": "id_number",
    "工作单位": "work_unit", "单位": "work_unit",
    "单位党组织": "party_org", "所在党组织": "party_org", "党组织": "party_org",
    "所在社区": "community", "社区": "community", "报到社区": "community", "社区（村）": "community",
    "村居": "community",
    "网格": "grid", "所在网格": "grid",
    "楼栋": "building", "所在楼栋": "building",
    "特长": "skills", "技能": "skills", "专长": "skills", "特长技能": "skills",
    "职业": "profession", "专业": "profession",
    "服务岗位": "posts", "认领岗位": "posts",
    "空闲时间": "free_time", "服务时间": "free_time",
    "承诺": "commitments", "年度承诺": "commitments", "承诺事项": "commitments",
}
REQUIRED = ("name", "phone", "id_number", "community")
FORMATS = ("csv", "xlsx")
XLSX_MAGIC = b"PK\x03\x04"


class RosterFileError(ValueError):
    """The file as a whole cannot be read (not a CSV/XLSX, no header row, missing columns)."""


def detect_format(content: bytes, filename: str = "") -> str:
    if content.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx"):
        return "xlsx"
    return "csv"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone typed into Excel as a number
    return str(value).strip()


def _table(content: bytes, fmt: str) -> list[list[str]]:
    if fmt == "xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise RosterFileError(f"无法读取 Excel 文件：{type(exc).__name__}") from None
        try:
            return [[_cell(v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
        finally:
            book.close()
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK by default
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RosterFileError("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV")
    return [[_cell(v) for v in row] for row in csv.reader(io.StringIO(text))]


def parse(content: bytes, filename: str = "") -> list[dict]:
    """Rows keyed in English, each with ``row``: its line number in the sheet (header = 1)."""
    table = _table(content, detect_format(content, filename))
    start = next((i for i, row in enumerate(table) if any(row)), None)
    if start is None:
        raise RosterFileError("文件是空的")
    header = [HEADERS.get(h.replace(" ", ""), None) for h in table[start]]
    missing = [zh for zh, key in (("姓名", "name"), ("手机号码", "phone"), ("身份证号码", "id_number"),
                                  ("所在社区", "community")) if key not in header]
    if missing:
        raise RosterFileError(f"缺少必需的列：{'、'.join(missing)}（第{start + 1}行应为表头）")
    rows = []
    for n, values in enumerate(table[start + 1:], start=start + 2):
        if not any(values):
            continue
        row = {"row": n}
        for key, value in zip(header, values, strict=False):
            if key and value and key not in row:
                row[key] = value
        rows.append(row)
    return rows


def write(columns: list[tuple[str, str]], rows: list[dict], fmt: str) -> bytes:
    """``columns`` = [(key, 中文表头)]; lists are joined with 、."""
    def value(row, key):
        v = row.get(key)
        if isinstance(v, list | tuple):
            v = "、".join(str(x) for x in v)
        return "" if v is None else safe_cell(v)  # formula injection: common/exports.py

    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("人才库")
        sheet.append([title for _, title in columns])
        for row in rows:
            # as text, so Excel keeps an 18-digit number or a leading zero intact
            sheet.append([str(value(row, key)) for key, _ in columns])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title for _, title in columns])
    for row in rows:
        writer.writerow([value(row, key) for key, _ in columns])
    return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8 Chinese correctly


ERROR_COLUMNS = [("row", "行号"), ("reason", "原因")]
EXPORT_COLUMNS = [("id", "编号"), ("name", "姓名"), ("phone", "手机号码"), ("community_name", "所在社区"),
                  ("grid_name", "网格"), ("building_name", "楼栋"), ("work_unit", "工作单位"),
                  ("party_org", "单位党组织"), ("skills", "特长"), ("post_names", "服务岗位"),
                  ("free_time_text", "空闲时间"), ("status_label", "状态")]
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
