"""Deadlines of requests (durable timers) and ``TIMER_HANDLERS``, the handler of every timer kind.
"""


from sqlalchemy import select

from common import timers
from common.db import utcnow
from services.dispatch import domain
from services.dispatch.models import Assignment, Request
from services.dispatch.usecases._common import SYSTEM, _deadlines, _event_data, _record, _schedule_claim
from services.dispatch.usecases.escalation import _escalate
from services.dispatch.usecases.lifecycle import _confirm, _open_to_all
from services.dispatch.usecases.opinions import on_opinion_deadline

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


TIMER_HANDLERS = {
    "open_to_all": on_open_to_all,
    "claim_deadline": on_claim_deadline,
    "claim_reminder": on_claim_reminder,
    "service_deadline": on_service_deadline,
    "service_reminder": on_service_reminder,
    "confirm_deadline": on_confirm_deadline,
    "opinion_deadline": on_opinion_deadline,
}
