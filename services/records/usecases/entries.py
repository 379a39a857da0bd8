"""Service entries and their hours: stated at completion, confirmed or corrected by the organiser."""

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import select

from common.actors import Actor
from common.db import Store, utcnow
from common.errors import Forbidden
from common.schemas import load
from services.records import domain, schemas
from services.records.models import Entry, HoursAudit, Volunteer
from services.records.usecases._common import (
    SYSTEM,
    audit,
    aware,
    entry_views,
    get_entry,
    names_of,
    place_of,
    volunteer,
    volunteer_facts,
)


def load_actor(actor: dict) -> dict:
    return load(Actor, actor)


def secretary_of(registration, community_id: int, volunteer: dict | None) -> int | None:
    """Who leads the member's e-branch in that community (asked each time: secretaries change)."""
    if volunteer is None or volunteer.get("e_branch_id") is None:
        return None
    for branch in registration.list_e_branches(community_id):
        if branch["id"] == volunteer["e_branch_id"]:
            return branch.get("secretary_id")
    return None


def _when(text: str | None, fallback: str) -> datetime:
    value = datetime.fromisoformat(text or fallback)
    return aware(value).astimezone(UTC)  # stored in UTC: SQLite drops the offset


def _add(uow, member_id: int, source: str, ref_id: int, *, community_id: int, title: str, place: str,
         served_at: datetime, stated, hours_source: str) -> Entry | None:
    session = uow.session
    if session.scalar(select(Entry.id).where(Entry.source == source, Entry.ref_id == ref_id,
                                             Entry.member_id == member_id)):
        return None
    volunteer(session, member_id)
    entry = Entry(member_id=member_id, source=source, ref_id=ref_id, community_id=community_id,
                  title=(title or "")[:200], place=(place or "")[:200], served_at=served_at,
                  stated_hours=stated, hours_source=hours_source, status=domain.STATED, created_at=utcnow())
    session.add(entry)
    session.flush()
    audit(session, entry, {"user_id": member_id, "role": "member"}, "state", None, stated,
          domain.HOURS_SOURCE_LABELS.get(hours_source, ""))
    return entry


def _confirmed_event(entry: Entry, previous=None) -> dict:
    return {"entry_id": entry.id, "member_id": entry.member_id, "source": entry.source, "ref_id": entry.ref_id,
            "community_id": entry.community_id, "title": entry.title, "place": entry.place,
            "hours": entry.confirmed_hours, "previous_hours": previous,
            "served_at": aware(entry.served_at).isoformat()}


# ---- fed by events ---------------------------------------------------------------------------

def on_request_completed(uow, event: dict):
    """Done: the hours the member stated wait for the organiser (a need, a resident's request)."""
    data = event["data"]
    stated = data.get("hours")
    source = data.get("hours_source") or ("stated" if stated else "none")
    for member_id in dict.fromkeys(data["member_ids"]):
        _add(uow, member_id, "request", data["request_id"], community_id=data["community_id"],
             title=data["title"], place=data.get("place", ""),
             served_at=_when(data.get("completed_at"), event["occurred_at"]),
             stated=stated if stated else None, hours_source=source if stated else "none")


def on_wish_fulfilled(uow, event: dict):
    """A micro-wish carries no hours: the organiser gives them when confirming."""
    data = event["data"]
    for member_id in dict.fromkeys(data.get("member_ids") or []):
        _add(uow, member_id, "wish", data["wish_id"], community_id=data["community_id"],
             title=f"微心愿：{data['title']}", place="", served_at=_when(None, event["occurred_at"]),
             stated=None, hours_source="none")


def on_activity_attended(uow, event: dict):
    """Attendance settled by the activity's leader: those hours arrive confirmed."""
    data = event["data"]
    hours = round(float(data.get("hours") or 0.0), 2)
    entry = _add(uow, data["member_id"], "activity", data["activity_id"], community_id=data["community_id"],
                 title=data["title"], place=data.get("place", ""), served_at=_when(data.get("starts_at"),
                                                                                   event["occurred_at"]),
                 stated=hours or None, hours_source="attendance" if hours else "none")
    if entry is None or not hours:
        return  # no hours recorded: it waits in the queue rather than counting as 0
    entry.status, entry.confirmed_hours = domain.CONFIRMED, hours
    entry.confirmed_role, entry.confirmed_at = "activity_leader", utcnow()
    audit(uow.session, entry, {"user_id": None, "role": "activity_leader"}, "confirm", None, hours,
          "活动考勤结算")
    uow.emit("entry.confirmed", _confirmed_event(entry))


# ---- the organiser --------------------------------------------------------------------------

def confirm(store: Store, registration, actor: dict, entry_id: int, payload: dict) -> dict:
    actor = load_actor(actor)
    data = load(schemas.ConfirmHours, payload)
    with store.sessionmaker() as session:
        entry = get_entry(session, entry_id)
        community_id, member = entry.community_id, volunteer_facts(session, entry.member_id)
    # remote lookups outside the transaction
    place, names = place_of(registration, community_id), names_of(registration, [community_id])
    secretary = secretary_of(registration, community_id, member)
    with store.uow() as uow:
        session = uow.session
        entry = get_entry(session, entry_id, lock=True)
        domain.check_can_confirm(actor, entry.community_id, place, volunteer_facts(session, entry.member_id),
                                 secretary)
        previous = entry.confirmed_hours
        hours, action = domain.confirm_hours(entry.status, entry.stated_hours, previous, data["hours"],
                                             data["reason"])
        before = previous if entry.status == domain.CONFIRMED else entry.stated_hours
        entry.status, entry.confirmed_hours = domain.CONFIRMED, hours
        entry.confirmed_by, entry.confirmed_role, entry.confirmed_at = actor["user_id"], actor["role"], utcnow()
        audit(session, entry, actor, action, before, hours, data["reason"])
        uow.emit("entry.confirmed", _confirmed_event(entry, previous))
        session.flush()
        view = _entry_view(session, entry, names)
        uow.commit()
    return view


def _entry_view(session, entry: Entry, names: dict) -> dict:
    audits = {entry.id: list(session.scalars(select(HoursAudit).where(HoursAudit.entry_id == entry.id)
                                             .order_by(HoursAudit.id)))}
    member = session.get(Volunteer, entry.member_id)
    return entry_views([entry], names, {entry.member_id: member.name if member else ""}, audits)[0]


def get(store: Store, registration, actor: dict, entry_id: int) -> dict:
    actor = load_actor(actor)
    with store.sessionmaker() as session:
        entry = get_entry(session, entry_id)
        community_id = entry.community_id
        member = volunteer_facts(session, entry.member_id) or {"member_id": entry.member_id}
    place, secretary = place_of(registration, community_id), secretary_of(registration, community_id, member)
    with store.uow() as uow:
        session = uow.session
        entry = get_entry(session, entry_id)
        domain.check_can_confirm(actor, entry.community_id, place, member, secretary, action="records.records_entry")
        return _entry_view(session, entry, names_of(registration, [community_id]))


def queue(store: Store, registration, actor: dict, query: dict) -> list[dict]:
    """待确认: entries whose hours the caller may confirm, oldest first."""
    actor = load_actor(actor)
    q = load(schemas.QueueQuery, query)
    stmt = select(Entry).where(Entry.status == domain.STATED)
    if actor["role"] in domain.STAFF or actor["role"] == "system":
        community_id = q["community_id"] or actor.get("community_id")
        if community_id is None:
            raise Forbidden(code="COMMUNITY_REQUIRED", message="请指明要查看哪个社区的待确认记录（community_id）")
        if not domain.can_manage_community(actor, community_id, place_of(registration, community_id)):
            raise Forbidden(code="OUT_OF_SCOPE", message="该社区不在您的管辖范围内")
        stmt = stmt.where(Entry.community_id == community_id)
    elif actor["role"] in ("member", "grid_leader") and actor.get("community_id") is not None:
        led = [b["id"] for b in registration.list_e_branches(actor["community_id"])
               if b.get("secretary_id") == actor["user_id"]]
        if not led:
            raise Forbidden(code="NOT_ORGANISER", message="只有社区工作人员或e支部书记可以确认时长")
        stmt = stmt.where(Entry.community_id == actor["community_id"], Entry.member_id.in_(
            select(Volunteer.member_id).where(Volunteer.e_branch_id.in_(led))), Entry.member_id != actor["user_id"])
    else:
        raise Forbidden(code="NOT_ORGANISER", message="只有社区工作人员或e支部书记可以确认时长")
    with store.uow() as uow:
        session = uow.session
        entries = session.scalars(stmt.order_by(Entry.served_at, Entry.id).limit(q["limit"])).all()
        members = dict(session.execute(select(Volunteer.member_id, Volunteer.name).where(
            Volunteer.member_id.in_({e.member_id for e in entries}))).all()) if entries else {}
        audits = defaultdict(list)
        if entries:
            for a in session.scalars(select(HoursAudit).where(HoursAudit.entry_id.in_([e.id for e in entries]))
                                     .order_by(HoursAudit.id)):
                audits[a.entry_id].append(a)
        # read-only transaction: the place lookups (cached) do not hold a write lock
        return entry_views(entries, names_of(registration, [e.community_id for e in entries]), members, audits)


__all__ = ["SYSTEM", "confirm", "get", "on_activity_attended", "on_request_completed", "on_wish_fulfilled", "queue"]
