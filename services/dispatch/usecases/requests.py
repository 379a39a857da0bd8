"""Service requests: submitting (居民点单), offering to members, and reading them.
"""


from datetime import UTC

from sqlalchemy import select

from common.actors import Actor
from common.db import Store, utcnow
from common.errors import Forbidden, NotFound, ValidationFailed
from common.schemas import load
from services.dispatch import domain, schemas
from services.dispatch.models import Assignment, HistoryEntry, MenuItem, Request
from services.dispatch.usecases._common import (
    SYSTEM,
    _check_staff_place,
    _event_data,
    _get,
    _move,
    _name_actors,
    _place,
    _policy,
    _record,
    _schedule_claim,
    _view,
    _views,
    place_of,
)
from services.dispatch.usecases.idempotency import Idem, finish, idempotent
from services.dispatch.usecases.matching import _find_ranked

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
    actor = load(Actor, actor)
    data = load(schemas.SubmitRequest, payload)
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
                     "at": (data["preferred_time"].isoformat() if data["preferred_time"]
                            else domain.service_time(item.fields or [], answers))}
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
                contact_name=caller["name"] if caller else actor.get("name") or None,
                contact_phone=data["contact_phone"] or (caller["phone"] if caller else None),
                address=data["address"] or str(answers.get("address") or "") or None,
                preferred_time=data["preferred_time"].astimezone(UTC) if data["preferred_time"] else None,
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


def get_request(store: Store, actor: dict, request_id: int, registration=None) -> dict:
    actor = load(Actor, actor)
    with store.sessionmaker() as session:
        request = _get(session, request_id)
        _check_can_view(session, actor, request)
        view = _views(session, [request], actor)[0]
    _name_actors(registration, view["history"])
    return view


def timeline(store: Store, actor: dict, request_id: int, registration=None) -> list[dict]:
    return get_request(store, actor, request_id, registration)["history"]


def list_my_requests(store: Store, actor: dict) -> list[dict]:
    actor = load(Actor, actor)
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


def list_open_requests(store: Store, actor: dict) -> list[dict]:
    """Residents' requests open to every member of the caller's community that still need hands
    (the community's own needs are listed apart, under its needs list)."""
    actor = load(Actor, actor)
    if actor["role"] not in ("member", "grid_leader"):
        raise Forbidden(message="只有报到党员可以查看待认领的服务请求")
    with store.sessionmaker() as session:
        rows = session.scalars(select(Request).where(
            Request.community_id == actor.get("community_id"), Request.state == domain.DISPATCHED,
            Request.open_to_all.is_(True), Request.source != "need")
            .order_by(Request.id.desc()).limit(100)).all()
        return _views(session, rows, actor, history=False)


def search_requests(store: Store, actor: dict, query: dict) -> list[dict]:
    """Staff and systems (the hotline bridge) search requests in their part of the tree."""
    actor = load(Actor, actor)
    q = load(schemas.SearchQuery, query)
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
    stmt = stmt.order_by(Request.updated_at.desc(), Request.id.desc())
    with store.sessionmaker() as session:
        if q["overdue"] is not None:
            rows = _overdue_page(session, stmt, q)
        else:
            rows = session.scalars(stmt.offset(q["offset"]).limit(q["limit"])).all()
        return _views(session, rows, actor, history=False)


def _overdue_page(session, stmt, q: dict) -> list[Request]:
    """One page of requests (not) past their deadline. Deadlines differ per menu item, so the rule
    (domain.overdue) runs here over the scope's requests in a timed stage, not in SQL."""
    staged = list(domain.OVERDUE_CLOCKS)
    if q["overdue"]:
        stmt = stmt.where(Request.state.in_(staged))
    rows = session.scalars(stmt).all()
    ids = [r.id for r in rows if r.state in staged]
    entered: dict[int, dict] = {}
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        for rid, to_state, from_state, at, action in session.execute(
                select(HistoryEntry.request_id, HistoryEntry.to_state, HistoryEntry.from_state, HistoryEntry.at,
                       HistoryEntry.action)
                .where(HistoryEntry.request_id.in_(chunk)).order_by(HistoryEntry.id)):
            # 改派 hands the request to someone new: their clock starts afresh, as its timers do
            if to_state != from_state or action == "reassign":
                entered.setdefault(rid, {})[to_state] = _aware(at)
    items = {i.id: i.deadline_policy for i in session.scalars(
        select(MenuItem).where(MenuItem.id.in_({r.menu_item_id for r in rows})))} if rows else {}
    now = utcnow()
    keep = [r for r in rows
            if domain.overdue(r.state, entered.get(r.id, {}), items.get(r.menu_item_id), now) == q["overdue"]]
    return keep[q["offset"]:q["offset"] + q["limit"]]


def _aware(at):
    # SQLite hands back naive datetimes; they were written in UTC
    return at if at is None or at.tzinfo else at.replace(tzinfo=UTC)
