"""The certificate (志愿服务证明) as a PDF: fpdf2 with an embedded CJK font and a QR code.

fpdf2 embeds OpenType/CFF outlines through fontTools, so Debian's fonts-noto-cjk works as
installed (ReportLab cannot embed CFF). The font is found by name inside the .ttc collection.
"""

import io
import os
from functools import lru_cache
from pathlib import Path

import segno
from fpdf import FPDF

from common.errors import AppError

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


class FontMissing(AppError):
    default_code = "CJK_FONT_MISSING"
    default_message = "服务器未安装中文字体，暂不能生成证明（请安装 fonts-noto-cjk）"


@lru_cache(maxsize=1)
def cjk_font() -> tuple[str, int]:
    """(path, index in the collection) of a Simplified Chinese font; CERT_FONT overrides."""
    from fontTools.ttLib import TTCollection

    paths = [os.environ["CERT_FONT"]] if os.environ.get("CERT_FONT") else list(FONT_CANDIDATES)
    for path in paths:
        if not Path(path).exists():
            continue
        if not path.endswith(".ttc"):
            return path, 0
        names = [f["name"].getDebugName(4) or "" for f in TTCollection(path, lazy=True).fonts]
        for i, name in enumerate(names):
            if " SC" in name and "Mono" not in name:
                return path, i
        return path, 0
    raise FontMissing()


def render(cert: dict, verify_url: str) -> bytes:
    path, index = cjk_font()
    pdf = FPDF(format="A4")
    pdf.set_title(f"志愿服务证明 {cert['number']}")
    pdf.set_creator("宝岛平台")
    pdf.add_font("cjk", fname=path, collection_font_number=index)
    pdf.add_page()
    pdf.set_margins(22, 22, 22)
    pdf.set_font("cjk", size=24)
    pdf.set_y(30)
    pdf.cell(0, 14, "志愿服务证明", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    pdf.cell(0, 8, f"证明编号：{cert['number']}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("cjk", size=13)
    body = (f"兹证明 {cert['member_name']}（身份证号：{cert['id_number_masked'] or '未登记'}，"
            f"志愿者编号：{cert['volunteer_number']}）于 {cert['since']:%Y年%m月%d日} 至 "
            f"{cert['until']:%Y年%m月%d日} 期间，在{cert['issuer_name']}参加志愿服务 {cert['services']} 次，"
            f"累计志愿服务时长 {cert['hours']:g} 小时（经组织方确认，不含路途时间）。")
    pdf.multi_cell(0, 9, body, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.multi_cell(0, 9, f"服务内容：{cert['summary']}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.multi_cell(0, 9, "特此证明。", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(14)
    pdf.cell(0, 9, f"出具单位：{cert['issuer_name']}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 9, f"出具日期：{cert['issued_on']:%Y年%m月%d日}", align="R", new_x="LMARGIN", new_y="NEXT")
    qr = io.BytesIO()
    segno.make(verify_url, error="m").save(qr, kind="png", scale=5, border=2)
    qr.seek(0)
    top = pdf.get_y() + 12
    pdf.image(qr, x=22, y=top, w=34)
    pdf.set_xy(60, top + 8)
    pdf.set_font("cjk", size=10)
    pdf.multi_cell(0, 6, f"扫描二维码或访问 {verify_url} 核验本证明的真伪与是否有效。\n"
                         "依据《志愿服务记录与证明出具办法（试行）》，由记录志愿服务信息的组织出具。")
    return bytes(pdf.output())
