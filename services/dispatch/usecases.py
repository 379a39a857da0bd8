"""Dispatch's use cases: each loads input, applies the domain rules, records history, emits."""

from sqlalchemy import select, update

from common.actors import Actor, reaches
from common.db import Store, utcnow
from common.errors import Forbidden, NotFound
from common.schemas import load
from services.dispatch import domain, schemas
from services.dispatch.models import Assignment, HistoryEntry, MenuItem, Request

AUTO_OFFER_TOP_K = 3


def list_menu(store: Store, community_id: int) -> list[dict]:
    with store.uow() as uow:
        items = uow.session.scalars(
            select(MenuItem).where(MenuItem.community_id == community_id, MenuItem.active)
            .order_by(MenuItem.id)
        ).all()
        return schemas.MenuItem(many=True).dump(items)


def _get(session, request_id: int, *, lock=False) -> Request:
    query = select(Request).where(Request.id == request_id)
    if lock:
        query = query.with_for_update()
    request = session.scalar(query)
    if request is None:
        raise NotFound(code="REQUEST_NOT_FOUND", message="找不到该服务请求")
    return request


def _record(session, request: Request, actor: dict, action: str, from_state, reason=""):
    session.add(HistoryEntry(request_id=request.id, actor_id=actor.get("user_id"),
                             actor_role=actor["role"], action=action, from_state=from_state,
                             to_state=request.state, reason=reason, at=utcnow()))
    request.updated_at = utcnow()


def _move(session, request: Request, actor: dict, action: str, reason=""):
    before = request.state
    request.state = domain.next_state(before, action)
    _record(session, request, actor, action, before, reason)


def _event_data(request: Request) -> dict:
    return {"request_id": request.id, "community_id": request.community_id,
            "resident_id": request.resident_id, "menu_item_id": request.menu_item_id,
            "title": request.title, "state": request.state}


def _members(session, request_id: int, status: str) -> list[int]:
    return list(session.scalars(
        select(Assignment.member_id)
        .where(Assignment.request_id == request_id, Assignment.status == status)
        .order_by(Assignment.id)
    ))


def _view(session, request: Request) -> dict:
    history = session.scalars(
        select(HistoryEntry).where(HistoryEntry.request_id == request.id).order_by(HistoryEntry.id)
    ).all()
    claimed = _members(session, request.id, "claimed")
    offered = _members(session, request.id, "offered") + claimed
    return schemas.Request().dump({
        **{c.key: getattr(request, c.key) for c in Request.__table__.columns},
        "state_label": domain.STATE_LABELS[request.state],
        "offered_to": offered,
        "claimed_by": claimed,
        "history": history,
    })


def _check_can_view(actor: dict, request: Request, session):
    if actor["role"] == "resident":
        domain.check_is_requester(actor, request.resident_id)
    elif actor["role"] in ("member",):
        involved = session.scalar(select(Assignment.id).where(
            Assignment.request_id == request.id, Assignment.member_id == actor["user_id"]))
        if not involved and not request.open_to_all:
            raise Forbidden(message="您不能查看该服务请求")
    elif not reaches(actor, community_id=request.community_id, street_id=request.street_id,
                     district_id=request.district_id):
        raise Forbidden(message="该服务请求不在您的管辖范围内")


def submit_request(store: Store, registration, actor: dict, payload: dict) -> dict:
    """A resident orders from the menu; the branch accepts and offers it to the best matches.

    ``registration`` is the port to the registration service (its candidates query).
    """
    actor = load(Actor(), actor)
    data = load(schemas.SubmitRequest(), payload)
    if actor["role"] != "resident":
        raise Forbidden(message="只有居民可以点单")
    with store.uow() as uow:
        item = uow.session.get(MenuItem, data["menu_item_id"])
        if item is None or not item.active:
            raise NotFound(code="MENU_ITEM_NOT_FOUND", message="服务菜单中没有这一项",
                           fields={"menu_item_id": ["不存在或已下架"]})
        if item.community_id != actor["community_id"]:
            raise Forbidden(message="只能向自己所在社区点单")
        answers = domain.validate_fields(item.fields or [], data["answers"])
        item_view = {"community_id": item.community_id, "skills": list(item.skills or [])}
    # remote calls happen outside any open transaction
    place = registration.get_place(item_view["community_id"])
    candidates = registration.find_candidates(
        {"community_id": item_view["community_id"], "skills": item_view["skills"],
         "grid_id": actor.get("grid_id"), "limit": AUTO_OFFER_TOP_K})
    offer = domain.choose_offer(candidates, AUTO_OFFER_TOP_K)
    system = {"user_id": None, "role": "system"}
    with store.uow() as uow:
        session = uow.session
        item = session.get(MenuItem, data["menu_item_id"])
        request = Request(community_id=item.community_id, street_id=place.get("street_id"),
                          district_id=place.get("district_id"), resident_id=actor["user_id"],
                          menu_item_id=item.id, title=item.title, description=data["description"],
                          answers=answers, state=domain.SUBMITTED,
                          members_needed=item.members_needed, open_to_all=not offer.member_ids)
        session.add(request)
        session.flush()
        _record(session, request, actor, "submit", None)
        uow.emit("request.submitted", _event_data(request))
        _move(session, request, system, "accept", "社区自动受理")
        _move(session, request, system, "dispatch",
              f"按技能匹配派给{len(offer.member_ids)}名党员" if offer.member_ids else "无匹配党员，开放认领")
        for member_id in offer.member_ids:
            session.add(Assignment(request_id=request.id, member_id=member_id, status="offered"))
        session.flush()
        uow.emit("request.offered", {**_event_data(request), "member_ids": list(offer.member_ids)})
        view = _view(session, request)
        uow.commit()
    return view


def get_request(store: Store, actor: dict, request_id: int) -> dict:
    actor = load(Actor(), actor)
    with store.uow() as uow:
        request = _get(uow.session, request_id)
        _check_can_view(actor, request, uow.session)
        return _view(uow.session, request)


def list_my_requests(store: Store, actor: dict) -> list[dict]:
    actor = load(Actor(), actor)
    with store.uow() as uow:
        session = uow.session
        if actor["role"] == "resident":
            query = select(Request).where(Request.resident_id == actor["user_id"])
        elif actor["role"] in ("member", "grid_leader"):
            query = select(Request).join(Assignment, Assignment.request_id == Request.id).where(
                Assignment.member_id == actor["user_id"])
        else:
            query = select(Request).where(Request.community_id == actor.get("community_id"))
        requests = session.scalars(query.order_by(Request.id.desc()).limit(100)).all()
        return [_view(session, r) for r in requests]


def claim(store: Store, actor: dict, request_id: int) -> dict:
    """接单. A conditional update makes exactly ``members_needed`` claims win under a storm."""
    actor = load(Actor(), actor)
    with store.uow() as uow:
        session = uow.session
        request = _get(session, request_id)
        offered = set(_members(session, request_id, "offered"))
        if actor["user_id"] in _members(session, request_id, "claimed"):
            raise domain.invalid_transition(request.state, "ALREADY_CLAIMED", "您已经接过这一单")
        domain.next_state(request.state, "claim")
        domain.check_can_claim(actor, offered, request.open_to_all)
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
        assignment = session.scalar(select(Assignment).where(
            Assignment.request_id == request_id, Assignment.member_id == actor["user_id"]))
        if assignment is None:
            session.add(Assignment(request_id=request_id, member_id=actor["user_id"],
                                   status="claimed"))
        else:
            assignment.status = "claimed"
            assignment.updated_at = utcnow()
        _record(session, request, actor, "claim", before)
        uow.emit("request.claimed", {**_event_data(request), "member_id": actor["user_id"]})
        session.flush()
        view = _view(session, request)
        uow.commit()
    return view


def _check_is_claimer(session, actor: dict, request_id: int):
    if actor["user_id"] not in _members(session, request_id, "claimed"):
        raise Forbidden(code="NOT_CLAIMER", message="只有接单的党员可以进行此操作")


def start(store: Store, actor: dict, request_id: int) -> dict:
    actor = load(Actor(), actor)
    with store.uow() as uow:
        request = _get(uow.session, request_id)
        _check_is_claimer(uow.session, actor, request_id)
        _move(uow.session, request, actor, "start")
        view = _view(uow.session, request)
        uow.commit()
    return view


def complete(store: Store, actor: dict, request_id: int, payload: dict) -> dict:
    actor = load(Actor(), actor)
    data = load(schemas.Transition(), payload)
    with store.uow() as uow:
        session = uow.session
        request = _get(session, request_id)
        _check_is_claimer(session, actor, request_id)
        _move(session, request, actor, "complete", data["reason"])
        uow.emit("request.completed", {**_event_data(request),
                                       "member_ids": _members(session, request_id, "claimed")})
        view = _view(session, request)
        uow.commit()
    return view


def confirm(store: Store, actor: dict, request_id: int, payload: dict) -> dict:
    """The resident (or staff for them) confirms and rates; points follow from this event."""
    actor = load(Actor(), actor)
    data = load(schemas.Confirm(), payload)
    domain.check_rating(data["rating"])
    with store.uow() as uow:
        session = uow.session
        request = _get(session, request_id)
        if actor["role"] == "resident":
            domain.check_is_requester(actor, request.resident_id)
        elif not reaches(actor, community_id=request.community_id, street_id=request.street_id,
                         district_id=request.district_id):
            raise Forbidden(message="只有点单居民或本社区工作人员可以确认")
        _move(session, request, actor, "confirm", data["comment"])
        request.rating = data["rating"]
        item = session.get(MenuItem, request.menu_item_id)
        uow.emit("request.confirmed", {
            **_event_data(request), "member_ids": _members(session, request_id, "claimed"),
            "rating": data["rating"], "points": domain.points_for(item.points, data["rating"]),
            "category": item.category})
        view = _view(session, request)
        uow.commit()
    return view
