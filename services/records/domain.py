"""The volunteer record's rules, pure: hours confirmation, star levels, who may do what, numbering.

Sources: 《志愿服务记录与证明出具办法（试行）》(民政部令第67号), 《志愿服务记录办法》(民函〔2012〕340号:
hours actually served excluding travel; 100/300/600/1000/1500 hours make a one- to five-star
volunteer), 民发〔2015〕149号 (谁记录谁证明).
"""

import os
import secrets
from datetime import date

import authz
from common.errors import Conflict, ValidationFailed

STATED, CONFIRMED = "stated", "confirmed"
STATUS_LABELS = {STATED: "待确认", CONFIRMED: "已确认"}
SOURCE_LABELS = {"request": "居民点单", "need": "社区需求", "wish": "微心愿", "activity": "志愿活动",
                 "staff": "工作人员补录"}
HOURS_SOURCE_LABELS = {"stated": "党员填报", "default": "未填报，按服务项目默认时长", "attendance": "活动考勤",
                       "none": "未填报时长", "staff": "工作人员录入"}
MAX_ENTRY_HOURS = 200.0

DEFAULT_STAR_THRESHOLDS = (100.0, 300.0, 600.0, 1000.0, 1500.0)
STAR_NAMES = ("", "一星级", "二星级", "三星级", "四星级", "五星级")

COMPLAINT_OUTCOMES = {"upheld": "投诉属实", "partly_upheld": "部分属实", "not_upheld": "投诉不属实",
                      "withdrawn": "投诉人撤回"}
STAFF = ("community_staff", "street_staff", "district_staff")


# ---- hours ---------------------------------------------------------------------------------

def confirm_hours(status: str, stated: float | None, current: float | None, given: float | None,
                  reason: str) -> tuple[float, str]:
    """The organiser confirms the stated hours, or corrects them with a reason.

    Returns (hours, action): "confirm" when the stated hours stand (or, none stated, the organiser
    gives them), "correct" when other hours replace stated or already confirmed ones. Never 0:
    a service that did not happen is not confirmed at all.
    """
    reason = (reason or "").strip()
    if status == CONFIRMED:
        if given is None:
            raise Conflict(code="ALREADY_CONFIRMED", message="该条记录的时长已确认；如需更正请填写新的时长和原因")
        hours = _checked(given)
        if current is not None and abs(hours - current) < 1e-9:
            raise Conflict(code="NO_CHANGE", message="时长与已确认的相同，无需更正")
        _need_reason(reason)
        return hours, "correct"
    if given is None:
        if stated is None:
            raise ValidationFailed(code="HOURS_REQUIRED", fields={"hours": ["党员未填报时长，请填写实际服务时长"]},
                                   message="请填写实际服务时长（不含路途时间）")
        return stated, "confirm"
    hours = _checked(given)
    if stated is None or abs(hours - stated) < 1e-9:
        return hours, "confirm"
    _need_reason(reason)
    return hours, "correct"


def _checked(given: float) -> float:
    hours = round(float(given), 2)
    if not (0 < hours <= MAX_ENTRY_HOURS):
        raise ValidationFailed(code="HOURS_OUT_OF_RANGE", fields={"hours": [f"应大于0且不超过{MAX_ENTRY_HOURS:g}小时"]},
                               message="服务时长应大于0小时")
    return hours


def _need_reason(reason: str):
    if not reason:
        raise ValidationFailed(code="REASON_REQUIRED", fields={"reason": ["更正时长须写明原因"]},
                               message="更正时长须写明原因")


def counted_hours(entries: list[dict]) -> float:
    """Only confirmed hours count: on the card, for stars, in exports and certificates."""
    return round(sum(e["confirmed_hours"] or 0.0 for e in entries if e["status"] == CONFIRMED), 2)


# ---- star levels (星级志愿者, by cumulative confirmed hours; not the points-based 星级评定) ----------

def parse_thresholds(text: str | None) -> tuple[float, ...]:
    if not text:
        return DEFAULT_STAR_THRESHOLDS
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"VOLUNTEER_STAR_THRESHOLDS must be five numbers, got {text!r}") from None
    if len(values) != 5 or any(v <= 0 for v in values) or list(values) != sorted(set(values)):
        raise ValueError(f"VOLUNTEER_STAR_THRESHOLDS must be five increasing positive numbers, got {text!r}")
    return values


def star_thresholds() -> tuple[float, ...]:
    return parse_thresholds(os.environ.get("VOLUNTEER_STAR_THRESHOLDS"))


def volunteer_star(hours: float, thresholds=DEFAULT_STAR_THRESHOLDS) -> dict:
    level = sum(1 for t in thresholds if hours + 1e-9 >= t)
    nxt = thresholds[level] if level < len(thresholds) else None
    return {"level": level, "label": f"{STAR_NAMES[level]}志愿者" if level else "尚未达到星级志愿者",
            "hours": round(hours, 2), "next_level_at": nxt,
            "hours_to_next": round(nxt - hours, 2) if nxt is not None else None,
            "thresholds": list(thresholds)}


# ---- who may do what (the rows "records.*" of authz/table.py, with this record's facts) ----------

def record_facts(community_id: int | None, place: dict | None, *, owner_ids=(), assigned_ids=()) -> dict:
    place = place or {}
    return authz.facts(owner_ids=owner_ids, assigned_ids=assigned_ids, community_id=community_id,
                       street_id=place.get("street_id"), district_id=place.get("district_id"))


def can_manage_community(actor: dict, community_id: int | None, place: dict | None,
                         action: str = "records.records_queue") -> bool:
    """Staff whose part of the tree holds the community (``place``: its street and district)."""
    if community_id is None or actor["role"] not in (*STAFF, "system"):
        return False
    return authz.permits(actor, action, record_facts(community_id, place))


def organisers(volunteer: dict | None, secretary_id: int | None) -> list:
    """The secretary of the member's e-branch is assigned to confirm their hours — not their own."""
    if volunteer is None or secretary_id is None or secretary_id == volunteer.get("member_id"):
        return []
    return [secretary_id]


def check_can_confirm(actor: dict, entry_community_id: int, place: dict | None, volunteer: dict | None,
                      secretary_id: int | None = None, action: str = "records.records_confirm"):
    """The organiser: staff over the recording community, or the member's e-branch secretary.

    ``secretary_id``: the secretary of the member's e-branch in the recording community (registration).
    """
    owners = [volunteer["member_id"]] if volunteer and action == "records.records_entry" else []
    authz.check(actor, action, record_facts(entry_community_id, place, owner_ids=owners,
                                            assigned_ids=organisers(volunteer, secretary_id)),
                message="只有组织该服务的社区工作人员或e支部书记可以确认时长")


def can_view_record(actor: dict, member_id: int, holder_place: dict | None, holder_id: int | None) -> bool:
    """The member; staff over the community keeping the record (after a transfer: once consented)."""
    return authz.permits(actor, "records.member_record", record_facts(holder_id, holder_place, owner_ids=[member_id]))


def check_can_record(actor: dict, community_id: int | None, place: dict | None, action: str,
                     owner_id: int | None = None):
    """Trainings, awards, complaints, certificates, exports: staff of the recording organisation."""
    authz.check(actor, action, record_facts(community_id, place, owner_ids=[owner_id]),
                message="只能为本辖区社区记录、出具证明或导出")


def check_transfer_decision(actor: dict, transfer_member_id: int, status: str):
    authz.check(actor, "records.records_decide_transfer", authz.facts(owner_ids=[transfer_member_id]),
                message="只有党员本人可以决定是否转移志愿服务记录")
    if status != "pending":
        raise Conflict(code="TRANSFER_DECIDED", message="该转移申请已处理", details={"current_status": status})


# ---- certificates ------------------------------------------------------------------------------

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone


def certificate_number(issued_on: date, seq: int, suffix: str | None = None) -> str:
    """Unique (the sequence) and not guessable (the suffix): ZM-2026-000123-K7QX."""
    suffix = suffix or "".join(secrets.choice(_ALPHABET) for _ in range(4))
    return f"ZM-{issued_on.year}-{seq:06d}-{suffix}"


def check_period(since: date, until: date, today: date):
    if since > until:
        raise ValidationFailed(fields={"until": ["结束日期不能早于开始日期"]}, message="证明的时间段有误")
    if since > today:
        raise ValidationFailed(fields={"since": ["开始日期不能晚于今天"]}, message="证明的时间段有误")


def content_summary(entries: list[dict], limit: int = 6) -> str:
    """服务内容: the kinds of service by hours, e.g. "法律咨询3次共6小时；社区清洁1次共2小时"."""
    groups: dict[str, list[float]] = {}
    for e in entries:
        groups.setdefault(e["title"] or SOURCE_LABELS.get(e["source"], "志愿服务"), []).append(e["confirmed_hours"])
    ranked = sorted(groups.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    parts = [f"{title}{len(h)}次共{sum(h):g}小时" for title, h in ranked[:limit]]
    if len(ranked) > limit:
        parts.append(f"等{len(ranked)}类服务")
    return "；".join(parts)


def verification(cert: dict) -> dict:
    """What anyone holding the number may see: no name, no ID number, no volunteer number."""
    valid = cert["revoked_at"] is None
    return {"number": cert["number"], "valid": valid, "status": "valid" if valid else "revoked",
            "status_label": "有效" if valid else "已撤销", "issuer": cert["issuer_name"],
            "issued_on": cert["issued_on"], "since": cert["since"], "until": cert["until"],
            "hours": cert["hours"], "services": cert["services"],
            "revoked_on": cert["revoked_at"].date() if cert["revoked_at"] else None}


# ---- exports -------------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
