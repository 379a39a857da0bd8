"""Escalation (上报): the level queues, raising a request a level up, sending it down, joint meetings.
"""


from sqlalchemy import select

from common import assertions
from common.actors import Actor
from common.db import Store
from common.errors import Forbidden, NotFound
from common.schemas import load
from services.dispatch import domain, schemas
from services.dispatch.models import Request
from services.dispatch.usecases._common import (
    _event_data,
    _move,
    _org_at,
    _place,
    _record,
    _schedule_claim,
    _schedule_service,
    _views,
)
from services.dispatch.usecases.lifecycle import _command

# ---- reading -----------------------------------------------------------------------------

def escalation_queue(store: Store, actor: dict) -> list[dict]:
    """What waits at the caller's level: the street's or the district's queue (统筹)."""
    actor = load(Actor, actor)
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

def _escalate(uow, request: Request, actor: dict, reason: str):
    up = domain.escalation(request.state, request.level, actor["role"])
    before_level = request.level
    request.level = up
    _record(uow.session, request, actor, "escalate", request.state,
            f"{domain.LEVEL_LABELS[before_level]}→{domain.LEVEL_LABELS[up]}：{reason}")
    uow.emit("request.escalated", {**_event_data(request, reason), "level": up, "org_id": _org_at(request, up)})


def escalate(store: Store, actor: dict, request_id: int, payload, idempotency_key=None) -> dict:
    """Staff raise what members cannot meet one level up, with the reason."""
    data = load(schemas.ReasonRequired, payload)

    def body(uow, actor, request):
        domain.check_can_manage(actor, _place(request))
        _escalate(uow, request, actor, data["reason"])
        if request.state == domain.DISPATCHED:
            _schedule_claim(uow, request)

    return _command(store, actor, request_id, "escalate", idempotency_key, body)


def send_down(store: Store, actor: dict, request_id: int, payload, idempotency_key=None) -> dict:
    """The level above sends a request back down (e.g. the street returns it to the community)."""
    data = load(schemas.ReasonRequired, payload)

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


def joint_meeting(store: Store, registration, actor: dict, request_id: int, payload, idempotency_key=None) -> dict:
    """联席会议: street or district staff assign an escalated request to co-building work units."""
    data = load(schemas.JointMeeting, payload)
    wanted = list(dict.fromkeys(data["work_unit_ids"]))
    missing = sorted(set(wanted) - set(registration.existing_work_units(assertions.system("dispatch"), wanted)))
    if missing:  # finding 5: only units that exist
        raise NotFound(code="WORK_UNIT_NOT_FOUND", message=f"找不到工作单位：{'、'.join(map(str, missing))}",
                       fields={"work_unit_ids": ["含有不存在的工作单位"]})

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
