"""Commands on a request through its lifecycle: accept, offer, claim (接单), serve, confirm, cancel.

Commands on a request share one shape (``_command``): load the actor, replay an idempotency key,
open a unit of work, lock the request, act, record the transition, emit, save the key with the
result, commit. Remote calls (registration) happen before the unit of work opens.
"""

from collections.abc import Callable

from sqlalchemy import bindparam, func, select, update

from common import assertions, timers
from common.actors import Actor
from common.db import Store, UnitOfWork, utcnow
from common.errors import Conflict, Forbidden, ValidationFailed
from common.schemas import load
from services.dispatch import domain, schemas
from services.dispatch.models import Assignment, MenuItem, Request
from services.dispatch.usecases._common import (
    SYSTEM,
    _aware,
    _clear_timers,
    _deadlines,
    _event_data,
    _get,
    _hour_bounds,
    _move,
    _place,
    _policy,
    _record,
    _schedule_claim,
    _schedule_service,
    _view,
)
from services.dispatch.usecases.idempotency import Idem, finish, idempotent
from services.dispatch.usecases.matching import _find_ranked
from services.dispatch.usecases.requests import _auto_dispatch, _offer

# ---- commands on a request ---------------------------------------------------------------

def _command(store: Store, actor: dict, request_id: int, command: str, idempotency_key,
             body: Callable[[UnitOfWork, dict, Request], None]) -> dict:
    actor = load(Actor, actor)
    idem = Idem.of(actor, f"{command}:{request_id}", idempotency_key)

    def run():
        with store.uow() as uow:
            request = _get(uow.session, request_id, lock=True)
            body(uow, actor, request)
            return finish(uow, idem, _view(uow.session, request, actor))

    return idempotent(store, idem, run)


def _claimed(session, request_id: int) -> list[int]:
    return list(session.scalars(_CLAIMED, {"request_id": request_id}))


def _assignment(session, request_id: int, member_id: int) -> Assignment | None:
    return session.scalar(_ASSIGNMENT, {"request_id": request_id, "member_id": member_id})


# built once: claims and completions ask on every call
_CLAIMED = (select(Assignment.member_id).where(Assignment.request_id == bindparam("request_id"),
                                               Assignment.status == "claimed").order_by(Assignment.id))
_ASSIGNMENT = select(Assignment).where(Assignment.request_id == bindparam("request_id"),
                                       Assignment.member_id == bindparam("member_id"))


def accept(store: Store, registration, actor: dict, request_id: int, payload=None, idempotency_key=None):
    """受理 by staff; the request is then offered by the community's policy at once."""
    data = load(schemas.Transition, payload or {})
    actor_l = load(Actor, actor)
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
    data = load(schemas.ReasonRequired, payload)

    def body(uow, actor, request):
        domain.check_can_manage(actor, _place(request))
        _move(uow.session, request, actor, "reject", data["reason"])
        _clear_timers(uow, request.id)
        uow.emit("request.rejected", _event_data(request, data["reason"]))

    return _command(store, actor, request_id, "reject", idempotency_key, body)


def merge(store: Store, actor: dict, request_id: int, payload, idempotency_key=None):
    data = load(schemas.Merge, payload)

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


def check_members_of(registration, community_id: int, member_ids: list[int]):
    """Offers and reassignments go to accepted members of the request's own community (finding 5)."""
    if not member_ids or registration is None:
        return
    facts = {f["member_id"]: f for f in registration.member_facts(assertions.system("dispatch"), list(member_ids))}
    wrong = [m for m in member_ids
             if m not in facts or facts[m]["status"] != "accepted" or facts[m]["community_id"] != community_id]
    if wrong:
        raise ValidationFailed(code="NOT_COMMUNITY_MEMBERS", fields={"member_ids": ["含有非本社区报到党员"]},
                               message=f"只能派给本社区已报到的党员：{'、'.join(map(str, wrong))} 不是")


def offer(store: Store, actor: dict, request_id: int, payload, idempotency_key=None, registration=None):
    """支部下单: staff offer to chosen members, or open the request to every member."""
    data = load(schemas.Offer, payload)

    def body(uow, actor, request):
        domain.check_can_manage(actor, _place(request))
        check_members_of(registration, request.community_id, data["member_ids"])
        if not data["member_ids"] and not data["open_to_all"]:
            raise ValidationFailed(fields={"member_ids": ["请选择党员，或选择开放认领"]})
        policy = _policy(uow.session, request.community_id)
        _offer(uow, request, actor, data["member_ids"], data["open_to_all"],
               data["reason"] or "工作人员派单", policy)

    return _command(store, actor, request_id, "offer", idempotency_key, body)


def claim(store: Store, actor: dict, request_id: int, idempotency_key=None) -> dict:
    """接单. A conditional update makes exactly ``members_needed`` claims win under a storm."""
    actor = load(Actor, actor)
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
                .values(members_claimed=Request.members_claimed + 1, version=Request.version + 1)
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
    data = load(schemas.Transition, payload or {})

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
    data = load(schemas.ReasonRequired, payload)

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


def reassign(store: Store, actor: dict, request_id: int, payload, idempotency_key=None, registration=None):
    """改派: staff give the request to the named members in place of whoever had it."""
    data = load(schemas.Reassign, payload)

    def body(uow, actor, request):
        domain.check_can_manage(actor, _place(request))
        check_members_of(registration, request.community_id, list(dict.fromkeys(data["member_ids"])))
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
    """Done: the member states the hours actually served (no travel) within the item's bounds."""
    data = load(schemas.Complete, payload or {})

    def body(uow, actor, request):
        _check_can_serve(uow.session, actor, request)
        bounds = _hour_bounds(uow.session.get(MenuItem, request.menu_item_id))
        request.stated_hours, request.hours_source = domain.stated_hours(data["hours"], bounds)
        _move(uow.session, request, actor, "complete", data["reason"])
        request.completed_at = utcnow()
        _clear_timers(uow, request.id, "service_deadline", "service_reminder")
        d = _deadlines(uow.session, request)
        timers.schedule(uow, "confirm_deadline", request.id, domain.due(utcnow(), d["confirm_minutes"]))
        uow.emit("request.completed", {**_event_data(request, data["reason"]),
                                       "member_ids": _claimed(uow.session, request.id),
                                       "hours": request.stated_hours, "hours_source": request.hours_source,
                                       "place": _service_place(request),
                                       "completed_at": _aware(request.completed_at).isoformat()})

    return _command(store, actor, request_id, "complete", idempotency_key, body)


def _service_place(request: Request) -> str:
    return request.address or str((request.answers or {}).get("address") or "")


def _confirm(uow, request: Request, actor: dict, rating: int, comment: str):
    session = uow.session
    _move(session, request, actor, "confirm", comment)
    request.rating = rating
    _clear_timers(uow, request.id)
    item = session.get(MenuItem, request.menu_item_id)
    uow.emit("request.confirmed", {
        **_event_data(request, comment), "member_ids": _claimed(session, request.id), "rating": rating,
        "points": domain.points_for(item.points, rating), "category": item.category,
        "hours": request.stated_hours or 0.0, "place": _service_place(request)})


def confirm(store: Store, actor: dict, request_id: int, payload, idempotency_key=None) -> dict:
    """The resident (or staff for them) confirms and rates; points follow from this event."""
    data = load(schemas.Confirm, payload)
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
    data = load(schemas.Transition, payload or {})

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
