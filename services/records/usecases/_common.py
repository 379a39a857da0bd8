"""Shared by records' use cases: places (via registration), volunteers, and entry views."""

import threading
from datetime import UTC

from sqlalchemy import select

from common.db import upsert
from common.errors import NotFound
from services.records import domain, schemas
from services.records.models import Entry, HoursAudit, Volunteer

SYSTEM = {"user_id": None, "role": "system"}

_PLACES: dict[int, dict] = {}
_PLACES_LOCK = threading.Lock()


def place_of(registration, community_id: int | None) -> dict | None:
    """A community with its street and district; the tree above a community does not move."""
    if community_id is None:
        return None
    place = _PLACES.get(community_id)
    if place is None:
        try:
            place = registration.get_place(community_id)
        except NotFound:
            return None
        with _PLACES_LOCK:
            _PLACES[community_id] = place
    return place


def names_of(registration, community_ids) -> dict[int, str]:
    names = {}
    for cid in {c for c in community_ids if c is not None}:
        place = place_of(registration, cid)
        names[cid] = place["name"] if place else f"社区{cid}"
    return names


def aware(value):
    if value is not None and getattr(value, "tzinfo", None) is None and hasattr(value, "hour"):
        return value.replace(tzinfo=UTC)
    return value


def volunteer_number(member_id: int) -> str:
    return f"BD{member_id:08d}"


def volunteer(session, member_id: int, **facts) -> Volunteer:
    """The member's row, made on first sight (an entry may arrive before the member's event).

    Several events about one member may be handled at once (the member's update and their first
    service entry, by two workers or two instances): the row is inserted-or-ignored, then read,
    so whichever comes second finds it instead of failing on the primary key."""
    row = session.get(Volunteer, member_id)
    if row is None:
        session.execute(upsert(session, Volunteer.__table__).values(
            member_id=member_id, volunteer_number=volunteer_number(member_id), name="")
            .on_conflict_do_nothing(index_elements=["member_id"]))
        row = session.get(Volunteer, member_id)
    for key, value in facts.items():
        if value is not None:
            setattr(row, key, value)
    return row


def volunteer_facts(session, member_id: int) -> dict | None:
    row = session.get(Volunteer, member_id)
    if row is None:
        return None
    return {"member_id": row.member_id, "community_id": row.community_id, "e_branch_id": row.e_branch_id,
            "name": row.name}


def get_entry(session, entry_id: int, *, lock=False) -> Entry:
    query = select(Entry).where(Entry.id == entry_id)
    if lock:
        query = query.with_for_update()
    entry = session.scalar(query)
    if entry is None:
        raise NotFound(code="ENTRY_NOT_FOUND", message="找不到该条服务记录")
    return entry


def audit(session, entry: Entry, actor: dict, action: str, from_hours, to_hours, reason=""):
    session.add(HoursAudit(entry_id=entry.id, action=action, from_hours=from_hours, to_hours=to_hours,
                           reason=reason or "", actor_id=actor.get("user_id"), actor_role=actor["role"]))


def entry_rows(entries: list[Entry], names: dict[int, str], members: dict[int, str] | None = None,
               audits: dict[int, list] | None = None) -> list[dict]:
    rows = []
    for e in entries:
        row = {c.key: getattr(e, c.key) for c in Entry.__table__.columns}
        row.update(served_at=aware(e.served_at), confirmed_at=aware(e.confirmed_at),
                   source_label=domain.SOURCE_LABELS.get(e.source, e.source),
                   hours_source_label=domain.HOURS_SOURCE_LABELS.get(e.hours_source, e.hours_source),
                   status_label=domain.STATUS_LABELS[e.status], organisation=names.get(e.community_id, ""),
                   member_name=(members or {}).get(e.member_id, ""))
        if audits is not None:
            row["audit"] = [{"action": a.action, "from_hours": a.from_hours, "to_hours": a.to_hours,
                             "reason": a.reason, "actor_id": a.actor_id, "actor_role": a.actor_role,
                             "at": aware(a.at)} for a in audits.get(e.id, [])]
        rows.append(row)
    return rows


def entry_views(entries, names, members=None, audits=None) -> list[dict]:
    return schemas.EntryView(many=True).dump(entry_rows(entries, names, members, audits))
