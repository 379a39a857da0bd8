"""Dispatch's rules, pure: no database, no broker.

The request's life is an explicit state machine:

    submitted → accepted → dispatched → claimed → in_service → done → closed
    side exits: rejected, duplicate (merged into another request), cancelled

Every action names the states it may start from; anything else is an illegal transition,
reported (409) with the current state. Escalation (grid → community → street → district) is a
second axis: the ``level`` a request waits at, moved up by deadlines or staff, sent back down
by the level above. Micro-wishes and opinions have their own small machines below.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from common.actors import reaches
from common.errors import Conflict, Forbidden, ValidationFailed

SUBMITTED, ACCEPTED, REJECTED, DUPLICATE = "submitted", "accepted", "rejected", "duplicate"
DISPATCHED, CLAIMED, IN_SERVICE, DONE = "dispatched", "claimed", "in_service", "done"
CLOSED, CANCELLED = "closed", "cancelled"

STATE_LABELS = {
    SUBMITTED: "已提交",
    ACCEPTED: "已受理",
    REJECTED: "未受理",
    DUPLICATE: "重复已合并",
    DISPATCHED: "待接单",
    CLAIMED: "已接单",
    IN_SERVICE: "服务中",
    DONE: "已完成待确认",
    CLOSED: "已办结",
    CANCELLED: "已撤销",
}
TERMINAL = {REJECTED, DUPLICATE, CLOSED, CANCELLED}
OPEN_STATES = (SUBMITTED, ACCEPTED, DISPATCHED, CLAIMED, IN_SERVICE, DONE)

# action -> (states it may start from, state it leads to); None: the state stays or the use
# case decides (claims of multi-member requests, hand-backs)
TRANSITIONS = {
    "submit": ({None}, SUBMITTED),
    "accept": ({SUBMITTED}, ACCEPTED),
    "reject": ({SUBMITTED, ACCEPTED}, REJECTED),
    "merge": ({SUBMITTED, ACCEPTED, DISPATCHED}, DUPLICATE),
    "dispatch": ({ACCEPTED, DISPATCHED}, DISPATCHED),
    "open": ({DISPATCHED}, DISPATCHED),
    "claim": ({DISPATCHED}, None),
    "decline": ({DISPATCHED, CLAIMED}, None),
    "hand_back": ({DISPATCHED, CLAIMED}, DISPATCHED),
    "reassign": ({ACCEPTED, DISPATCHED, CLAIMED}, None),
    "start": ({CLAIMED}, IN_SERVICE),
    "complete": ({CLAIMED, IN_SERVICE}, DONE),
    "confirm": ({DONE}, CLOSED),
    "cancel": ({SUBMITTED, ACCEPTED, DISPATCHED, CLAIMED}, CANCELLED),
    "escalate": ({ACCEPTED, DISPATCHED, CLAIMED, IN_SERVICE}, None),
    "send_down": ({ACCEPTED, DISPATCHED, CLAIMED, IN_SERVICE}, None),
    "joint_meeting": ({ACCEPTED, DISPATCHED}, CLAIMED),
    "remind": (set(OPEN_STATES), None),
}

ACTION_LABELS = {
    "submit": "提交", "accept": "受理", "reject": "不予受理", "merge": "合并为重复请求",
    "dispatch": "派单", "open": "开放认领", "claim": "接单", "decline": "谢绝派单",
    "hand_back": "退单", "reassign": "改派", "start": "开始服务", "complete": "服务完成",
    "confirm": "确认评价", "cancel": "撤销", "escalate": "上报", "send_down": "退回下级",
    "joint_meeting": "联席会议交办", "remind": "提醒", "post": "发布", "fulfil": "完成心愿",
    "assign": "交办", "resolve": "办结", "overdue": "逾期督办",
}


def invalid_transition(state: str, code="INVALID_TRANSITION", message=None) -> Conflict:
    """409 with the current state; only common error types cross the wire."""
    return Conflict(code=code, details={"current_state": state},
                    message=message or f"当前状态为“{STATE_LABELS.get(state, state)}”，不能进行此操作")


def next_state(state: str | None, action: str) -> str:
    allowed, target = TRANSITIONS[action]
    if state not in allowed:
        raise invalid_transition(state)
    return target or state


def state_after_claim(claimed: int, needed: int) -> str:
    """A request stays open to claim until as many members as it needs have taken it."""
    return CLAIMED if claimed >= needed else DISPATCHED


# ---- levels (统筹: grid → community → street → district) ---------------------------------

LEVELS = ("grid", "community", "street", "district")
LEVEL_LABELS = {"grid": "网格", "community": "社区", "street": "街道", "district": "区县"}
ROLE_LEVEL = {"grid_leader": "grid", "community_staff": "community", "street_staff": "street",
              "district_staff": "district"}


def initial_level(grid_id) -> str:
    return "grid" if grid_id else "community"


def level_up(level: str) -> str | None:
    """The next level up, or None at the top (the district has no one above it)."""
    i = LEVELS.index(level)
    return LEVELS[i + 1] if i + 1 < len(LEVELS) else None


def level_down(level: str, has_grid: bool) -> str | None:
    i = LEVELS.index(level)
    if i == 0:
        return None
    below = LEVELS[i - 1]
    if below == "grid" and not has_grid:
        return None
    return below


def escalation(state: str, level: str, actor_role: str | None = None) -> str:
    """The level an escalation leads to: one above the request's level, or above the escalating
    staff's own level (community staff raise to the street); 409 at the top."""
    next_state(state, "escalate")
    if actor_role in ROLE_LEVEL and LEVELS.index(ROLE_LEVEL[actor_role]) > LEVELS.index(level):
        level = ROLE_LEVEL[actor_role]
    up = level_up(level)
    if up is None:
        raise Conflict(code="ALREADY_AT_TOP", details={"current_state": state, "level": level},
                       message="已上报至区县一级，无法再上报，请召开联席会议统筹解决")
    return up


def send_down_to(state: str, level: str, has_grid: bool) -> str:
    next_state(state, "send_down")
    down = level_down(level, has_grid)
    if down is None:
        raise Conflict(code="ALREADY_AT_BOTTOM", details={"current_state": state, "level": level},
                       message="已在最基层，无法再退回")
    return down


# ---- who may do what ---------------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    """Where a request sits in the tree, and the level it is waiting at."""

    community_id: int
    street_id: int | None = None
    district_id: int | None = None
    grid_id: int | None = None
    level: str = "community"


def check_is_requester(actor: dict, resident_id: int | None):
    if actor["role"] == "resident" and actor["user_id"] != resident_id:
        raise Forbidden(message="只能操作自己提交的服务请求")


def in_scope(actor: dict, place: Place) -> bool:
    """Staff (and grid leaders) whose part of the tree contains the request."""
    if actor["role"] == "grid_leader":
        return actor.get("community_id") == place.community_id and (
            place.grid_id is None or actor.get("grid_id") in (None, place.grid_id))
    return reaches(actor, community_id=place.community_id, street_id=place.street_id,
                   district_id=place.district_id)


def check_can_manage(actor: dict, place: Place):
    """Dispatching staff: grid leaders and community staff below the street; street and district
    staff on what was escalated to their level (their queues). The system acts anywhere."""
    role = actor["role"]
    if role == "system":
        return
    if role not in ROLE_LEVEL:
        raise Forbidden(message="只有网格长和社区、街道、区县工作人员可以调度服务请求")
    if not in_scope(actor, place):
        raise Forbidden(code="OUT_OF_SCOPE", message="该服务请求不在您的管辖范围内")
    mine = LEVELS.index(ROLE_LEVEL[role])
    theirs = LEVELS.index(place.level)
    if role in ("grid_leader", "community_staff"):
        if theirs > LEVELS.index("community") or (role == "grid_leader" and theirs > mine):
            raise Forbidden(code="ESCALATED", details={"level": place.level},
                            message=f"该请求已上报至{LEVEL_LABELS[place.level]}，由上级统筹办理")
    elif theirs < mine:
        raise Forbidden(code="NOT_ESCALATED", details={"level": place.level},
                        message="该请求尚未上报到您这一级，由社区和网格办理")


def check_can_claim(actor: dict, offered_to: set[int], open_to_all: bool, same_community: bool = True):
    if actor["role"] not in ("member", "grid_leader"):
        raise Forbidden(message="只有报到党员可以接单")
    if actor["user_id"] in offered_to:
        return
    if not open_to_all or not same_community:
        raise Forbidden(code="NOT_OFFERED", message="该服务请求没有派给您，不能接单")


def check_can_confirm(actor: dict, resident_id: int | None, place: Place):
    """The resident who ordered, or staff on their behalf (an elderly caller who phoned in)."""
    if actor["role"] == "resident":
        check_is_requester(actor, resident_id)
        return
    if actor["role"] == "system" or (actor["role"] in ROLE_LEVEL and in_scope(actor, place)):
        return
    raise Forbidden(message="只有点单居民或其所在社区的工作人员可以确认")


def check_rating(rating: int):
    if not 1 <= rating <= 5:
        raise ValidationFailed(code="RATING_OUT_OF_RANGE", message="评分应在1到5星之间",
                               fields={"rating": ["评分应在1到5之间"]})


def points_for(base_points: int, rating: int) -> int:
    """Points credited on confirmation: the menu item's points, more for a top rating."""
    return base_points + (base_points // 2 if rating == 5 else 0)


AUTO_CONFIRM_RATING = 5  # 超时未评价默认好评, as residents are told when they order


def available_actions(actor: dict, state: str, *, resident_id: int | None, my_status: str | None,
                      open_to_all: bool, same_community: bool) -> list[str]:
    """What the caller can do next on a request, so a phone shows only the buttons that work.
    The commands still check everything themselves; this only saves a tap that would fail."""
    role = actor["role"]
    actions = []

    def allowed(action):
        return state in TRANSITIONS[action][0]

    if role == "resident" and actor["user_id"] == resident_id:
        actions += [a for a in ("cancel", "confirm") if allowed(a)]
    elif role in ("member", "grid_leader"):
        if allowed("claim") and my_status != "claimed" and (my_status == "offered" or (open_to_all and same_community)):
            actions.append("claim")
        if my_status == "offered" and allowed("decline"):
            actions.append("decline")
        if my_status == "claimed":
            actions += [a for a in ("hand_back", "start", "complete") if allowed(a)]
    return actions


# ---- policy and deadlines ----------------------------------------------------------------

DEFAULT_POLICY = {"auto_accept": True, "offer_top_k": 3, "open_after_minutes": 60.0}
DEFAULT_DEADLINES = {"claim_minutes": 24 * 60.0, "service_minutes": 72 * 60.0,
                     "confirm_minutes": 72 * 60.0, "remind_before_minutes": 60.0}


def deadlines(policy: dict | None) -> dict:
    return {**DEFAULT_DEADLINES, **{k: v for k, v in (policy or {}).items() if v is not None}}


def due(now: datetime, minutes: float) -> datetime:
    return now + timedelta(minutes=minutes)


# which deadline a state runs against, and the state whose entry starts its clock
OVERDUE_CLOCKS = {DISPATCHED: ("claim_minutes", DISPATCHED), CLAIMED: ("service_minutes", CLAIMED),
                  IN_SERVICE: ("service_minutes", CLAIMED)}


def overdue(state: str, entered: dict, policy: dict | None, now: datetime) -> bool:
    """已超时: waiting for claims past the claim deadline, or claimed / in service past the
    service deadline, counted from when the request last entered the stage (``entered``: state ->
    time). Escalation on a deadline does not restart the clock: the request stays overdue."""
    clock = OVERDUE_CLOCKS.get(state)
    if clock is None or entered.get(clock[1]) is None:
        return False
    return due(entered[clock[1]], deadlines(policy)[clock[0]]) <= now


def reminder_at(now: datetime, deadline_minutes: float, before_minutes: float) -> datetime | None:
    """When to remind before a deadline; None if the deadline is too close to bother."""
    if deadline_minutes <= before_minutes:
        return None
    return now + timedelta(minutes=deadline_minutes - before_minutes)


# ---- matching (精准服务) -------------------------------------------------------------------

WEIGHTS = {"skill": 40, "building": 20, "grid": 10, "available": 15, "load": 8, "fairness": 15}
FAIRNESS_HORIZON_DAYS = 30


@dataclass(frozen=True)
class Offer:
    member_ids: tuple[int, ...]


def rank_candidates(candidates: list[dict], *, grid_id=None, building_id=None, stats=None,
                    now: datetime) -> list[dict]:
    """Order registration's candidates by skill fit, nearness, free time, open load and fairness.

    ``stats``: member_id → {"open_load": int, "last_served_at": datetime | None}, from
    dispatch's own tables. Each result carries its ``score`` and the ``reasons`` staff see.
    """
    stats = stats or {}
    ranked = []
    for c in candidates:
        s = stats.get(c["member_id"], {})
        load = int(s.get("open_load") or 0)
        last = s.get("last_served_at")
        score = 0.0
        reasons = []
        match = int(c.get("skill_match") or 0)
        score += WEIGHTS["skill"] * match
        reasons.append(f"技能匹配{match}项" if match else "技能不完全匹配")
        if building_id and c.get("building_id") == building_id:
            score += WEIGHTS["building"]
            reasons.append("同一楼栋")
        elif grid_id and c.get("grid_id") == grid_id:
            score += WEIGHTS["grid"]
            reasons.append("同一网格")
        if c.get("available", True):
            score += WEIGHTS["available"]
            reasons.append("该时段有空")
        else:
            reasons.append("该时段没空")
        score -= WEIGHTS["load"] * load
        reasons.append(f"在办{load}单")
        if last is None:
            score += WEIGHTS["fairness"]
            reasons.append("尚未服务过，优先")
        else:
            days = max(0.0, (now - last).total_seconds() / 86400)
            score += WEIGHTS["fairness"] * min(days, FAIRNESS_HORIZON_DAYS) / FAIRNESS_HORIZON_DAYS
            reasons.append(f"{math.floor(days)}天前服务过")
        ranked.append({**c, "open_load": load, "last_served_at": last, "score": round(score, 2),
                       "reasons": reasons})
    # ties: the member who served longest ago, then the lower id, so ranking is deterministic
    ranked.sort(key=lambda r: (-r["score"], r["last_served_at"] is not None,
                               r["last_served_at"] or now, r["member_id"]))
    for i, r in enumerate(ranked, start=1):
        r["rank"] = i
    return ranked


def choose_offer(candidates: list[dict], top_k: int) -> Offer:
    """Offer to the best-ranked candidates, in rank order."""
    return Offer(tuple(c["member_id"] for c in candidates[:top_k]))


# ---- request fields (Open311-style attribute definitions) --------------------------------

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")


def validate_definitions(definitions: list[dict]) -> list[dict]:
    """A menu item's field definitions: unique codes, list types with their values."""
    errors = {}
    seen = set()
    for i, d in enumerate(definitions):
        if d["code"] in seen:
            errors[str(i)] = ["栏目代码重复"]
        seen.add(d["code"])
        if d["datatype"].endswith("valuelist") and not d.get("values"):
            errors[str(i)] = ["选择题需要给出可选值"]
    if errors:
        raise ValidationFailed(fields={"fields": errors})
    return sorted(definitions, key=lambda d: d.get("order", 0))


def _is_datetime(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
        return True
    except ValueError:
        return False


def service_time(definitions: list[dict], answers: dict) -> str | None:
    """The time the resident wants the service: the first datetime field answered (matching
    counts only members free then)."""
    for d in definitions:
        if d.get("datatype") == "datetime" and _is_datetime(answers.get(d["code"])):
            return answers[d["code"]]
    return None


BEIJING = ZoneInfo("Asia/Shanghai")


def beijing_text(moment: datetime) -> str:
    """A time as people here read it (a naive time is taken as Beijing time, as typed)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(BEIJING)
    return moment.strftime("%Y-%m-%d %H:%M")


def answer_items(definitions: list[dict], answers: dict) -> list[dict]:
    """The answers as a person reads them: each field's Chinese name and the chosen options' names."""
    items = []
    for d in sorted(definitions or [], key=lambda d: d.get("order", 0)):
        value = answers.get(d["code"])
        if value in (None, "", []):
            continue
        names = {v["key"]: v["name"] for v in d.get("values", [])}
        if isinstance(value, list):
            shown = "、".join(str(names.get(v, v)) for v in value)
        elif d.get("datatype") == "datetime" and _is_datetime(value):
            shown = beijing_text(datetime.fromisoformat(value))
        else:
            shown = str(names.get(value, value))
        items.append({"code": d["code"], "label": d.get("description") or d["code"], "value": shown})
    return items


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
        keys = [v["key"] for v in d.get("values", [])]
        if kind in ("string", "text") and not isinstance(value, str):
            errors[d["code"]] = ["应为文字"]
        elif kind == "string" and len(value) > 200:
            errors[d["code"]] = ["不能超过200字，长内容请写在描述里"]
        elif kind == "text" and isinstance(value, str) and len(value) > 4000:
            errors[d["code"]] = ["不能超过4000字"]
        elif kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
            errors[d["code"]] = ["应为数字"]
        elif kind == "datetime" and not _is_datetime(value):
            errors[d["code"]] = ["应为日期时间，如 2026-11-21T09:00:00+08:00"]
        elif kind == "singlevaluelist" and value not in keys:
            errors[d["code"]] = ["不是可选的值"]
        elif kind == "multivaluelist" and (not isinstance(value, list) or any(v not in keys for v in value)):
            errors[d["code"]] = ["应为可选值的列表"]
    if errors:
        raise ValidationFailed(code="INVALID_FIELDS", message="服务项目要求填写的内容有误，请按提示修改",
                               fields={"fields": errors})
    return values


# ---- micro-wishes (微心愿) ----------------------------------------------------------------

WISH_POSTED, WISH_CLAIMED, WISH_FULFILLED, WISH_CONFIRMED = "posted", "claimed", "fulfilled", "confirmed"
WISH_CANCELLED = "cancelled"
WISH_LABELS = {WISH_POSTED: "待认领", WISH_CLAIMED: "已认领", WISH_FULFILLED: "已实现待确认",
               WISH_CONFIRMED: "已确认", WISH_CANCELLED: "已撤销"}
WISH_TRANSITIONS = {
    "post": ({None}, WISH_POSTED),
    "claim": ({WISH_POSTED}, WISH_CLAIMED),
    "fulfil": ({WISH_CLAIMED}, WISH_FULFILLED),
    "confirm": ({WISH_FULFILLED}, WISH_CONFIRMED),
    "cancel": ({WISH_POSTED, WISH_CLAIMED}, WISH_CANCELLED),
}


def wish_next(state: str | None, action: str) -> str:
    allowed, target = WISH_TRANSITIONS[action]
    if state not in allowed:
        raise Conflict(code="INVALID_TRANSITION", details={"current_state": state},
                       message=f"心愿当前为“{WISH_LABELS.get(state, state)}”，不能进行此操作")
    return target


# ---- opinions (民意) ----------------------------------------------------------------------

OP_SUBMITTED, OP_ASSIGNED, OP_RESOLVED = "submitted", "assigned", "resolved"
OPINION_LABELS = {OP_SUBMITTED: "已收集", OP_ASSIGNED: "办理中", OP_RESOLVED: "已办结"}
OPINION_TRANSITIONS = {
    "submit": ({None}, OP_SUBMITTED),
    "assign": ({OP_SUBMITTED, OP_ASSIGNED}, OP_ASSIGNED),
    "resolve": ({OP_SUBMITTED, OP_ASSIGNED}, OP_RESOLVED),
    "overdue": ({OP_SUBMITTED, OP_ASSIGNED}, None),
}
# days to resolve: a complaint is more urgent than a suggestion
OPINION_DUE_DAYS = {"complaint": 3, "suggestion": 7}


def opinion_next(state: str | None, action: str) -> str:
    allowed, target = OPINION_TRANSITIONS[action]
    if state not in allowed:
        raise Conflict(code="INVALID_TRANSITION", details={"current_state": state},
                       message=f"该意见当前为“{OPINION_LABELS.get(state, state)}”，不能进行此操作")
    return target or state


def resolution_rate(collected: int, resolved: int) -> float:
    return round(resolved / collected, 3) if collected else 0.0


# ---- hours actually served (志愿服务时长, 民函〔2012〕340号: no travel) ---------------------------

HOURS_FLOOR = 0.1  # a bound below this would let "0 hours" through by accident


def hour_bounds(default_hours, min_hours, max_hours, expected_minutes) -> dict:
    """The menu item's bounds; its default is the community's own figure (or its expected time)."""
    low, high = float(min_hours), float(max_hours)
    default = float(default_hours) if default_hours is not None else round((expected_minutes or 60) / 60, 2)
    return {"default": min(max(default, low), high), "min": low, "max": high}


def check_hour_bounds(default_hours, min_hours, max_hours):
    """A menu item's bounds must make sense together: floor ≤ min ≤ default ≤ max."""
    errors = {}
    if min_hours < HOURS_FLOOR:
        errors["min_hours"] = [f"最短时长不能小于{HOURS_FLOOR:g}小时"]
    if max_hours < min_hours:
        errors["max_hours"] = ["最长时长不能小于最短时长"]
    if default_hours is not None and not (min_hours <= default_hours <= max_hours):
        errors["default_hours"] = ["默认时长应在最短与最长时长之间"]
    if errors:
        raise ValidationFailed(code="INVALID_HOUR_BOUNDS", fields=errors, message="服务时长的上下限设置有误")


def stated_hours(given, bounds: dict) -> tuple[float, str]:
    """The hours a member states at completion: within the bounds, never 0 by accident.

    Not stated → the item's default (the community's figure, marked so the organiser sees it
    was not stated); never derived from when start and complete were pressed.
    """
    if given is None:
        return bounds["default"], "default"
    hours = round(float(given), 2)
    if not (bounds["min"] <= hours <= bounds["max"]):
        raise ValidationFailed(
            code="HOURS_OUT_OF_RANGE",
            fields={"hours": [f"应在{bounds['min']:g}到{bounds['max']:g}小时之间（只计实际服务时间，不含路途）"]},
            message=f"服务时长应在{bounds['min']:g}到{bounds['max']:g}小时之间")
    return hours, "stated"
