"""Registration rules, free of I/O: identity checks, privacy, and who may register whom."""

import hashlib
import hmac
import re

from common.errors import Forbidden, ValidationFailed

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def valid_phone(phone: str) -> bool:
    return bool(PHONE_RE.match(phone or ""))


def valid_id_number(id_number: str) -> bool:
    """Mainland resident ID (GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check character."""
    value = (id_number or "").strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == value[17]


def id_number_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def hash_id_number(id_number: str, key: bytes) -> str:
    """Keyed hash: duplicates are found on it; the number itself is never stored."""
    return hmac.new(key, id_number.strip().upper().encode(), hashlib.sha256).hexdigest()


def phone_subject(member: dict) -> dict:
    """The facts ``authz.shown_phone`` reads for a member's phone: the person and their community."""
    import authz

    return authz.facts(owner_ids=[member["id"]], community_id=member["community_id"])


def check_can_register(actor: dict, community_id: int):
    """Community staff enter members of their own community; anyone else is refused."""
    if actor["role"] == "system":
        return
    if actor["role"] != "community_staff" or actor.get("community_id") != community_id:
        raise Forbidden(message="只有本社区的工作人员可以为党员登记报到")


def check_identity(phone: str, id_number: str):
    errors = {}
    if not valid_phone(phone):
        errors["phone"] = ["手机号码格式不正确，应为11位中国大陆手机号"]
    if not valid_id_number(id_number):
        errors["id_number"] = ["身份证号码不正确（位数或校验位错误）"]
    if errors:
        raise ValidationFailed(fields=errors)


def check_place(community: dict | None, grid: dict | None, building: dict | None, *, grid_id, building_id):
    errors = {}
    if community is None or community["kind"] != "community":
        errors["community_id"] = ["找不到该社区"]
    else:
        if grid_id is not None and (grid is None or grid["parent_id"] != community["id"]):
            errors["grid_id"] = ["该网格不属于所选社区"]
        if building_id is not None and (
            building is None or grid is None or building["parent_id"] != grid["id"]
        ):
            errors["building_id"] = ["该楼栋不属于所选网格"]
    if errors:
        raise ValidationFailed(fields=errors)


# ---- the organisation tree -------------------------------------------------------------

# what kind of node may hang under what kind of parent
CHILD_KINDS = {"district": ("street",), "street": ("community",), "community": ("grid",), "grid": ("building",)}
# who may add or rename nodes of a kind, and how far up the parent must be in their reach
MANAGERS = {
    "street": ("district_staff",),
    "community": ("street_staff", "district_staff"),
    "grid": ("community_staff", "street_staff", "district_staff"),
    "building": ("community_staff", "street_staff", "district_staff"),
}


def check_child_kind(parent_kind: str | None, kind: str):
    if parent_kind is None or kind not in CHILD_KINDS.get(parent_kind, ()):
        allowed = "、".join(CHILD_KINDS.get(parent_kind or "", ())) or "无"
        raise ValidationFailed(code="INVALID_TREE_NODE", message="组织架构层级不正确",
                               fields={"kind": [f"该上级节点下只能建立：{allowed}"]})


def check_can_manage_node(actor: dict, kind: str, ancestry: dict):
    """Street staff manage their communities; community staff their grids and buildings."""
    from common.actors import reaches

    if actor["role"] == "system":
        return
    if actor["role"] not in MANAGERS.get(kind, ()) or not reaches(
            actor, community_id=ancestry.get("community_id"), street_id=ancestry.get("street_id"),
            district_id=ancestry.get("district_id")):
        raise Forbidden(message="该组织节点不在您的管理范围内")


# ---- the registration's life -------------------------------------------------------------

SUBMITTED, ACCEPTED, REJECTED, REVOKED = "submitted", "accepted", "rejected", "revoked"
STATUS_LABELS = {SUBMITTED: "待审核", ACCEPTED: "已报到", REJECTED: "未通过", REVOKED: "已撤销"}
TRANSITIONS = {
    "accept": ((SUBMITTED,), ACCEPTED),
    "reject": ((SUBMITTED,), REJECTED),
    "transfer": ((ACCEPTED,), ACCEPTED),  # a new job (or grid) in the same community: at once
    "move": ((ACCEPTED,), SUBMITTED),  # a new community: waits for that community's acceptance
    "revoke": ((ACCEPTED, SUBMITTED), REVOKED),
    "resubmit": ((REJECTED, REVOKED), SUBMITTED),
}


def next_status(current: str, action: str) -> str:
    from common.errors import Conflict

    allowed, after = TRANSITIONS[action]
    if current not in allowed:
        raise Conflict(code="INVALID_REGISTRATION_STATE",
                       message=f"报到登记当前为“{STATUS_LABELS.get(current, current)}”，不能进行此操作",
                       details={"current_status": current})
    return after


def check_reason(reason: str | None, field: str = "reason"):
    if not (reason or "").strip():
        raise ValidationFailed(fields={field: ["请填写原因"]})


def check_can_decide(actor: dict, community_id: int):
    """Accepting, rejecting, transferring, revoking: the community's staff, or offices above it."""
    if actor["role"] == "system":
        return
    if actor["role"] == "community_staff" and actor.get("community_id") == community_id:
        return
    raise Forbidden(message="只有党员所在社区的工作人员可以办理")


# ---- service posts ---------------------------------------------------------------------------

# Huada community's example (DOMAIN.md): 3 categories, 11 posts; each community may change its own
DEFAULT_POSTS = {
    "文明宣传": ["政策宣传", "文明示范", "文明健身"],
    "社区建设": ["计划生育监督", "就业信息", "卫生监督", "安全信息", "医疗保健"],
    "公共事务": ["扶贫帮困", "法律服务", "公益服务"],
}


# ---- free time -------------------------------------------------------------------------------

# weekdays are ISO numbers, 1 = Monday … 7 = Sunday; times are minutes after local midnight
PRESETS = {
    "weekday_evenings": ((1, 2, 3, 4, 5), 18 * 60, 22 * 60),
    "weekend_days": ((6, 7), 8 * 60, 18 * 60),
    "weekend_evenings": ((6, 7), 18 * 60, 22 * 60),
    "weekends": ((6, 7), 8 * 60, 22 * 60),
    "weekday_lunch": ((1, 2, 3, 4, 5), 12 * 60, 14 * 60),
}
PRESET_LABELS = {"weekday_evenings": "工作日晚上", "weekend_days": "周末白天", "weekend_evenings": "周末晚上",
                 "weekends": "周末全天", "weekday_lunch": "工作日午间"}
LOCAL_OFFSET_MINUTES = 8 * 60  # members' free time is stated in Beijing time


def parse_hhmm(value: str) -> int | None:
    match = re.fullmatch(r"([01]?\d|2[0-4]):([0-5]\d)", (value or "").strip())
    if not match:
        return None
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    return minutes if minutes <= 24 * 60 else None


def expand_windows(windows: list[dict]) -> list[tuple[int, int, int]]:
    """Presets and explicit windows → sorted, de-duplicated (weekday, start, end) rows."""
    rows, errors = set(), {}
    for n, window in enumerate(windows):
        if window.get("preset"):
            if window["preset"] not in PRESETS:
                errors[str(n)] = [f"不认识的空闲时段：{window['preset']}"]
                continue
            days, start, end = PRESETS[window["preset"]]
        else:
            days = window.get("weekdays") or []
            start, end = parse_hhmm(window.get("start", "")), parse_hhmm(window.get("end", ""))
            if not days or start is None or end is None or start >= end or any(d not in range(1, 8) for d in days):
                errors[str(n)] = ["空闲时段应为星期（1–7）和起止时间，如 18:00–21:30，且开始早于结束"]
                continue
        rows.update((d, start, end) for d in days)
    if errors:
        raise ValidationFailed(fields={"free_time": errors})
    return sorted(rows)


def local_slot(at) -> tuple[int, int]:
    """A moment (aware datetime) → (ISO weekday, minute of the day) in Beijing time."""
    from datetime import timedelta, timezone

    if at.tzinfo is None:  # a naive time is taken as Beijing time, as people write it
        local = at
    else:
        local = at.astimezone(timezone(timedelta(minutes=LOCAL_OFFSET_MINUTES)))
    return local.isoweekday(), local.hour * 60 + local.minute


def is_free(windows: list[tuple[int, int, int]], at) -> bool:
    day, minute = local_slot(at)
    return any(d == day and start <= minute < end for d, start, end in windows)


def describe_window(day: int, start: int, end: int) -> str:
    names = "一二三四五六日"
    return f"周{names[day - 1]} {start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d}"


# ---- skills ------------------------------------------------------------------------------------

def normalise_skills(skills) -> list[str]:
    """Trimmed, de-duplicated, order kept; a spreadsheet cell '法律、医疗' splits too."""
    if isinstance(skills, str):
        skills = re.split(r"[,，、;；/\s]+", skills)
    seen = []
    for skill in skills or []:
        skill = str(skill).strip()
        if skill and skill not in seen:
            seen.append(skill[:30])
    return seen


# ---- pairings ---------------------------------------------------------------------------------

def pairing_end(starts_on):
    """A pairing (结对) runs for a year: to the day before the same date next year."""
    from datetime import timedelta

    try:
        next_year = starts_on.replace(year=starts_on.year + 1)
    except ValueError:  # 29 February
        next_year = starts_on.replace(year=starts_on.year + 1, day=28)
    return next_year - timedelta(days=1)


def check_pairing_party(member_id, e_branch_id):
    if (member_id is None) == (e_branch_id is None):
        raise ValidationFailed(fields={"member_id": ["请选择结对的党员或e支部（二选一）"]})


# ---- the e-volunteer card ------------------------------------------------------------------------

def service_summary(records: list[dict]) -> dict:
    """Services done: how often, how many hours, and where (most frequent place first)."""
    places: dict[str, int] = {}
    for r in records:
        if r.get("place"):
            places[r["place"]] = places.get(r["place"], 0) + 1
    return {
        "count": len(records),
        "hours": round(sum(r.get("hours") or 0 for r in records), 1),
        "requests": sum(1 for r in records if r["source"] == "request"),
        "activities": sum(1 for r in records if r["source"] == "activity"),
        "places": [{"place": p, "count": c} for p, c in sorted(places.items(), key=lambda kv: (-kv[1], kv[0]))],
    }
