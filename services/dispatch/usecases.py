"""Dispatch's use cases: each loads input, applies the domain rules, records history, emits.

Commands on a request share one shape (``_command``): load the actor, replay an idempotency key,
open a unit of work, lock the request, act, record the transition, emit, save the key with the
result, commit. Remote calls (registration) happen before the unit of work opens.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, func, select, update

from common import timers
from common.actors import Actor
from common.db import IntegrityError, Store, UnitOfWork, utcnow
from common.errors import Conflict, Forbidden, NotFound, Unprocessable, ValidationFailed
from common.schemas import load
from services.dispatch import domain, schemas
from services.dispatch.models import (
    Assignment,
    Base,
    CommunityPolicy,
    HistoryEntry,
    IdempotencyKey,
    MenuItem,
    Opinion,
    Request,
    Transition,
    Wish,
)

SYSTEM = {"user_id": None, "role": "system"}
CANDIDATE_POOL = 50  # candidates fetched from registration before our own ranking
REQUEST_TIMERS = ("open_to_all", "claim_deadline", "claim_reminder", "service_deadline",
                  "service_reminder", "confirm_deadline")


# ---- idempotency -------------------------------------------------------------------------

@dataclass
class Idem:
    """A command's Idempotency-Key, scoped to its caller."""

    scope: str
    key: str | None
    command: str

    @classmethod
    def of(cls, actor: dict, command: str, key: str | None) -> "Idem":
        return cls(f"{actor['role']}:{actor.get('user_id')}", (key or "").strip()[:100] or None, command)

    def replay(self, store: Store) -> dict | list | None:
        if not self.key:
            return None
        with store.sessionmaker() as session:
            row = session.scalar(select(IdempotencyKey).where(
                IdempotencyKey.scope == self.scope, IdempotencyKey.key == self.key))
        if row is None:
            return None
        if row.command != self.command:
            raise Conflict(code="IDEMPOTENCY_KEY_REUSED",
                           message="该幂等键已用于另一项操作，请为新的操作换一个键",
                           details={"command": row.command})
        return row.result

    def save(self, uow: UnitOfWork, result):
        if self.key:
            uow.session.add(IdempotencyKey(scope=self.scope, key=self.key, command=self.command,
                                           result=result, created_at=utcnow()))


def idempotent(store: Store, idem: Idem, fn: Callable[[], dict]):
    """Run ``fn`` once per key: a retry returns the stored first result; a concurrent duplicate
    loses on the key's unique constraint, rolls back, and returns the winner's result."""
    done = idem.replay(store)
    if done is not None:
        return done
    try:
        return fn()
    except IntegrityError:
        done = idem.replay(store)
        if done is not None:
            return done
        # a concurrent twin of this command (e.g. the same member claiming twice at once) won
        raise Conflict(code="CONCURRENT_UPDATE", message="该记录刚被同时修改，请刷新后重试") from None


def finish(uow: UnitOfWork, idem: Idem, result):
    idem.save(uow, result)
    uow.commit()
    return result


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


# ---- views -------------------------------------------------------------------------------

def _place(request: Request) -> domain.Place:
    return domain.Place(community_id=request.community_id, street_id=request.street_id,
                        district_id=request.district_id, grid_id=request.grid_id, level=request.level)


def _assignments(session, request_ids: list[int]) -> dict[int, list[Assignment]]:
    found: dict[int, list[Assignment]] = {rid: [] for rid in request_ids}
    if request_ids:
        for a in session.scalars(select(Assignment).where(Assignment.request_id.in_(request_ids))
                                 .order_by(Assignment.id)):
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
        for h in session.scalars(select(HistoryEntry).where(HistoryEntry.request_id.in_(ids))
                                 .order_by(HistoryEntry.id)):
            histories[h.request_id].append(h)
    views = []
    for r in requests:
        mine = assignments[r.id]
        claimed = _members(mine, "claimed")
        phone = r.caller_phone
        if phone and not domain.can_see_caller_phone(actor, _place(r)):
            phone = domain.mask_phone(phone)
        view = {**{c.key: getattr(r, c.key) for c in Request.__table__.columns},
                "caller_phone": phone, "state_label": domain.STATE_LABELS[r.state],
                "offered_to": _members(mine, "offered") + claimed, "claimed_by": claimed,
                "work_unit_ids": list(r.work_unit_ids or [])}
        if history:
            view["history"] = _history_rows(histories[r.id])
        views.append(view)
    schema = schemas.Request(many=True) if history else schemas.Request(many=True, exclude=("history",))
    return schema.dump(views)


def _view(session, request: Request, actor: dict) -> dict:
    session.flush()
    return _views(session, [request], actor)[0]


# ---- recording ---------------------------------------------------------------------------

def _get(session, request_id: int, *, lock=False) -> Request:
    query = select(Request).where(Request.id == request_id)
    if lock:
        query = query.with_for_update()
    request = session.scalar(query)
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
    table = Base.metadata.tables["timers"]
    uow.session.execute(delete(table).where(table.c.kind.in_(kinds or REQUEST_TIMERS),
                                            table.c.ref == str(request_id), table.c.fired_at.is_(None)))


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


# ---- menus, needs and policy -------------------------------------------------------------

def _check_staff_place(actor: dict, place: dict):
    """Staff reach a community through registration's place (its street and district)."""
    if actor["role"] == "system":
        return
    if actor["role"] not in ("community_staff", "street_staff", "district_staff"):
        raise Forbidden(message="只有社区、街道或区县工作人员可以进行此操作")
    if not domain.in_scope(actor, domain.Place(community_id=place["id"], street_id=place.get("street_id"),
                                               district_id=place.get("district_id"))):
        raise Forbidden(code="OUT_OF_SCOPE", message="该社区不在您的管辖范围内")


def list_menu(store: Store, community_id: int) -> list[dict]:
    with store.sessionmaker() as session:
        items = session.scalars(
            select(MenuItem).where(MenuItem.community_id == community_id, MenuItem.active,
                                   MenuItem.kind == "menu").order_by(MenuItem.id)
        ).all()
        return schemas.MenuItem(many=True).dump(items)


def _item_values(data: dict) -> dict:
    values = dict(data)
    if "field_definitions" in values:
        values["fields"] = domain.validate_definitions(values.pop("field_definitions"))
    if "deadline_policy" in values:
        values["deadline_policy"] = {k: v for k, v in values["deadline_policy"].items() if v is not None}
    return values


def create_menu_item(store: Store, registration, actor: dict, community_id: int, payload: dict,
                     idempotency_key=None) -> dict:
    actor = load(Actor(), actor)
    data = _item_values(load(schemas.MenuItemInput(), payload))
    _check_staff_place(actor, place_of(registration, community_id))
    idem = Idem.of(actor, "create_menu_item", idempotency_key)

    def run():
        with store.uow() as uow:
            item = MenuItem(community_id=community_id, kind="menu", **data)
            uow.session.add(item)
            uow.session.flush()
            return finish(uow, idem, schemas.MenuItem().dump(item))

    return idempotent(store, idem, run)


def update_menu_item(store: Store, registration, actor: dict, menu_item_id: int, payload: dict,
                     idempotency_key=None) -> dict:
    actor = load(Actor(), actor)
    data = _item_values(load(schemas.MenuItemPatch(), payload))
    with store.sessionmaker() as session:
        item = session.get(MenuItem, menu_item_id)
        if item is None:
            raise NotFound(code="MENU_ITEM_NOT_FOUND", message="服务菜单中没有这一项")
        community_id = item.community_id
    _check_staff_place(actor, place_of(registration, community_id))
    idem = Idem.of(actor, "update_menu_item", idempotency_key)

    def run():
        with store.uow() as uow:
            item = uow.session.get(MenuItem, menu_item_id)
            for key, value in data.items():
                setattr(item, key, value)
            uow.session.flush()
            return finish(uow, idem, schemas.MenuItem().dump(item))

    return idempotent(store, idem, run)


def get_policy(store: Store, community_id: int) -> dict:
    with store.sessionmaker() as session:
        return schemas.PolicyView().dump({"community_id": community_id, **_policy(session, community_id)})


def set_policy(store: Store, registration, actor: dict, community_id: int, payload: dict,
               idempotency_key=None) -> dict:
    actor = load(Actor(), actor)
    data = load(schemas.Policy(), payload)
    _check_staff_place(actor, place_of(registration, community_id))
    idem = Idem.of(actor, "set_policy", idempotency_key)

    def run():
        with store.uow() as uow:
            row = uow.session.get(CommunityPolicy, community_id)
            if row is None:
                row = CommunityPolicy(community_id=community_id)
                uow.session.add(row)
            for key, value in data.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            return finish(uow, idem, schemas.PolicyView().dump({"community_id": community_id, **data}))

    return idempotent(store, idem, run)


# ---- matching ----------------------------------------------------------------------------

def member_stats(session, member_ids: list[int]) -> dict[int, dict]:
    """Open load and last service of each member, from dispatch's own tables (two queries)."""
    if not member_ids:
        return {}
    stats = {m: {"open_load": 0, "last_served_at": None} for m in member_ids}
    open_rows = session.execute(
        select(Assignment.member_id, func.count())
        .join(Request, Request.id == Assignment.request_id)
        .where(Assignment.member_id.in_(member_ids), Assignment.status == "claimed",
               Request.state.in_((domain.DISPATCHED, domain.CLAIMED, domain.IN_SERVICE)))
        .group_by(Assignment.member_id))
    for member_id, count in open_rows:
        stats[member_id]["open_load"] = count
    last_rows = session.execute(
        select(Assignment.member_id, func.max(Request.completed_at))
        .join(Request, Request.id == Assignment.request_id)
        .where(Assignment.member_id.in_(member_ids), Assignment.status == "claimed",
               Request.completed_at.is_not(None))
        .group_by(Assignment.member_id))
    for member_id, last in last_rows:
        if last is not None and last.tzinfo is None:  # SQLite gives naive UTC back
            last = last.replace(tzinfo=UTC)
        stats[member_id]["last_served_at"] = last
    return stats


def _find_ranked(store: Store, registration, community_id: int, skills: list, grid_id, building_id,
                 at=None, limit: int = CANDIDATE_POOL) -> list[dict]:
    query = {"community_id": community_id, "skills": list(skills or []), "limit": limit}
    for key, value in (("grid_id", grid_id), ("building_id", building_id), ("at", at)):
        if value:
            query[key] = value
    candidates = registration.find_candidates(query)
    with store.sessionmaker() as session:
        stats = member_stats(session, [c["member_id"] for c in candidates])
    return domain.rank_candidates(candidates, grid_id=grid_id, building_id=building_id, stats=stats,
                                  now=utcnow())


def candidates(store: Store, registration, actor: dict, request_id: int, limit: int = 20) -> list[dict]:
    """Ranked candidates for a request, with the reasons for each rank, for dispatching staff."""
    actor = load(Actor(), actor)
    with store.sessionmaker() as session:
        request = _get(session, request_id)
        domain.check_can_manage(actor, _place(request))
        item = session.get(MenuItem, request.menu_item_id)
        ctx = (request.community_id, list(item.skills or []), request.grid_id, request.building_id,
               domain.service_time(item.fields or [], request.answers or {}))
        taken = {a.member_id for a in session.scalars(select(Assignment).where(
            Assignment.request_id == request_id, Assignment.status == "claimed"))}
    ranked = [c for c in _find_ranked(store, registration, *ctx) if c["member_id"] not in taken]
    return schemas.Candidate(many=True).dump(ranked[:limit])


# ---- submitting --------------------------------------------------------------------------

def _offer(uow, request: Request, actor: dict, member_ids, open_to_all: bool, reason: str,
           policy: dict | None):
    """Dispatch: offer to members (and/or open to all), with the claim deadlines."""
    session = uow.session
    existing = {a.member_id: a for a in session.scalars(
        select(Assignment).where(Assignment.request_id == request.id))}
    new_ids = []
    for member_id in member_ids:
        a = existing.get(member_id)
        if a is None:
            session.add(Assignment(request_id=request.id, member_id=member_id, status="offered"))
            new_ids.append(member_id)
        elif a.status in ("declined", "handed_back", "removed"):
            a.status, a.updated_at = "offered", utcnow()
            new_ids.append(member_id)
    request.open_to_all = bool(open_to_all or request.open_to_all or not (new_ids or existing))
    _move(session, request, actor, "dispatch", reason)
    _schedule_claim(uow, request, policy)
    uow.emit("request.offered", {**_event_data(request, reason), "member_ids": new_ids,
                                 "open_to_all": request.open_to_all})


def _auto_dispatch(uow, request: Request, ranked: list[dict], policy: dict):
    offer = domain.choose_offer(ranked, policy["offer_top_k"])
    reason = (f"按匹配度派给前{len(offer.member_ids)}名党员" if offer.member_ids
              else "无匹配党员，开放给全社区党员认领")
    _offer(uow, request, SYSTEM, offer.member_ids, not offer.member_ids, reason, policy)


def submit_request(store: Store, registration, actor: dict, payload: dict, idempotency_key=None) -> dict:
    """A resident orders from the menu; community staff or a hotline (system) may order for a
    caller without an account. The branch accepts and offers it to the best matches at once
    unless the community's policy has staff accept by hand."""
    actor = load(Actor(), actor)
    data = load(schemas.SubmitRequest(), payload)
    role = actor["role"]
    if role not in ("resident", "community_staff", "system"):
        raise Forbidden(message="只有居民本人、社区工作人员或热线系统可以点单")
    caller = data["caller"]
    if role == "resident" and caller:
        raise ValidationFailed(fields={"caller": ["居民本人点单无需填写来电人"]})
    if role != "resident" and not caller:
        raise ValidationFailed(fields={"caller": ["代群众点单时请填写来电人姓名和电话"]})
    idem = Idem.of(actor, "submit_request", idempotency_key)
    done = idem.replay(store)
    if done is not None:
        return done
    with store.sessionmaker() as session:
        item = session.get(MenuItem, data["menu_item_id"])
        if item is None or not item.active or item.kind != "menu":
            raise NotFound(code="MENU_ITEM_NOT_FOUND", message="服务菜单中没有这一项",
                           fields={"menu_item_id": ["不存在或已下架"]})
        if data["community_id"] and data["community_id"] != item.community_id:
            raise ValidationFailed(code="MENU_ITEM_NOT_IN_COMMUNITY", message="该服务项目不属于所选社区",
                                   fields={"menu_item_id": ["不属于该社区"]})
        if role == "resident" and item.community_id != actor["community_id"]:
            raise Forbidden(message="只能向自己所在社区点单")
        answers = domain.validate_fields(item.fields or [], data["answers"])
        item_view = {"id": item.id, "community_id": item.community_id, "skills": list(item.skills or []),
                     "title": item.title, "members_needed": item.members_needed,
                     "at": domain.service_time(item.fields or [], answers)}
        policy = _policy(session, item.community_id)
    # remote calls happen outside any open transaction
    place = place_of(registration, item_view["community_id"])
    if role == "community_staff":
        _check_staff_place(actor, place)
    grid_id = actor.get("grid_id") if role == "resident" else None
    building_id = actor.get("building_id") if role == "resident" else None
    ranked = []
    if policy["auto_accept"]:
        ranked = _find_ranked(store, registration, item_view["community_id"], item_view["skills"],
                              grid_id, building_id, item_view["at"])

    def run():
        with store.uow() as uow:
            session = uow.session
            request = Request(
                community_id=item_view["community_id"], street_id=place.get("street_id"),
                district_id=place.get("district_id"), grid_id=grid_id, building_id=building_id,
                resident_id=actor["user_id"] if role == "resident" else None,
                source={"resident": "resident", "community_staff": "staff", "system": "hotline"}[role],
                caller_name=caller["name"] if caller else None, caller_phone=caller["phone"] if caller else None,
                menu_item_id=item_view["id"], title=item_view["title"], description=data["description"],
                answers=answers, state=domain.SUBMITTED, level=domain.initial_level(grid_id),
                members_needed=item_view["members_needed"], open_to_all=False, work_unit_ids=[])
            session.add(request)
            session.flush()
            _record(session, request, actor, "submit", None,
                    f"代来电群众{caller['name']}点单" if caller else "")
            uow.emit("request.submitted", _event_data(request))
            if policy["auto_accept"]:
                _move(session, request, SYSTEM, "accept", "社区自动受理")
                uow.emit("request.accepted", _event_data(request))
                _auto_dispatch(uow, request, ranked, policy)
            return finish(uow, idem, _view(session, request, actor))

    return idempotent(store, idem, run)


def post_need(store: Store, registration, actor: dict, community_id: int, payload: dict,
              idempotency_key=None) -> dict:
    """The community's own need (服务清单): open to every member of the community to claim."""
    actor = load(Actor(), actor)
    data = _item_values(load(schemas.PostNeed(), payload))
    place = place_of(registration, community_id)
    _check_staff_place(actor, place)
    idem = Idem.of(actor, "post_need", idempotency_key)

    def run():
        with store.uow() as uow:
            session = uow.session
            item = MenuItem(community_id=community_id, kind="need", **data)
            session.add(item)
            session.flush()
            request = Request(community_id=community_id, street_id=place.get("street_id"),
                              district_id=place.get("district_id"), resident_id=None, source="need",
                              menu_item_id=item.id, title=item.title, description=item.description,
                              answers={}, state=domain.SUBMITTED, level="community",
                              members_needed=item.members_needed, open_to_all=True, work_unit_ids=[])
            session.add(request)
            session.flush()
            _record(session, request, actor, "submit", None, "社区发布需求清单")
            uow.emit("request.submitted", _event_data(request))
            _move(session, request, actor, "accept")
            uow.emit("request.accepted", _event_data(request))
            _offer(uow, request, actor, (), True, "社区需求，党员主动认领", None)
            return finish(uow, idem, _view(session, request, actor))

    return idempotent(store, idem, run)


def list_needs(store: Store, actor: dict, community_id: int) -> list[dict]:
    actor = load(Actor(), actor)
    with store.sessionmaker() as session:
        rows = session.scalars(select(Request).where(
            Request.community_id == community_id, Request.source == "need",
            Request.state.in_((domain.DISPATCHED, domain.CLAIMED, domain.IN_SERVICE)))
            .order_by(Request.id.desc()).limit(200)).all()
        return _views(session, rows, actor, history=False)


# ---- reading -----------------------------------------------------------------------------

def _check_can_view(session, actor: dict, request: Request):
    role = actor["role"]
    if role == "resident":
        domain.check_is_requester(actor, request.resident_id)
    elif role == "member" or (role == "grid_leader" and not domain.in_scope(actor, _place(request))):
        involved = session.scalar(select(Assignment.id).where(
            Assignment.request_id == request.id, Assignment.member_id == actor["user_id"]))
        if not involved and not (request.open_to_all and actor.get("community_id") == request.community_id):
            raise Forbidden(message="您不能查看该服务请求")
    elif role == "unit_org":
        if actor.get("work_unit_id") not in (request.work_unit_ids or []):
            raise Forbidden(message="该服务请求没有交办给您的单位")
    elif not domain.in_scope(actor, _place(request)):
        raise Forbidden(code="OUT_OF_SCOPE", message="该服务请求不在您的管辖范围内")


def get_request(store: Store, actor: dict, request_id: int) -> dict:
    actor = load(Actor(), actor)
    with store.sessionmaker() as session:
        request = _get(session, request_id)
        _check_can_view(session, actor, request)
        return _views(session, [request], actor)[0]


def timeline(store: Store, actor: dict, request_id: int) -> list[dict]:
    return get_request(store, actor, request_id)["history"]


def list_my_requests(store: Store, actor: dict) -> list[dict]:
    actor = load(Actor(), actor)
    with store.sessionmaker() as session:
        role = actor["role"]
        if role == "resident":
            query = select(Request).where(Request.resident_id == actor["user_id"])
        elif role in ("member", "grid_leader"):
            mine = select(Assignment.request_id).where(Assignment.member_id == actor["user_id"],
                                                       Assignment.status.in_(("offered", "claimed")))
            query = select(Request).where(Request.id.in_(mine))
        elif role == "unit_org":
            return []
        else:
            query = select(Request).where(Request.community_id == actor.get("community_id"))
        requests = session.scalars(query.order_by(Request.id.desc()).limit(100)).all()
        return _views(session, requests, actor)


def search_requests(store: Store, actor: dict, query: dict) -> list[dict]:
    """Staff and systems (the hotline bridge) search requests in their part of the tree."""
    actor = load(Actor(), actor)
    q = load(schemas.SearchQuery(), query)
    role = actor["role"]
    stmt = select(Request)
    if role == "system":
        pass
    elif role in ("community_staff", "grid_leader"):
        stmt = stmt.where(Request.community_id == actor.get("community_id"))
    elif role == "street_staff":
        stmt = stmt.where(Request.street_id == actor.get("street_id"))
    elif role == "district_staff":
        stmt = stmt.where(Request.district_id == actor.get("district_id"))
    else:
        raise Forbidden(message="只有工作人员可以查询服务请求")
    if q["community_id"]:
        stmt = stmt.where(Request.community_id == q["community_id"])
    if q["states"]:
        stmt = stmt.where(Request.state.in_(q["states"]))
    if q["level"]:
        stmt = stmt.where(Request.level == q["level"])
    if q["updated_after"]:
        stmt = stmt.where(Request.updated_at > q["updated_after"])
    if q["updated_before"]:
        stmt = stmt.where(Request.updated_at < q["updated_before"])
    with store.sessionmaker() as session:
        rows = session.scalars(stmt.order_by(Request.updated_at.desc(), Request.id.desc())
                               .limit(q["limit"])).all()
        return _views(session, rows, actor, history=False)


def escalation_queue(store: Store, actor: dict) -> list[dict]:
    """What waits at the caller's level: the street's or the district's queue (统筹)."""
    actor = load(Actor(), actor)
    role = actor["role"]
    open_states = (domain.ACCEPTED, domain.DISPATCHED, domain.CLAIMED, domain.IN_SERVICE)
    stmt = select(Request).where(Request.state.in_(open_states))
    if role == "street_staff":
        stmt = stmt.where(Request.street_id == actor.get("street_id"), Request.level == "street")
    elif role == "district_staff":
        stmt = stmt.where(Request.district_id == actor.get("district_id"), Request.level == "district")
    elif role == "community_staff":
        stmt = stmt.where(Request.community_id == actor.get("community_id"), Request.level == "community")
    elif role == "grid_leader":
        stmt = stmt.where(Request.grid_id == actor.get("grid_id"), Request.level == "grid")
    else:
        raise Forbidden(message="只有工作人员有上报待办队列")
    with store.sessionmaker() as session:
        rows = session.scalars(stmt.order_by(Request.updated_at).limit(200)).all()
        return _views(session, rows, actor, history=False)


# ---- commands on a request ---------------------------------------------------------------

def _command(store: Store, actor: dict, request_id: int, command: str, idempotency_key,
             body: Callable[[UnitOfWork, dict, Request], None]) -> dict:
    actor = load(Actor(), actor)
    idem = Idem.of(actor, f"{command}:{request_id}", idempotency_key)

    def run():
        with store.uow() as uow:
            request = _get(uow.session, request_id, lock=True)
            body(uow, actor, request)
            return finish(uow, idem, _view(uow.session, request, actor))

    return idempotent(store, idem, run)


def _claimed(session, request_id: int) -> list[int]:
    return list(session.scalars(select(Assignment.member_id).where(
        Assignment.request_id == request_id, Assignment.status == "claimed").order_by(Assignment.id)))


def _assignment(session, request_id: int, member_id: int) -> Assignment | None:
    return session.scalar(select(Assignment).where(Assignment.request_id == request_id,
                                                   Assignment.member_id == member_id))


def accept(store: Store, registration, actor: dict, request_id: int, payload=None, idempotency_key=None):
    """受理 by staff; the request is then offered by the community's policy at once."""
    data = load(schemas.Transition(), payload or {})
    actor_l = load(Actor(), actor)
    with store.sessionmaker() as session:
        request = _get(session, request_id)
        domain.check_can_manage(actor_l, _place(request))
        domain.next_state(request.state, "accept")
        item = session.get(MenuItem, request.menu_item_id)
        ctx = (request.community_id, list(item.skills or []), request.grid_id, request.building_id,
               domain.service_time(item.fields or [], request.answers or {}))
        policy = _policy(session, request.community_id)
    ranked = _find_ranked(store, registration, *ctx)

    def body(uow, actor, request):
        domain.check_can_manage(actor, _place(request))
        _move(uow.session, request, actor, "accept", data["reason"])
        uow.emit("request.accepted", _event_data(request, data["reason"]))
        _auto_dispatch(uow, request, ranked, policy)

    return _command(store, actor, request_id, "accept", idempotency_key, body)


def reject(store: Store, actor: dict, request_id: int, payload, idempotency_key=None):
    data = load(schemas.ReasonRequired(), payload)

    def body(uow, actor, request):
        domain.check_can_manage(actor, _place(request))
        _move(uow.session, request, actor, "reject", data["reason"])
        _clear_timers(uow, request.id)
        uow.emit("request.rejected", _event_data(request, data["reason"]))

    return _command(store, actor, request_id, "reject", idempotency_key, body)


def merge(store: Store, actor: dict, request_id: int, payload, idempotency_key=None):
    data = load(schemas.Merge(), payload)

    def body(uow, actor, request):
        domain.check_can_manage(actor, _place(request))
        original = uow.session.get(Request, data["duplicate_of"])
        if original is None or original.id == request.id or original.community_id != request.community_id:
            raise ValidationFailed(code="INVALID_DUPLICATE", message="要合并到的服务请求不存在或不属于同一社区",
                                   fields={"duplicate_of": ["不存在或不可合并"]})
        if original.state in domain.TERMINAL:
            raise Conflict(code="DUPLICATE_TARGET_CLOSED", details={"current_state": original.state},
                           message="要合并到的服务请求已结束，请直接受理本请求")
        reason = data["reason"] or f"与第{original.id}号请求重复"
        request.duplicate_of = original.id
        _move(uow.session, request, actor, "merge", reason)
        _clear_timers(uow, request.id)
        uow.emit("request.merged", {**_event_data(request, reason), "duplicate_of": original.id})

    return _command(store, actor, request_id, "merge", idempotency_key, body)


def offer(store: Store, actor: dict, request_id: int, payload, idempotency_key=None):
    """支部下单: staff offer to chosen members, or open the request to every member."""
    data = load(schemas.Offer(), payload)

    def body(uow, actor, request):
        domain.check_can_manage(actor, _place(request))
        if not data["member_ids"] and not data["open_to_all"]:
            raise ValidationFailed(fields={"member_ids": ["请选择党员，或选择开放认领"]})
        policy = _policy(uow.session, request.community_id)
        _offer(uow, request, actor, data["member_ids"], data["open_to_all"],
               data["reason"] or "工作人员派单", policy)

    return _command(store, actor, request_id, "offer", idempotency_key, body)


def claim(store: Store, actor: dict, request_id: int, idempotency_key=None) -> dict:
    """接单. A conditional update makes exactly ``members_needed`` claims win under a storm."""
    actor = load(Actor(), actor)
    idem = Idem.of(actor, f"claim:{request_id}", idempotency_key)

    def run():
        with store.uow() as uow:
            session = uow.session
            request = _get(session, request_id)
            mine = _assignment(session, request_id, actor["user_id"])
            if mine is not None and mine.status == "claimed":
                raise domain.invalid_transition(request.state, "ALREADY_CLAIMED", "您已经接过这一单")
            domain.next_state(request.state, "claim")
            offered = {actor["user_id"]} if mine is not None and mine.status == "offered" else set()
            domain.check_can_claim(actor, offered, request.open_to_all,
                                   actor.get("community_id") == request.community_id)
            won = session.execute(
                update(Request)
                .where(Request.id == request_id, Request.state == domain.DISPATCHED,
                       Request.members_claimed < Request.members_needed)
                .values(members_claimed=Request.members_claimed + 1)
            ).rowcount
            if not won:
                session.rollback()
                current = _get(session, request_id).state
                raise domain.invalid_transition(current, "ALREADY_TAKEN", "该服务请求已被其他党员接单")
            session.refresh(request)
            before = request.state
            request.state = domain.state_after_claim(request.members_claimed, request.members_needed)
            if mine is None:
                session.add(Assignment(request_id=request_id, member_id=actor["user_id"], status="claimed"))
            else:
                mine.status, mine.updated_at = "claimed", utcnow()
            _record(session, request, actor, "claim", before,
                    f"已接{request.members_claimed}/需{request.members_needed}人"
                    if request.members_needed > 1 else "")
            if request.state == domain.CLAIMED:
                _schedule_service(uow, request)
            uow.emit("request.claimed", {**_event_data(request), "member_id": actor["user_id"]})
            return finish(uow, idem, _view(session, request, actor))

    return idempotent(store, idem, run)


def decline(store: Store, actor: dict, request_id: int, payload=None, idempotency_key=None):
    """A member offered the request says they cannot take it; if every offer is declined it
    opens to all at once rather than waiting for the deadline."""
    data = load(schemas.Transition(), payload or {})

    def body(uow, actor, request):
        domain.next_state(request.state, "decline")
        mine = _assignment(uow.session, request.id, actor["user_id"])
        if mine is None or mine.status != "offered":
            raise Forbidden(code="NOT_OFFERED", message="该服务请求没有派给您，无需谢绝")
        mine.status, mine.updated_at = "declined", utcnow()
        _record(uow.session, request, actor, "decline", request.state, data["reason"])
        uow.emit("request.declined", {**_event_data(request, data["reason"]), "member_id": actor["user_id"]})
        still_offered = uow.session.scalar(select(func.count()).select_from(Assignment).where(
            Assignment.request_id == request.id, Assignment.status == "offered"))
        if not still_offered and not request.open_to_all and request.state == domain.DISPATCHED:
            _open_to_all(uow, request, "被派党员均已谢绝，开放给全社区党员认领")

    return _command(store, actor, request_id, "decline", idempotency_key, body)


def _open_to_all(uow, request: Request, reason: str):
    request.open_to_all = True
    _move(uow.session, request, SYSTEM, "open", reason)
    timers.cancel(uow, "open_to_all", request.id)
    uow.emit("request.offered", {**_event_data(request, reason), "member_ids": [], "open_to_all": True})


def hand_back(store: Store, actor: dict, request_id: int, payload, idempotency_key=None):
    """A member who claimed gives the request back (退单) before serving it, with a reason."""
    data = load(schemas.ReasonRequired(), payload)

    def body(uow, actor, request):
        mine = _assignment(uow.session, request.id, actor["user_id"])
        if mine is None or mine.status != "claimed":
            raise Forbidden(code="NOT_CLAIMER", message="只有接单的党员可以退单")
        domain.next_state(request.state, "hand_back")
        mine.status, mine.updated_at = "handed_back", utcnow()
        request.members_claimed -= 1
        was = request.state
        _move(uow.session, request, actor, "hand_back", data["reason"])
        if was == domain.CLAIMED:
            _clear_timers(uow, request.id, "service_deadline", "service_reminder")
            _schedule_claim(uow, request, _policy(uow.session, request.community_id))
        uow.emit("request.handed_back", {**_event_data(request, data["reason"]), "member_id": actor["user_id"]})

    return _command(store, actor, request_id, "hand_back", idempotency_key, body)


def reassign(store: Store, actor: dict, request_id: int, payload, idempotency_key=None):
    """改派: staff give the request to the named members in place of whoever had it."""
    data = load(schemas.Reassign(), payload)

    def body(uow, actor, request):
        domain.check_can_manage(actor, _place(request))
        domain.next_state(request.state, "reassign")
        wanted = list(dict.fromkeys(data["member_ids"]))
        if len(wanted) > request.members_needed:
            raise ValidationFailed(fields={"member_ids": [f"该请求只需{request.members_needed}人"]})
        session = uow.session
        existing = {a.member_id: a for a in session.scalars(
            select(Assignment).where(Assignment.request_id == request.id))}
        removed = [m for m, a in existing.items() if a.status == "claimed" and m not in wanted]
        for m in removed:
            existing[m].status, existing[m].updated_at = "removed", utcnow()
        for m in wanted:
            if m in existing:
                existing[m].status, existing[m].updated_at = "claimed", utcnow()
            else:
                session.add(Assignment(request_id=request.id, member_id=m, status="claimed"))
        request.members_claimed = len(wanted)
        to = domain.state_after_claim(len(wanted), request.members_needed)
        _move(session, request, actor, "reassign", data["reason"], to=to)
        if to == domain.CLAIMED:
            _schedule_service(uow, request)
        else:
            _schedule_claim(uow, request)
        uow.emit("request.reassigned", {**_event_data(request, data["reason"]), "member_ids": wanted,
                                        "removed_ids": removed, "level": request.level})

    return _command(store, actor, request_id, "reassign", idempotency_key, body)


def _check_can_serve(session, actor: dict, request: Request):
    """Members who claimed it; for a joint-meeting assignment, the units' organisations or the
    staff who assigned it."""
    if actor["user_id"] in _claimed(session, request.id) and actor["role"] in ("member", "grid_leader"):
        return
    if request.work_unit_ids:
        if actor["role"] == "unit_org" and actor.get("work_unit_id") in request.work_unit_ids:
            return
        if actor["role"] in ("street_staff", "district_staff", "system"):
            domain.check_can_manage(actor, _place(request))
            return
    raise Forbidden(code="NOT_CLAIMER", message="只有接单的党员可以进行此操作")


def start(store: Store, actor: dict, request_id: int, idempotency_key=None) -> dict:
    def body(uow, actor, request):
        _check_can_serve(uow.session, actor, request)
        _move(uow.session, request, actor, "start")
        request.started_at = utcnow()
        uow.emit("request.started", {**_event_data(request), "member_ids": _claimed(uow.session, request.id),
                                     "level": request.level})

    return _command(store, actor, request_id, "start", idempotency_key, body)


def complete(store: Store, actor: dict, request_id: int, payload=None, idempotency_key=None) -> dict:
    data = load(schemas.Transition(), payload or {})

    def body(uow, actor, request):
        _check_can_serve(uow.session, actor, request)
        _move(uow.session, request, actor, "complete", data["reason"])
        request.completed_at = utcnow()
        _clear_timers(uow, request.id, "service_deadline", "service_reminder")
        d = _deadlines(uow.session, request)
        timers.schedule(uow, "confirm_deadline", request.id, domain.due(utcnow(), d["confirm_minutes"]))
        uow.emit("request.completed", {**_event_data(request, data["reason"]),
                                       "member_ids": _claimed(uow.session, request.id)})

    return _command(store, actor, request_id, "complete", idempotency_key, body)


def _hours(request: Request, item: MenuItem | None) -> float:
    began = request.started_at
    ended = request.completed_at
    if began is not None and ended is not None:
        return round(max(0.0, (_aware(ended) - _aware(began)).total_seconds() / 3600), 2)
    return round((item.expected_minutes if item else 60) / 60, 2)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _confirm(uow, request: Request, actor: dict, rating: int, comment: str):
    session = uow.session
    _move(session, request, actor, "confirm", comment)
    request.rating = rating
    _clear_timers(uow, request.id)
    item = session.get(MenuItem, request.menu_item_id)
    uow.emit("request.confirmed", {
        **_event_data(request, comment), "member_ids": _claimed(session, request.id), "rating": rating,
        "points": domain.points_for(item.points, rating), "category": item.category,
        "hours": _hours(request, item), "place": str((request.answers or {}).get("address") or "")})


def confirm(store: Store, actor: dict, request_id: int, payload, idempotency_key=None) -> dict:
    """The resident (or staff for them) confirms and rates; points follow from this event."""
    data = load(schemas.Confirm(), payload)
    domain.check_rating(data["rating"])

    def body(uow, actor, request):
        domain.check_can_confirm(actor, request.resident_id, _place(request))
        reason = data["comment"]
        if actor["role"] != "resident" and request.resident_id is not None:
            reason = f"工作人员代居民确认。{reason}".strip()
        _confirm(uow, request, actor, data["rating"], reason)

    return _command(store, actor, request_id, "confirm", idempotency_key, body)


def cancel(store: Store, actor: dict, request_id: int, payload=None, idempotency_key=None) -> dict:
    """Residents cancel their own request before service begins (staff may for a caller)."""
    data = load(schemas.Transition(), payload or {})

    def body(uow, actor, request):
        if actor["role"] == "resident":
            domain.check_is_requester(actor, request.resident_id)
        else:
            domain.check_can_manage(actor, _place(request))
        involved = [a.member_id for a in uow.session.scalars(select(Assignment).where(
            Assignment.request_id == request.id, Assignment.status.in_(("offered", "claimed"))))]
        _move(uow.session, request, actor, "cancel", data["reason"])
        _clear_timers(uow, request.id)
        uow.emit("request.cancelled", {**_event_data(request, data["reason"]), "member_ids": involved})

    return _command(store, actor, request_id, "cancel", idempotency_key, body)


def _escalate(uow, request: Request, actor: dict, reason: str):
    up = domain.escalation(request.state, request.level, actor["role"])
    before_level = request.level
    request.level = up
    _record(uow.session, request, actor, "escalate", request.state,
            f"{domain.LEVEL_LABELS[before_level]}→{domain.LEVEL_LABELS[up]}：{reason}")
    uow.emit("request.escalated", {**_event_data(request, reason), "level": up, "org_id": _org_at(request, up)})


def escalate(store: Store, actor: dict, request_id: int, payload, idempotency_key=None) -> dict:
    """Staff raise what members cannot meet one level up, with the reason."""
    data = load(schemas.ReasonRequired(), payload)

    def body(uow, actor, request):
        domain.check_can_manage(actor, _place(request))
        _escalate(uow, request, actor, data["reason"])
        if request.state == domain.DISPATCHED:
            _schedule_claim(uow, request)

    return _command(store, actor, request_id, "escalate", idempotency_key, body)


def send_down(store: Store, actor: dict, request_id: int, payload, idempotency_key=None) -> dict:
    """The level above sends a request back down (e.g. the street returns it to the community)."""
    data = load(schemas.ReasonRequired(), payload)

    def body(uow, actor, request):
        domain.check_can_manage(actor, _place(request))
        down = domain.send_down_to(request.state, request.level, bool(request.grid_id))
        before_level = request.level
        request.level = down
        _record(uow.session, request, actor, "send_down", request.state,
                f"{domain.LEVEL_LABELS[before_level]}→{domain.LEVEL_LABELS[down]}：{data['reason']}")
        if request.state == domain.DISPATCHED:
            _schedule_claim(uow, request)
        uow.emit("request.sent_down", {**_event_data(request, data["reason"]), "level": down,
                                       "org_id": _org_at(request, down)})

    return _command(store, actor, request_id, "send_down", idempotency_key, body)


def joint_meeting(store: Store, actor: dict, request_id: int, payload, idempotency_key=None) -> dict:
    """联席会议: street or district staff assign an escalated request to co-building work units."""
    data = load(schemas.JointMeeting(), payload)

    def body(uow, actor, request):
        if actor["role"] not in ("street_staff", "district_staff", "system"):
            raise Forbidden(message="联席会议由街道或区县召集")
        domain.check_can_manage(actor, _place(request))
        units = list(dict.fromkeys(data["work_unit_ids"]))
        request.work_unit_ids = units
        _move(uow.session, request, actor, "joint_meeting", data["reason"])
        _schedule_service(uow, request)
        uow.emit("request.units_assigned", {**_event_data(request, data["reason"]), "work_unit_ids": units,
                                            "level": request.level})

    return _command(store, actor, request_id, "joint_meeting", idempotency_key, body)


# ---- deadlines (durable timers; each handler runs in the timer's unit of work) -------------

def _timer_request(uow, timer) -> Request | None:
    return uow.session.scalar(select(Request).where(Request.id == int(timer["ref"])).with_for_update())


def on_open_to_all(uow, timer):
    request = _timer_request(uow, timer)
    if request and request.state == domain.DISPATCHED and not request.open_to_all:
        _open_to_all(uow, request, "派单后无人接单，开放给全社区党员认领")


def on_claim_deadline(uow, timer):
    request = _timer_request(uow, timer)
    if request is None or request.state != domain.DISPATCHED:
        return
    reason = f"超过接单时限仍无人接单（已接{request.members_claimed}/需{request.members_needed}人）"
    if not request.open_to_all:
        _open_to_all(uow, request, "接单时限已到，开放给全社区党员认领")
    if domain.level_up(request.level):
        _escalate(uow, request, SYSTEM, reason)
        if domain.level_up(request.level):
            _schedule_claim(uow, request)


def on_service_deadline(uow, timer):
    request = _timer_request(uow, timer)
    if request is None or request.state not in (domain.CLAIMED, domain.IN_SERVICE):
        return
    if domain.level_up(request.level):
        _escalate(uow, request, SYSTEM, "超过服务时限仍未完成")
        if domain.level_up(request.level):
            d = _deadlines(uow.session, request)
            timers.schedule(uow, "service_deadline", request.id, domain.due(utcnow(), d["service_minutes"]))


def _remind(uow, timer, stage: str, states, statuses):
    request = _timer_request(uow, timer)
    if request is None or request.state not in states:
        return
    members = list(uow.session.scalars(select(Assignment.member_id).where(
        Assignment.request_id == request.id, Assignment.status.in_(statuses))))
    text = "接单时限将到，请尽快接单" if stage == "claim" else "服务时限将到，请尽快完成服务"
    _record(uow.session, request, SYSTEM, "remind", request.state, text)
    uow.emit("request.reminder", {**_event_data(request, text), "member_ids": members, "stage": stage,
                                  "level": request.level})


def on_claim_reminder(uow, timer):
    _remind(uow, timer, "claim", (domain.DISPATCHED,), ("offered",))


def on_service_reminder(uow, timer):
    _remind(uow, timer, "service", (domain.CLAIMED, domain.IN_SERVICE), ("claimed",))


def on_confirm_deadline(uow, timer):
    request = _timer_request(uow, timer)
    if request is not None and request.state == domain.DONE:
        _confirm(uow, request, SYSTEM, domain.AUTO_CONFIRM_RATING, "超时未评价，系统自动确认（默认好评）")


# ---- micro-wishes (微心愿) -----------------------------------------------------------------

def _transition(session, subject: str, subject_id: int, actor: dict, action: str, before, after, reason=""):
    session.add(Transition(subject=subject, subject_id=subject_id, actor_id=actor.get("user_id"),
                           actor_role=actor["role"], action=action, from_state=before, to_state=after,
                           reason=reason or "", at=utcnow()))


def _subject_history(session, subject: str, subject_id: int) -> list[dict]:
    rows = session.scalars(select(Transition).where(Transition.subject == subject,
                                                    Transition.subject_id == subject_id).order_by(Transition.id))
    return _history_rows(rows)


def _wish_view(session, wish: Wish) -> dict:
    session.flush()
    return schemas.Wish().dump({**{c.key: getattr(wish, c.key) for c in Wish.__table__.columns},
                                "state_label": domain.WISH_LABELS[wish.state],
                                "history": _subject_history(session, "wish", wish.id)})


def _wish_event(wish: Wish) -> dict:
    return {"wish_id": wish.id, "community_id": wish.community_id, "title": wish.title,
            "resident_id": wish.resident_id, "state": wish.state}


def _get_wish(session, wish_id: int, lock=False) -> Wish:
    query = select(Wish).where(Wish.id == wish_id)
    wish = session.scalar(query.with_for_update() if lock else query)
    if wish is None:
        raise NotFound(code="WISH_NOT_FOUND", message="找不到该微心愿")
    return wish


def _wish_place(wish: Wish) -> domain.Place:
    return domain.Place(community_id=wish.community_id)


def post_wish(store: Store, actor: dict, payload: dict, idempotency_key=None) -> dict:
    """Posted by a resident in difficulty, or by staff or a grid leader on their behalf."""
    actor = load(Actor(), actor)
    data = load(schemas.PostWish(), payload)
    role = actor["role"]
    if role == "resident":
        community_id, resident_id = actor["community_id"], actor["user_id"]
    elif role in ("community_staff", "grid_leader", "system"):
        community_id = data["community_id"] or actor.get("community_id")
        resident_id = data["resident_id"]
        if not community_id:
            raise ValidationFailed(fields={"community_id": ["请指明社区"]})
        if role != "system" and community_id != actor.get("community_id"):
            raise Forbidden(code="OUT_OF_SCOPE", message="只能为本社区的群众发布微心愿")
        if not data["beneficiary"] and resident_id is None:
            raise ValidationFailed(fields={"beneficiary": ["代发微心愿请填写困难群众称呼"]})
    else:
        raise Forbidden(message="微心愿由居民本人或社区工作人员、网格长代为发布")
    idem = Idem.of(actor, "post_wish", idempotency_key)

    def run():
        with store.uow() as uow:
            wish = Wish(community_id=community_id, resident_id=resident_id, beneficiary=data["beneficiary"],
                        title=data["title"], description=data["description"], state=domain.wish_next(None, "post"),
                        posted_by=actor["user_id"], note="")
            uow.session.add(wish)
            uow.session.flush()
            _transition(uow.session, "wish", wish.id, actor, "post", None, wish.state)
            uow.emit("wish.posted", _wish_event(wish))
            return finish(uow, idem, _wish_view(uow.session, wish))

    return idempotent(store, idem, run)


def _wish_command(store, actor, wish_id, command, idempotency_key, body):
    actor = load(Actor(), actor)
    idem = Idem.of(actor, f"{command}:wish:{wish_id}", idempotency_key)

    def run():
        with store.uow() as uow:
            wish = _get_wish(uow.session, wish_id, lock=True)
            before = wish.state
            reason = body(uow, actor, wish)
            _transition(uow.session, "wish", wish.id, actor, command, before, wish.state, reason)
            return finish(uow, idem, _wish_view(uow.session, wish))

    return idempotent(store, idem, run)


def claim_wish(store: Store, actor: dict, wish_id: int, payload=None, idempotency_key=None) -> dict:
    data = load(schemas.ClaimWish(), payload or {})

    def body(uow, actor, wish):
        if actor["role"] not in ("member", "grid_leader"):
            raise Forbidden(message="微心愿由报到党员或e支部认领")
        if actor.get("community_id") != wish.community_id:
            raise Forbidden(code="OUT_OF_SCOPE", message="只能认领本社区的微心愿")
        target = domain.wish_next(wish.state, "claim")
        e_branch = actor.get("e_branch_id") if data["as_e_branch"] else None
        if data["as_e_branch"] and not e_branch:
            raise Unprocessable(code="NO_E_BRANCH", message="您尚未加入e支部，请以个人名义认领")
        won = uow.session.execute(update(Wish).where(Wish.id == wish.id, Wish.state == domain.WISH_POSTED)
                                  .values(state=target, member_id=actor["user_id"], e_branch_id=e_branch,
                                          updated_at=utcnow())).rowcount
        if not won:
            raise Conflict(code="ALREADY_TAKEN", details={"current_state": domain.WISH_CLAIMED},
                           message="该微心愿已被认领")
        uow.session.refresh(wish)
        uow.emit("wish.claimed", {**_wish_event(wish), "member_id": actor["user_id"], "e_branch_id": e_branch})
        return "以e支部名义认领" if e_branch else ""

    return _wish_command(store, actor, wish_id, "claim", idempotency_key, body)


def fulfil_wish(store: Store, actor: dict, wish_id: int, payload, idempotency_key=None) -> dict:
    data = load(schemas.FulfilWish(), payload)

    def body(uow, actor, wish):
        by_member = actor["user_id"] == wish.member_id
        by_branch = wish.e_branch_id is not None and actor.get("e_branch_id") == wish.e_branch_id
        if not (by_member or by_branch):
            raise Forbidden(code="NOT_CLAIMER", message="只有认领人（或其所在e支部的党员）可以完成该心愿")
        wish.state = domain.wish_next(wish.state, "fulfil")
        wish.note, wish.updated_at = data["note"], utcnow()
        return data["note"]

    return _wish_command(store, actor, wish_id, "fulfil", idempotency_key, body)


def confirm_wish(store: Store, actor: dict, wish_id: int, payload=None, idempotency_key=None) -> dict:
    data = load(schemas.Transition(), payload or {})

    def body(uow, actor, wish):
        if actor["role"] == "resident":
            if wish.resident_id != actor["user_id"]:
                raise Forbidden(message="只能确认自己的微心愿")
        elif not (actor["role"] in domain.ROLE_LEVEL or actor["role"] == "system") or \
                not domain.in_scope(actor, _wish_place(wish)):
            raise Forbidden(message="只有心愿人或本社区工作人员可以确认")
        wish.state = domain.wish_next(wish.state, "confirm")
        wish.updated_at = utcnow()
        uow.emit("wish.fulfilled", {"wish_id": wish.id, "community_id": wish.community_id, "title": wish.title,
                                    "resident_id": wish.resident_id,
                                    "member_ids": [wish.member_id] if wish.member_id else [],
                                    "e_branch_id": wish.e_branch_id})
        return data["reason"]

    return _wish_command(store, actor, wish_id, "confirm", idempotency_key, body)


def get_wish(store: Store, actor: dict, wish_id: int) -> dict:
    actor = load(Actor(), actor)
    with store.sessionmaker() as session:
        wish = _get_wish(session, wish_id)
        if actor["role"] == "resident" and wish.resident_id != actor["user_id"]:
            raise Forbidden(message="只能查看自己的微心愿")
        return _wish_view(session, wish)


def list_wishes(store: Store, actor: dict, query: dict) -> list[dict]:
    """Residents see their own; members and staff the wishes of their community."""
    actor = load(Actor(), actor)
    q = load(schemas.WishQuery(), query)
    stmt = select(Wish)
    if actor["role"] == "resident":
        stmt = stmt.where(Wish.resident_id == actor["user_id"])
    elif actor["role"] in ("member", "grid_leader", "community_staff"):
        stmt = stmt.where(Wish.community_id == actor.get("community_id"))
    elif actor["role"] != "system" and actor["role"] not in ("street_staff", "district_staff"):
        raise Forbidden(message="您不能查看微心愿")
    if q["community_id"]:
        stmt = stmt.where(Wish.community_id == q["community_id"])
    if q["state"]:
        stmt = stmt.where(Wish.state == q["state"])
    with store.sessionmaker() as session:
        rows = session.scalars(stmt.order_by(Wish.id.desc()).limit(200)).all()
        return schemas.Wish(many=True, exclude=("history",)).dump(
            [{**{c.key: getattr(w, c.key) for c in Wish.__table__.columns},
              "state_label": domain.WISH_LABELS[w.state]} for w in rows])


# ---- opinions (民意) ----------------------------------------------------------------------

def _opinion_place(op: Opinion) -> domain.Place:
    return domain.Place(community_id=op.community_id, street_id=op.street_id, district_id=op.district_id)


def _opinion_view(session, op: Opinion) -> dict:
    session.flush()
    return schemas.Opinion().dump({**{c.key: getattr(op, c.key) for c in Opinion.__table__.columns},
                                   "state_label": domain.OPINION_LABELS[op.state],
                                   "history": _subject_history(session, "opinion", op.id)})


def _opinion_event(op: Opinion) -> dict:
    return {"opinion_id": op.id, "community_id": op.community_id, "street_id": op.street_id,
            "title": op.title, "kind": op.kind, "resident_id": op.resident_id}


def _check_supervises(actor: dict, op: Opinion):
    if actor["role"] == "system":
        return
    if actor["role"] not in ("community_staff", "street_staff", "district_staff") or \
            not domain.in_scope(actor, _opinion_place(op)):
        raise Forbidden(code="OUT_OF_SCOPE", message="该意见不在您的管辖范围内")


def submit_opinion(store: Store, registration, actor: dict, payload: dict, idempotency_key=None) -> dict:
    actor = load(Actor(), actor)
    data = load(schemas.SubmitOpinion(), payload)
    if actor["role"] == "system":
        community_id = data["community_id"]
        if not community_id:
            raise ValidationFailed(fields={"community_id": ["请指明社区"]})
    elif actor["role"] in ("resident", "member"):
        community_id = actor.get("community_id")
        if not community_id:
            raise Unprocessable(code="NO_COMMUNITY", message="您的账号未关联社区，暂不能提交意见")
    else:
        raise Forbidden(message="民意由群众提交")
    place = place_of(registration, community_id)
    idem = Idem.of(actor, "submit_opinion", idempotency_key)

    def run():
        with store.uow() as uow:
            now = utcnow()
            op = Opinion(community_id=community_id, street_id=place.get("street_id"),
                         district_id=place.get("district_id"),
                         resident_id=actor["user_id"] if actor["role"] != "system" else None,
                         kind=data["kind"], title=data["title"], content=data["content"],
                         state=domain.opinion_next(None, "submit"), assignee="", overdue=False,
                         supervision_level="community", resolution="", created_at=now,
                         due_at=now + timedelta(days=domain.OPINION_DUE_DAYS[data["kind"]]))
            uow.session.add(op)
            uow.session.flush()
            timers.schedule(uow, "opinion_deadline", op.id, op.due_at)
            _transition(uow.session, "opinion", op.id, actor, "submit", None, op.state)
            uow.emit("opinion.submitted", _opinion_event(op))
            return finish(uow, idem, _opinion_view(uow.session, op))

    return idempotent(store, idem, run)


def _opinion_command(store, actor, opinion_id, command, idempotency_key, body):
    actor = load(Actor(), actor)
    idem = Idem.of(actor, f"{command}:opinion:{opinion_id}", idempotency_key)

    def run():
        with store.uow() as uow:
            op = uow.session.scalar(select(Opinion).where(Opinion.id == opinion_id).with_for_update())
            if op is None:
                raise NotFound(code="OPINION_NOT_FOUND", message="找不到该意见")
            _check_supervises(actor, op)
            before = op.state
            reason = body(uow, actor, op)
            _transition(uow.session, "opinion", op.id, actor, command, before, op.state, reason)
            return finish(uow, idem, _opinion_view(uow.session, op))

    return idempotent(store, idem, run)


def assign_opinion(store: Store, actor: dict, opinion_id: int, payload, idempotency_key=None) -> dict:
    data = load(schemas.AssignOpinion(), payload)

    def body(uow, actor, op):
        op.state = domain.opinion_next(op.state, "assign")
        op.assignee = data["assignee"]
        if data["due_days"]:
            op.due_at = utcnow() + timedelta(days=data["due_days"])
            op.overdue = False
            timers.schedule(uow, "opinion_deadline", op.id, op.due_at)
        uow.emit("opinion.assigned", {**_opinion_event(op), "assignee": op.assignee,
                                      "due_at": _aware(op.due_at).isoformat() if op.due_at else None})
        return f"交办给{op.assignee}。{data['reason']}".strip()

    return _opinion_command(store, actor, opinion_id, "assign", idempotency_key, body)


def resolve_opinion(store: Store, actor: dict, opinion_id: int, payload, idempotency_key=None) -> dict:
    data = load(schemas.ResolveOpinion(), payload)

    def body(uow, actor, op):
        op.state = domain.opinion_next(op.state, "resolve")
        op.resolution, op.resolved_at = data["resolution"], utcnow()
        timers.cancel(uow, "opinion_deadline", op.id)
        uow.emit("opinion.resolved", {"opinion_id": op.id, "community_id": op.community_id, "title": op.title,
                                      "resident_id": op.resident_id, "resolution": op.resolution})
        return data["resolution"]

    return _opinion_command(store, actor, opinion_id, "resolve", idempotency_key, body)


def on_opinion_deadline(uow, timer):
    """Unresolved by its deadline: marked overdue and supervised one level up (督办)."""
    op = uow.session.scalar(select(Opinion).where(Opinion.id == int(timer["ref"])).with_for_update())
    if op is None or op.state == domain.OP_RESOLVED:
        return
    before = op.state
    op.overdue = True
    up = domain.level_up(op.supervision_level) or op.supervision_level
    op.supervision_level = up
    _transition(uow.session, "opinion", op.id, SYSTEM, "overdue", before, op.state,
                f"超过办理时限未办结，由{domain.LEVEL_LABELS[up]}督办")
    uow.emit("opinion.overdue", {**_opinion_event(op), "supervision_level": up})


def get_opinion(store: Store, actor: dict, opinion_id: int) -> dict:
    actor = load(Actor(), actor)
    with store.sessionmaker() as session:
        op = session.get(Opinion, opinion_id)
        if op is None:
            raise NotFound(code="OPINION_NOT_FOUND", message="找不到该意见")
        if actor["role"] in ("resident", "member"):
            if op.resident_id != actor["user_id"]:
                raise Forbidden(message="只能查看自己提交的意见")
        else:
            _check_supervises(actor, op)
        return _opinion_view(session, op)


def _opinion_scope(actor: dict, stmt):
    role = actor["role"]
    if role in ("resident", "member"):
        return stmt.where(Opinion.resident_id == actor["user_id"])
    if role == "community_staff":
        return stmt.where(Opinion.community_id == actor.get("community_id"))
    if role == "street_staff":
        return stmt.where(Opinion.street_id == actor.get("street_id"))
    if role == "district_staff":
        return stmt.where(Opinion.district_id == actor.get("district_id"))
    if role == "system":
        return stmt
    raise Forbidden(message="您不能查看民意")


def list_opinions(store: Store, actor: dict, query: dict) -> list[dict]:
    actor = load(Actor(), actor)
    q = load(schemas.OpinionQuery(), query)
    stmt = _opinion_scope(actor, select(Opinion))
    if q["community_id"]:
        stmt = stmt.where(Opinion.community_id == q["community_id"])
    if q["state"]:
        stmt = stmt.where(Opinion.state == q["state"])
    if q["overdue"] is not None:
        stmt = stmt.where(Opinion.overdue == q["overdue"])
    with store.sessionmaker() as session:
        rows = session.scalars(stmt.order_by(Opinion.id.desc()).limit(200)).all()
        return schemas.Opinion(many=True, exclude=("history",)).dump(
            [{**{c.key: getattr(o, c.key) for c in Opinion.__table__.columns},
              "state_label": domain.OPINION_LABELS[o.state]} for o in rows])


def opinion_stats(store: Store, actor: dict, query: dict) -> list[dict]:
    """Collected vs resolved per community (Binhu's "2,352 collected, 783 resolved")."""
    actor = load(Actor(), actor)
    q = load(schemas.OpinionStatsQuery(), query)
    if actor["role"] in ("resident", "member"):
        raise Forbidden(message="只有工作人员可以查看民意统计")
    resolved = func.sum(case((Opinion.state == domain.OP_RESOLVED, 1), else_=0))
    overdue = func.sum(case(((Opinion.overdue) & (Opinion.state != domain.OP_RESOLVED), 1), else_=0))
    stmt = _opinion_scope(actor, select(Opinion.community_id, func.count(), resolved, overdue))
    if q["street_id"]:
        stmt = stmt.where(Opinion.street_id == q["street_id"])
    if q["community_id"]:
        stmt = stmt.where(Opinion.community_id == q["community_id"])
    with store.sessionmaker() as session:
        rows = session.execute(stmt.group_by(Opinion.community_id).order_by(Opinion.community_id)).all()
    return schemas.OpinionStats(many=True).dump([
        {"community_id": c, "collected": n, "resolved": int(r or 0), "overdue": int(o or 0),
         "resolution_rate": domain.resolution_rate(n, int(r or 0))} for c, n, r, o in rows])


TIMER_HANDLERS = {
    "open_to_all": on_open_to_all,
    "claim_deadline": on_claim_deadline,
    "claim_reminder": on_claim_reminder,
    "service_deadline": on_service_deadline,
    "service_reminder": on_service_reminder,
    "confirm_deadline": on_confirm_deadline,
    "opinion_deadline": on_opinion_deadline,
}
