"""The service request's life, as a pure state machine: no database, no broker.

submitted → accepted → dispatched → claimed → in_service → done → closed
(rejected, cancelled are terminal side exits). Every action names the states it may start from;
anything else is an illegal transition, reported with the current state.
"""

from dataclasses import dataclass

from common.errors import Conflict, Forbidden, ValidationFailed

SUBMITTED, ACCEPTED, REJECTED, DISPATCHED = "submitted", "accepted", "rejected", "dispatched"
CLAIMED, IN_SERVICE, DONE, CLOSED, CANCELLED = "claimed", "in_service", "done", "closed", "cancelled"

STATE_LABELS = {
    SUBMITTED: "已提交",
    ACCEPTED: "已受理",
    REJECTED: "未受理",
    DISPATCHED: "待接单",
    CLAIMED: "已接单",
    IN_SERVICE: "服务中",
    DONE: "已完成待确认",
    CLOSED: "已办结",
    CANCELLED: "已撤销",
}

# action -> (states it may start from, state it leads to); None: decided by the action
TRANSITIONS = {
    "accept": ({SUBMITTED}, ACCEPTED),
    "reject": ({SUBMITTED}, REJECTED),
    "dispatch": ({ACCEPTED}, DISPATCHED),
    "claim": ({DISPATCHED}, None),
    "start": ({CLAIMED}, IN_SERVICE),
    "complete": ({CLAIMED, IN_SERVICE}, DONE),
    "confirm": ({DONE}, CLOSED),
    "cancel": ({SUBMITTED, ACCEPTED, DISPATCHED, CLAIMED}, CANCELLED),
}


def invalid_transition(state: str, code="INVALID_TRANSITION", message=None) -> Conflict:
    """409 with the current state; only common error types cross the wire."""
    return Conflict(code=code, details={"current_state": state},
                    message=message or f"当前状态为“{STATE_LABELS.get(state, state)}”，不能进行此操作")


def next_state(state: str, action: str) -> str:
    allowed, target = TRANSITIONS[action]
    if state not in allowed:
        raise invalid_transition(state)
    return target or state


def state_after_claim(claimed: int, needed: int) -> str:
    """A request stays open to claim until as many members as it needs have taken it."""
    return CLAIMED if claimed >= needed else DISPATCHED


@dataclass(frozen=True)
class Offer:
    member_ids: tuple[int, ...]


def choose_offer(candidates: list[dict], top_k: int) -> Offer:
    """Offer to the best-ranked candidates; ranking itself is registration's candidates query."""
    return Offer(tuple(c["member_id"] for c in candidates[:top_k]))


def check_is_requester(actor: dict, resident_id: int):
    if actor["role"] == "resident" and actor["user_id"] != resident_id:
        raise Forbidden(message="只能操作自己提交的服务请求")


def check_can_claim(actor: dict, offered_to: set[int], open_to_all: bool):
    if actor["role"] not in ("member", "grid_leader"):
        raise Forbidden(message="只有报到党员可以接单")
    if not open_to_all and actor["user_id"] not in offered_to:
        raise Forbidden(code="NOT_OFFERED", message="该服务请求没有派给您，不能接单")


def check_rating(rating: int):
    if not 1 <= rating <= 5:
        raise ValidationFailed(fields={"rating": ["评分应在1到5之间"]})


def points_for(base_points: int, rating: int) -> int:
    """Points credited on confirmation: the menu item's points, more for a top rating."""
    return base_points + (base_points // 2 if rating == 5 else 0)


def validate_fields(definitions: list[dict], values: dict) -> dict:
    """Check a request's answers against its menu item's field definitions (Open311 style)."""
    errors = {}
    known = {d["code"] for d in definitions}
    for code in values:
        if code not in known:
            errors[code] = ["该服务项目没有这一栏"]
    for d in definitions:
        value = values.get(d["code"])
        if value in (None, "", []):
            if d.get("required"):
                errors[d["code"]] = [f"“{d['description']}”为必填项"]
            continue
        kind = d.get("datatype", "string")
        if kind in ("string", "text") and not isinstance(value, str):
            errors[d["code"]] = ["应为文字"]
        elif kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
            errors[d["code"]] = ["应为数字"]
        elif kind == "singlevaluelist" and value not in [v["key"] for v in d.get("values", [])]:
            errors[d["code"]] = ["不是可选的值"]
    if errors:
        raise ValidationFailed(fields={"fields": errors})
    return values
