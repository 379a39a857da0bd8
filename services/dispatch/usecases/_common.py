"""Helpers shared by dispatch's use-case modules: the system actor, place lookups, request views,
recording a request's history and scheduling its deadlines, and the transitions of wishes and opinions.
"""

import threading
from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, select

import authz
from common import timers
from common.db import utcnow
from common.errors import Forbidden, NotFound
from services.dispatch import domain, schemas
from services.dispatch.models import Assignment, Base, CommunityPolicy, HistoryEntry, MenuItem, Request, Transition

SYSTEM = {"user_id": None, "role": "system"}
REQUEST_TIMERS = ("open_to_all", "claim_deadline", "claim_reminder", "service_deadline",
                  "service_reminder", "confirm_deadline")


# ---- places (cached: the tree above a community does not move under a running service) ----

_PLACES: dict[int, dict] = {}
_PLACES_LOCK = threading.Lock()


def place_of(registration, community_id: int) -> dict:
    place = _PLACES.get(community_id)
    if place is None:
        place = registration.get_place(community_id)
        with _PLACES_LOCK:
            _PLACES[community_id] = place
    return place


def area_communities(registration, actor: dict, action: str) -> list[int] | None:
    """For a list: the communities the actor's scope covers under ``action`` (None = all; a resident's
    or member's own rows are filtered by the caller). Streets and districts via registration's tree."""
    scope = authz.list_filter(actor, action)
    if scope is None:
        return None
    if "community_id" in scope:
        return [scope["community_id"]]
    for key in ("street_id", "district_id"):
        if key in scope:
            return registration.communities_within(scope[key])
    return []


def place_facts(registration, community_id: int, **more) -> dict:
    place = place_of(registration, community_id) or {}
    return authz.facts(community_id=community_id, street_id=place.get("street_id"),
                       district_id=place.get("district_id"), **more)


# ---- views -------------------------------------------------------------------------------

def _place(request: Request) -> domain.Place:
    return domain.Place(community_id=request.community_id, street_id=request.street_id,
                        district_id=request.district_id, grid_id=request.grid_id, level=request.level)


def _assignments(session, request_ids: list[int]) -> dict[int, list]:
    """Each request's assignments as rows (``member_id``, ``status``; read only, no ORM objects)."""
    found: dict[int, list] = {rid: [] for rid in request_ids}
    if request_ids:
        for a in session.execute(_ASSIGNMENTS, {"ids": list(request_ids)}):
            found[a.request_id].append(a)
    return found


def _members(assignments: list[Assignment], *statuses: str) -> list[int]:
    return [a.member_id for a in assignments if a.status in statuses]


def _history_rows(rows) -> list[dict]:
    return [{"at": h.at, "actor_id": h.actor_id, "actor_role": h.actor_role, "action": h.action,
             "action_label": domain.ACTION_LABELS.get(h.action, h.action), "from_state": h.from_state,
             "to_state": h.to_state, "reason": h.reason} for h in rows]


def _views(session, requests: list[Request], actor: dict, *, history=True) -> list[dict]:
    """Requests as the caller may see them, in three queries whatever their number."""
    ids = [r.id for r in requests]
    assignments = _assignments(session, ids)
    histories: dict[int, list] = {rid: [] for rid in ids}
    if history and ids:
        for h in session.execute(_HISTORIES, {"ids": ids}):
            histories[h.request_id].append(h)
    menu = {i.id: i for i in session.execute(_MENU_ITEMS, {"ids": list({r.menu_item_id for r in requests})})
            } if requests else {}
    items = {item_id: item.fields for item_id, item in menu.items()}
    views = []
    for r in requests:
        mine = assignments[r.id]
        claimed = _members(mine, "claimed")
        # the person's phone: full to the resident, their community's staff and the members who claimed it
        subject = authz.facts(owner_ids=[r.resident_id], assigned_ids=claimed, community_id=r.community_id)
        phone = authz.shown_phone(actor, r.caller_phone, subject)
        contact = r.contact_phone or r.caller_phone
        shown_contact = authz.shown_phone(actor, contact, subject)
        masked = bool(contact) and shown_contact != contact
        my_status = next((a.status for a in mine if a.member_id == actor.get("user_id")), None)
        view = {**{c.key: getattr(r, c.key) for c in Request.__table__.columns},
                "caller_phone": phone, "state_label": domain.STATE_LABELS[r.state],
                "contact_name": r.contact_name or r.caller_name,
                "contact_phone": shown_contact, "contact_masked": masked,
                "answer_items": domain.answer_items(items.get(r.menu_item_id, []), r.answers or {}),
                "my_actions": domain.available_actions(
                    actor, r.state, resident_id=r.resident_id, my_status=my_status, open_to_all=r.open_to_all,
                    same_community=actor.get("community_id") == r.community_id),
                "offered_to": _members(mine, "offered") + claimed, "claimed_by": claimed,
                "work_unit_ids": list(r.work_unit_ids or []), "hours_bounds": _hour_bounds(menu.get(r.menu_item_id))}
        if history:
            view["history"] = _history_rows(histories[r.id])
        views.append(view)
    return (_WITH_HISTORY if history else _WITHOUT_HISTORY).dump(views)


# built once (a hot path: every command answers with a view); schemas keep no per-call state
_WITH_HISTORY, _WITHOUT_HISTORY = schemas.Request(many=True), schemas.Request(many=True, exclude=("history",))


def _hour_bounds(item) -> dict:
    """``item``: a menu item or its row."""
    if item is None:
        return domain.hour_bounds(None, 0.5, 8.0, 60)
    return domain.hour_bounds(item.default_hours, item.min_hours, item.max_hours, item.expected_minutes)


def _view(session, request: Request, actor: dict) -> dict:
    session.flush()
    return _views(session, [request], actor)[0]


# ---- recording ---------------------------------------------------------------------------

def _get(session, request_id: int, *, lock=False) -> Request:
    request = session.scalar(_GET_LOCKED if lock else _GET, {"request_id": request_id})
    if request is None:
        raise NotFound(code="REQUEST_NOT_FOUND", message="找不到该服务请求")
    return request


def _record(session, request: Request, actor: dict, action: str, from_state, reason=""):
    now = utcnow()
    session.add(HistoryEntry(request_id=request.id, actor_id=actor.get("user_id"),
                             actor_role=actor["role"], action=action, from_state=from_state,
                             to_state=request.state, reason=reason or "", at=now))
    request.updated_at = now


def _move(session, request: Request, actor: dict, action: str, reason="", to=None):
    before = request.state
    request.state = to or domain.next_state(before, action)
    _record(session, request, actor, action, before, reason)


def _event_data(request: Request, reason="") -> dict:
    return {"request_id": request.id, "community_id": request.community_id,
            "resident_id": request.resident_id, "menu_item_id": request.menu_item_id,
            "title": request.title, "state": request.state, "street_id": request.street_id,
            "grid_id": request.grid_id, "reason": reason or ""}


def _org_at(request: Request, level: str):
    return {"grid": request.grid_id, "community": request.community_id, "street": request.street_id,
            "district": request.district_id}[level]


def _clear_timers(uow, request_id: int, *kinds):
    """Cancel a request's pending timers of these kinds (all by default) in one statement."""
    uow.session.execute(_CLEAR_TIMERS, {"kinds": list(kinds or REQUEST_TIMERS), "ref": str(request_id)})


# the hot statements of every command, built once (building costs SQLAlchemy more than running them)
_TIMERS = Base.metadata.tables["timers"]
_CLEAR_TIMERS = delete(_TIMERS).where(_TIMERS.c.kind.in_(bindparam("kinds", expanding=True)),
                                      _TIMERS.c.ref == bindparam("ref"), _TIMERS.c.fired_at.is_(None))
_GET = select(Request).where(Request.id == bindparam("request_id"))
_GET_LOCKED = _GET.with_for_update()
# a view's reads are plain rows: building ORM objects (identity map, state tracking) for what is
# only read costs more than the queries themselves
_ASSIGNMENTS = (select(Assignment.request_id, Assignment.member_id, Assignment.status)
                .where(Assignment.request_id.in_(bindparam("ids", expanding=True))).order_by(Assignment.id))
_HISTORIES = (select(HistoryEntry.__table__).where(HistoryEntry.request_id.in_(bindparam("ids", expanding=True)))
              .order_by(HistoryEntry.id))
_MENU_ITEMS = select(MenuItem.id, MenuItem.fields, MenuItem.default_hours, MenuItem.min_hours, MenuItem.max_hours,
                     MenuItem.expected_minutes).where(MenuItem.id.in_(bindparam("ids", expanding=True)))


def _deadlines(session, request: Request) -> dict:
    item = session.get(MenuItem, request.menu_item_id)
    return domain.deadlines(item.deadline_policy if item else None)


def _schedule_claim(uow, request: Request, policy: dict | None = None):
    """Deadlines of a request waiting for claims: the claim deadline and a reminder before it."""
    d = _deadlines(uow.session, request)
    now = utcnow()
    timers.schedule(uow, "claim_deadline", request.id, domain.due(now, d["claim_minutes"]))
    remind = domain.reminder_at(now, d["claim_minutes"], d["remind_before_minutes"])
    if remind:
        timers.schedule(uow, "claim_reminder", request.id, remind)
    if policy and not request.open_to_all:
        timers.schedule(uow, "open_to_all", request.id, domain.due(now, policy["open_after_minutes"]))


def _schedule_service(uow, request: Request):
    _clear_timers(uow, request.id, "open_to_all", "claim_deadline", "claim_reminder")
    d = _deadlines(uow.session, request)
    now = utcnow()
    timers.schedule(uow, "service_deadline", request.id, domain.due(now, d["service_minutes"]))
    remind = domain.reminder_at(now, d["service_minutes"], d["remind_before_minutes"])
    if remind:
        timers.schedule(uow, "service_reminder", request.id, remind)


def _policy(session, community_id: int) -> dict:
    row = session.get(CommunityPolicy, community_id)
    if row is None:
        return dict(domain.DEFAULT_POLICY)
    return {"auto_accept": row.auto_accept, "offer_top_k": row.offer_top_k,
            "open_after_minutes": row.open_after_minutes}


# ---- scope of staff over a community ----------------------------------------------------

def _check_staff_place(actor: dict, place: dict):
    """Staff reach a community through registration's place (its street and district)."""
    if actor["role"] == "system":
        return
    if actor["role"] not in ("community_staff", "street_staff", "district_staff"):
        raise Forbidden(message="只有社区、街道或区县工作人员可以进行此操作")
    if not domain.in_scope(actor, domain.Place(community_id=place["id"], street_id=place.get("street_id"),
                                               district_id=place.get("district_id"))):
        raise Forbidden(code="OUT_OF_SCOPE", message="该社区不在您的管辖范围内")


# ---- transitions of wishes and opinions -------------------------------------------------

def _transition(session, subject: str, subject_id: int, actor: dict, action: str, before, after, reason=""):
    session.add(Transition(subject=subject, subject_id=subject_id, actor_id=actor.get("user_id"),
                           actor_role=actor["role"], action=action, from_state=before, to_state=after,
                           reason=reason or "", at=utcnow()))


def _subject_history(session, subject: str, subject_id: int) -> list[dict]:
    rows = session.scalars(select(Transition).where(Transition.subject == subject,
                                                    Transition.subject_id == subject_id).order_by(Transition.id))
    return _history_rows(rows)


# ---- time ------------------------------------------------------------------------------

def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _name_actors(registration, history: list[dict]):
    """Who acted, by name (the timeline reads 张三, not 居民 #6); an unknown account stays unnamed,
    and so does everyone when no registration proxy is given."""
    if registration is None:
        return
    ids = sorted({e["actor_id"] for e in history if e.get("actor_id")})
    names = registration.names({"users": ids}).get("users", {}) if ids else {}
    for e in history:
        e["actor_name"] = names.get(str(e.get("actor_id")))
