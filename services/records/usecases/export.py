"""Export of confirmed service entries in the field set volunteer-record systems take.

The mapping (column → meaning → national field) is documented in docs/records.md.
"""

import base64
import csv
import io
from datetime import UTC, datetime, time, timedelta, timezone

from sqlalchemy import select

from common.db import Store
from common.errors import Forbidden
from common.schemas import load
from services.records import domain, schemas
from services.records.models import Entry, Volunteer
from services.records.usecases._common import aware, names_of, place_of
from services.records.usecases.entries import load_actor

CHINA = timezone(timedelta(hours=8))
HEADERS = ["志愿者姓名", "志愿者编号", "记录组织", "服务项目/活动", "服务日期", "服务地点", "确认时长（小时）",
           "服务来源", "记录编号"]
MAX_ROWS = 50000


def rows(store: Store, registration, actor: dict, query: dict) -> tuple[list[list], dict]:
    """Confirmed entries recorded by one community (staff over it), in service-date order."""
    actor = load_actor(actor)
    q = load(schemas.ExportQuery, query)
    community_id = q["community_id"] if q["community_id"] is not None else actor.get("community_id")
    if community_id is None:
        raise Forbidden(code="COMMUNITY_REQUIRED", message="请指明导出哪个社区的志愿服务记录（community_id）")
    domain.check_can_record(actor, community_id, place_of(registration, community_id), "records.records_export")
    stmt = select(Entry, Volunteer).join(Volunteer, Volunteer.member_id == Entry.member_id).where(
        Entry.community_id == community_id, Entry.status == domain.CONFIRMED)
    if q["since"]:
        stmt = stmt.where(Entry.served_at >= datetime.combine(q["since"], time.min, CHINA).astimezone(UTC))
    if q["until"]:
        stmt = stmt.where(Entry.served_at < datetime.combine(q["until"] + timedelta(days=1), time.min,
                                                           CHINA).astimezone(UTC))
    names = names_of(registration, [community_id])
    with store.uow() as uow:
        found = uow.session.execute(stmt.order_by(Entry.served_at, Entry.id).limit(MAX_ROWS)).all()
        table = [[v.name, v.volunteer_number, names[community_id], e.title,
                  aware(e.served_at).astimezone(CHINA).date().isoformat(), e.place, e.confirmed_hours,
                  domain.SOURCE_LABELS.get(e.source, e.source), e.id] for e, v in found]
    return table, {"community_id": community_id, "format": q["format"]}


def export(store: Store, registration, actor: dict, query: dict) -> dict:
    table, meta = rows(store, registration, actor, query)
    safe = [[domain.safe_cell(v) for v in row] for row in table]
    name = f"volunteer-records-{meta['community_id']}"
    if meta["format"] == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "志愿服务记录"
        sheet.append(HEADERS)
        for row in safe:
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        content, ctype, filename = out.getvalue(), \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f"{name}.xlsx"
    else:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        writer.writerows(safe)
        # BOM: Excel opens UTF-8 CSV with Chinese headers correctly only with it
        content, ctype, filename = ("\ufeff" + out.getvalue()).encode(), "text/csv; charset=utf-8", f"{name}.csv"
    return schemas.File().dump({"filename": filename, "content_type": ctype,
                                "content_base64": base64.b64encode(content).decode()})
