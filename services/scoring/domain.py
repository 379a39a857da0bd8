"""Scoring rules, free of I/O: what an event is worth and to whom, periods, evaluation and stars.

Every credit is keyed by the business fact it comes from (a request, a wish, an activity and a
member), not by the message that carried it: a redelivered or republished event yields the same
key and so never credits twice, and the same key arriving with different content is a conflict
for a person to review rather than a silent overwrite.
"""

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from common.errors import Conflict, Unprocessable, ValidationFailed

# The rules a deployment starts with; districts and then communities override any part of them.
DEFAULT_RULES = {
    # points for a confirmed service: a menu item's own figure, else its category's, else the
    # points dispatch sent with the event (which already reflect the rating)
    "service_points": {"items": {}, "categories": {}},
    # applied to points from the rules above (not to dispatch's hint, which is already rated)
    "rating_multipliers": {"1": 0.5, "2": 0.8, "3": 1.0, "4": 1.0, "5": 1.5},
    "activity_points_per_hour": 2.0,
    "wish_points": 5,
    "no_show_penalty": 3,
    "period_cap": None,  # most points a member can earn in one quarter; None: no cap
    "deduction_floor": 0,  # deductions may not take a balance below this
    # 立体评价: how the four sides weigh in a member's score (0–100)
    "weights": {"points": 0.5, "residents": 0.2, "community": 0.2, "work_unit": 0.1},
    "points_full_marks": 60,  # a quarter's points that count as a full 100 on the points side
    "star_thresholds": {"5": 90, "4": 75, "3": 60, "2": 40, "1": 20},
}

RULE_KEYS = set(DEFAULT_RULES)
PERIOD_RE = re.compile(r"^(\d{4})Q([1-4])$")


@dataclass(frozen=True)
class Credit:
    member_id: int
    points: int
    entry_key: str
    reason: str
    kind: str = "service"
    rating: int | None = None
    hours: float = 0.0
    detail: dict = field(default_factory=dict, compare=False)

    @property
    def content_hash(self) -> str:
        return content_hash(self.member_id, self.points, self.kind)


def content_hash(member_id: int, points: int, kind: str) -> str:
    """What makes two entries with one key "the same": who, how much, what for."""
    raw = json.dumps([member_id, points, kind], separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


# ---- rules -------------------------------------------------------------------------------------

def merge_rules(*layers: dict | None) -> dict:
    """Default ← district ← community; nested maps merge key by key, other values replace."""
    rules = copy.deepcopy(DEFAULT_RULES)
    for layer in layers:
        for key, value in (layer or {}).items():
            if isinstance(value, dict) and isinstance(rules.get(key), dict):
                rules[key] = _merge_dict(rules[key], value)
            else:
                rules[key] = value
    return rules


def _merge_dict(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge_dict(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def check_rules(layer: dict) -> dict:
    """A rules override must make sense before it is stored: weights, thresholds, signs."""
    errors = {}
    merged = merge_rules(layer)
    weights = merged["weights"]
    if set(weights) - {"points", "residents", "community", "work_unit"}:
        errors["weights"] = ["只能设置 points、residents、community、work_unit 四项权重"]
    elif any(w < 0 for w in weights.values()) or weights.get("points", 0) <= 0:
        errors["weights"] = ["权重不能为负，积分权重必须大于0"]
    thresholds = merged["star_thresholds"]
    if set(thresholds) - {"1", "2", "3", "4", "5"}:
        errors["star_thresholds"] = ["星级只能是1到5"]
    else:
        ordered = [thresholds[s] for s in sorted(thresholds, key=int)]
        if ordered != sorted(ordered) or any(not 0 <= t <= 100 for t in ordered):
            errors["star_thresholds"] = ["分数线应在0到100之间，且星级越高分数线越高"]
    for key in ("no_show_penalty", "wish_points", "activity_points_per_hour", "points_full_marks"):
        if merged[key] < 0:
            errors[key] = ["不能为负数"]
    if merged["points_full_marks"] == 0:
        errors["points_full_marks"] = ["应大于0"]
    if merged["period_cap"] is not None and merged["period_cap"] <= 0:
        errors["period_cap"] = ["上限应大于0，或设为 null 表示不设上限"]
    if merged["deduction_floor"] > 0:
        errors["deduction_floor"] = ["扣分下限不能高于0"]
    if any(k not in {"1", "2", "3", "4", "5"} or v < 0 for k, v in merged["rating_multipliers"].items()):
        errors["rating_multipliers"] = ["评价星级为1到5，倍数不能为负"]
    if errors:
        raise ValidationFailed(code="INVALID_RULES", message="积分规则设置有误，请按提示修改", fields=errors)
    return layer


def service_points(rules: dict, data: dict) -> int:
    """Base points for a confirmed request, then the rating multiplier when the base is ours."""
    configured = rules["service_points"]
    base = configured.get("items", {}).get(str(data.get("menu_item_id")))
    if base is None and data.get("category"):
        base = configured.get("categories", {}).get(data["category"])
    if base is None:
        return int(data["points"])  # dispatch's hint, already rated
    multiplier = rules["rating_multipliers"].get(str(data.get("rating")), 1.0)
    return int(round(base * multiplier))


def credits_for_confirmed_request(event_id: str, data: dict, rules: dict | None = None) -> list[Credit]:
    """Each member who served a confirmed request earns its points, keyed by request and member."""
    rules = rules or merge_rules()
    points = service_points(rules, data)
    return [
        Credit(member_id=m, points=points, entry_key=f"request:{data['request_id']}:{m}",
               reason=f"完成服务“{data['title']}”，居民评价{data['rating']}星", kind="service",
               rating=data.get("rating"))  # hours: only once confirmed (credit_for_confirmed_hours)
        for m in data["member_ids"]
    ]


def credit_for_confirmed_hours(event_id: str, data: dict) -> Credit | None:
    """Records confirmed (or corrected) an entry's hours: the ledger's hours follow, no points.

    Activities' hours already came with their attendance credit; only a correction adds to them.
    """
    previous = data.get("previous_hours")
    if data["source"] == "activity" and previous is None:
        return None
    delta = round(float(data["hours"]) - float(previous or 0.0), 2)
    if not delta:
        return None
    return Credit(member_id=data["member_id"], points=0, entry_key=f"hours:{data['entry_id']}:{event_id}",
                  reason=f"服务“{data['title']}”时长{'确认' if previous is None else '更正'}为{data['hours']:g}小时",
                  kind="hours", hours=delta)


def credits_for_wish(data: dict, rules: dict) -> list[Credit]:
    return [
        Credit(member_id=m, points=int(rules["wish_points"]), entry_key=f"wish:{data['wish_id']}:{m}",
               reason=f"认领并实现微心愿“{data['title']}”", kind="wish")
        for m in data.get("member_ids") or []
    ]


def credit_for_attendance(data: dict, rules: dict) -> Credit:
    hours = float(data["hours"])
    if hours < 0:
        raise ValidationFailed(fields={"hours": ["时长不能为负"]})
    points = int(round(hours * float(rules["activity_points_per_hour"])))
    return Credit(member_id=data["member_id"], points=points,
                  entry_key=f"activity:{data['activity_id']}:{data['member_id']}",
                  reason=f"参加活动“{data['title']}”{hours:g}小时", kind="activity", hours=hours)


def penalty_for_no_show(data: dict, rules: dict) -> Credit:
    return Credit(member_id=data["member_id"], points=-int(rules["no_show_penalty"]),
                  entry_key=f"activity:{data['activity_id']}:{data['member_id']}",
                  reason=f"报名活动“{data['title']}”后未到场", kind="no_show")


def capped(points: int, earned_in_period: int, cap: int | None) -> int:
    """A credit trimmed so a member's quarter never passes the cap (deductions are not capped)."""
    if cap is None or points <= 0:
        return points
    return max(0, min(points, cap - earned_in_period))


def floored(points: int, balance: int, floor: int) -> int:
    """An automatic deduction trimmed so it never takes the balance below the floor."""
    if points >= 0:
        return points
    return max(points, min(0, floor - balance))


def check_adjustment(points: int, reason: str, balance: int, floor: int):
    """A manual adjustment: never zero, always with a reason, never below the floor."""
    if points == 0:
        raise ValidationFailed(fields={"points": ["调整分值不能为0"]})
    if len((reason or "").strip()) < 2:
        raise ValidationFailed(code="REASON_REQUIRED", message="调整积分必须写明理由",
                               fields={"reason": ["请写明调整理由"]})
    if points < 0 and balance + points < floor:
        raise Unprocessable(code="BELOW_FLOOR", message=f"扣分后积分将低于规则允许的下限（{floor}分），不能扣减",
                            details={"balance": balance, "floor": floor})


# ---- periods -----------------------------------------------------------------------------------

def period_of(moment: datetime | date) -> str:
    return f"{moment.year}Q{(moment.month - 1) // 3 + 1}"


def parse_period(period: str) -> tuple[int, int]:
    match = PERIOD_RE.match(period or "")
    if not match:
        raise ValidationFailed(code="INVALID_PERIOD", message="季度格式应为如 2026Q3",
                               fields={"period": ["季度格式应为如 2026Q3"]})
    return int(match.group(1)), int(match.group(2))


def next_period(period: str) -> str:
    year, quarter = parse_period(period)
    return f"{year + 1}Q1" if quarter == 4 else f"{year}Q{quarter + 1}"


def landing_period(occurred: str, closed: set[str]) -> str:
    """Where an entry lands: its own quarter, or the first open one after it if that is closed."""
    period = occurred
    while period in closed:
        period = next_period(period)
    return period


def check_can_close(period: str, current: str, closed: set[str]):
    if period in closed:
        raise Conflict(code="PERIOD_ALREADY_CLOSED", message=f"{period} 已经结账，不能重复结账",
                       details={"period": period})
    if parse_period(period) > parse_period(current):
        raise Unprocessable(code="PERIOD_NOT_STARTED", message=f"{period} 尚未开始，不能结账")


# ---- 立体评价 and stars -------------------------------------------------------------------------

def evaluation_score(rules: dict, points: int, rating_avg: float | None, community: float | None,
                     work_unit: float | None) -> float:
    """Weighted 0–100 from the four sides; a side with no data drops out and the rest reweigh.

    One decimal, as reports and notices print it; stars are judged on that same figure."""
    weights = rules["weights"]
    sides = {"points": min(100.0, max(0.0, points * 100.0 / rules["points_full_marks"])),
             "residents": None if rating_avg is None else rating_avg * 20.0,
             "community": community, "work_unit": work_unit}
    total = sum(weights.get(k, 0) for k, v in sides.items() if v is not None)
    if total <= 0:
        return 0.0
    return round(sum(weights.get(k, 0) * v for k, v in sides.items() if v is not None) / total, 1)


def stars_for(rules: dict, score: float) -> int:
    thresholds = rules["star_thresholds"]
    return max((int(s) for s, t in thresholds.items() if score >= t), default=0)
