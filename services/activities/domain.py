"""Rules of activities and themed Party days, pure: no database, no broker, no clock of its own.

Times are timezone-aware UTC datetimes; callers pass ``now``.
"""

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta

from common.actors import reaches
from common.errors import Conflict, Forbidden, ValidationFailed

PUBLISHED, CANCELLED, CLOSED = "published", "cancelled", "closed"
STATE_LABELS = {PUBLISHED: "报名/进行中", CANCELLED: "已取消", CLOSED: "已结束（考勤已关闭）"}

CONFIRMED, WAITLISTED, WITHDRAWN = "confirmed", "waitlisted", "cancelled"
ACTIVE_SIGNUPS = (CONFIRMED, WAITLISTED)
SIGNUP_LABELS = {CONFIRMED: "已报名", WAITLISTED: "候补中", WITHDRAWN: "已取消报名"}

PRESENT, LATE, LEAVE, ABSENT = "present", "late", "leave", "absent"
ATTENDANCE = (PRESENT, LATE, LEAVE, ABSENT)
ATTENDANCE_LABELS = {PRESENT: "出席", LATE: "迟到", LEAVE: "请假", ABSENT: "缺席"}

AUDIENCES = ("community", "grid", "e_branch", "work_unit")
KINDS = ("volunteer", "party_day")

CODE_STEP_SECONDS = 60  # the on-site code changes every minute
CODE_DIGITS = 6
CODE_ACCEPTED_STEPS = 1  # also accept the code of the previous minute: typing takes time
CHECK_IN_OPENS_BEFORE = timedelta(minutes=30)
CHECK_OUT_CLOSES_AFTER = timedelta(minutes=30)
LATE_AFTER = timedelta(minutes=15)
ATTENDANCE_CLOSES_AFTER = timedelta(hours=2)  # the leader's time to correct before points flow
REMINDER_BEFORE = timedelta(days=1)
MAX_DURATION = timedelta(days=3)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# ---- publishing ---------------------------------------------------------------------------

def check_schedule(starts_at: datetime, ends_at: datetime, deadline: datetime | None, now: datetime):
    """A publishable time window: in the future, ends after it starts, deadline before the end."""
    errors = {}
    if ends_at <= starts_at:
        errors["ends_at"] = ["结束时间应晚于开始时间"]
    elif ends_at - starts_at > MAX_DURATION:
        errors["ends_at"] = ["一次活动最长3天，更长的请分几次发布"]
    if ends_at <= now:
        errors.setdefault("ends_at", ["活动结束时间已过，不能发布或改到过去"])
    if deadline is not None and deadline > ends_at:
        errors["signup_deadline"] = ["报名截止时间不能晚于活动结束时间"]
    if errors:
        raise ValidationFailed(fields=errors)


def default_deadline(starts_at: datetime) -> datetime:
    return starts_at


def check_audience_shape(audience: str, audience_id: int | None):
    if audience == "community":
        return None
    if audience_id is None:
        raise ValidationFailed(fields={"audience_id": ["面向网格、e支部或单位党员时须指明是哪一个"]})
    return audience_id


def check_can_publish(actor: dict, place: dict, audience: str, audience_id: int | None):
    """Who may publish for whom.

    ``place`` is the community (from registration: id, street_id, district_id). A community's
    staff publish for it (any audience); a grid leader for their grid or the whole community;
    an e-branch secretary for their e-branch; a co-building work unit's organisation a themed
    Party day for its own members in the community, or for the whole community.
    """
    role = actor["role"]
    community_id = place["id"]
    if role in ("community_staff", "street_staff", "district_staff", "system"):
        if not reaches(actor, community_id=community_id, street_id=place.get("street_id"),
                       district_id=place.get("district_id")):
            raise Forbidden(code="OUT_OF_SCOPE", message="只能为本人管辖范围内的社区发布活动")
        return
    if role == "grid_leader":
        if actor.get("community_id") != community_id:
            raise Forbidden(code="OUT_OF_SCOPE", message="网格长只能在本社区发布活动")
        if (audience == "grid" and audience_id == actor.get("grid_id")) or audience == "community":
            return
        raise Forbidden(code="AUDIENCE_NOT_ALLOWED", message="网格长只能面向本网格或全社区发布活动")
    if role == "unit_org":
        if actor.get("work_unit_id") is None:
            raise Forbidden(code="NO_WORK_UNIT", message="您的账号没有关联单位党组织，不能发布主题党日")
        if audience == "community" or (audience == "work_unit" and audience_id == actor["work_unit_id"]):
            return
        raise Forbidden(code="AUDIENCE_NOT_ALLOWED", message="单位党组织只能面向本单位党员或全社区发布活动")
    if role == "member" and actor.get("e_branch_secretary") and actor.get("e_branch_id") is not None:
        if actor.get("community_id") == community_id and audience == "e_branch" \
                and audience_id == actor["e_branch_id"]:
            return
        raise Forbidden(code="AUDIENCE_NOT_ALLOWED", message="e支部书记只能面向本e支部在本社区发布活动")
    raise Forbidden(message="您的角色不能发布活动")


def can_manage(actor: dict, activity: dict) -> bool:
    """The on-site leader: the publisher, the appointed leader, or staff over the community."""
    if actor.get("user_id") is not None and actor["user_id"] in (activity["publisher_id"], activity.get("leader_id")):
        return True
    if actor["role"] == "grid_leader":
        # grid leaders run their own grid's activities, not the whole community's
        return activity["audience"] == "grid" and activity.get("audience_id") == actor.get("grid_id") \
            and actor.get("community_id") == activity["community_id"]
    if actor["role"] in ("community_staff", "street_staff", "district_staff", "system"):
        return reaches(actor, community_id=activity["community_id"], street_id=activity.get("street_id"),
                       district_id=activity.get("district_id"))
    if actor["role"] == "unit_org":
        return activity["publisher_role"] == "unit_org" and activity.get("work_unit_id") == actor.get("work_unit_id")
    return False


def check_can_manage(actor: dict, activity: dict):
    if not can_manage(actor, activity):
        raise Forbidden(code="NOT_ACTIVITY_LEADER", message="只有活动发布人、带队负责人或本社区工作人员可以进行此操作")


def check_places(places: int, confirmed: int):
    if places < confirmed:
        raise Conflict(code="PLACES_BELOW_CONFIRMED", details={"confirmed": confirmed},
                       message=f"已有{confirmed}人报名成功，名额不能减到{places}；如需减少请先与报名者沟通")


# ---- signing up -----------------------------------------------------------------------------

def in_audience(actor: dict, activity: dict) -> bool:
    """Whether the member belongs to the activity's audience (facts from the actor's token)."""
    if actor.get("community_id") != activity["community_id"] and activity["audience"] != "work_unit":
        return False
    audience, target = activity["audience"], activity.get("audience_id")
    if audience == "community":
        return True
    if audience == "grid":
        return actor.get("grid_id") == target
    if audience == "e_branch":
        return actor.get("e_branch_id") == target
    if audience == "work_unit":
        return actor.get("work_unit_id") == target
    return False


def resident_may_join(actor: dict, activity: dict) -> bool:
    """Residents take part in their community's open volunteer activities, not themed Party days."""
    return (actor.get("community_id") == activity["community_id"] and activity["audience"] == "community"
            and activity.get("kind", "volunteer") == "volunteer")


def check_can_sign_up(actor: dict, activity: dict, now: datetime):
    """Everything decidable before touching the places counter; the counter decides the rest."""
    if actor["role"] == "resident":
        check_open_for_signup(activity, now)
        if not resident_may_join(actor, activity):
            raise Forbidden(code="MEMBERS_ONLY", message="该活动只面向党员，居民可以报名面向全社区的活动")
        return
    if actor["role"] not in ("member", "grid_leader"):
        raise Forbidden(code="MEMBERS_ONLY", message="只有报到党员可以报名参加活动")
    check_open_for_signup(activity, now)
    if not in_audience(actor, activity):
        raise Forbidden(code="NOT_IN_AUDIENCE", message=f"该活动只面向{audience_label(activity)}，您不在其中")


def check_open_for_signup(activity: dict, now: datetime):
    if activity["state"] == CANCELLED:
        raise Conflict(code="ACTIVITY_CANCELLED", details={"current_state": CANCELLED},
                       message="该活动已取消，不能报名")
    if activity["state"] != PUBLISHED:
        raise Conflict(code="ACTIVITY_CLOSED", details={"current_state": activity["state"]},
                       message="该活动已结束，不能报名")
    if now >= activity["signup_deadline"]:
        raise Conflict(code="SIGNUP_CLOSED", details={"signup_deadline": activity["signup_deadline"].isoformat()},
                       message="报名已截止")


def audience_label(activity: dict) -> str:
    return {"community": "本社区党员", "grid": "本网格党员", "e_branch": "本e支部党员",
            "work_unit": "本单位党员"}[activity["audience"]]


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def time_conflict(other_title: str) -> Conflict:
    return Conflict(code="TIME_CONFLICT", details={"conflicting_activity": other_title},
                    message=f"您已报名的“{other_title}”与该活动时间重叠，请先取消其一")


def already_signed_up(status: str) -> Conflict:
    return Conflict(code="ALREADY_SIGNED_UP", details={"current_status": status},
                    message="您已报名该活动" if status == CONFIRMED else "您已在该活动的候补名单中")


def activity_full() -> Conflict:
    return Conflict(code="ACTIVITY_FULL", message="名额和候补名单都已满，不能再报名")


# ---- the rotating on-site code ---------------------------------------------------------------

def code_at(secret: bytes, activity_id: int, at: datetime) -> str:
    """A TOTP-style code: HMAC of the activity and the current minute under a per-activity secret."""
    step = int(at.timestamp()) // CODE_STEP_SECONDS
    digest = hmac.new(secret, f"{activity_id}:{step}".encode(), hashlib.sha256).digest()
    offset = digest[-1] & 0x0F  # dynamic truncation as in RFC 4226
    number = int.from_bytes(digest[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10 ** CODE_DIGITS).zfill(CODE_DIGITS)


def code_expires_at(at: datetime) -> datetime:
    step = int(at.timestamp()) // CODE_STEP_SECONDS
    return datetime.fromtimestamp((step + 1) * CODE_STEP_SECONDS, UTC)


def qr_payload(activity_id: int, code: str) -> str:
    return f"baodao:activity:{activity_id}:{code}"


_QR = re.compile(r"^baodao:activity:(\d+):(\d+)$")


def parse_code(activity_id: int, text: str) -> str:
    """The code as typed (6 digits) or as scanned (the QR payload of this activity)."""
    text = (text or "").strip()
    match = _QR.match(text)
    if match:
        if int(match.group(1)) != activity_id:
            raise Conflict(code="WRONG_ACTIVITY_CODE", message="扫描的是另一个活动的签到码")
        return match.group(2)
    if not text.isdigit() or len(text) != CODE_DIGITS:
        raise ValidationFailed(code="INVALID_CODE_FORMAT", fields={"code": [f"签到码应为{CODE_DIGITS}位数字"]},
                               message="签到码格式不对")
    return text


def verify_code(secret: bytes, activity_id: int, text: str, now: datetime):
    code = parse_code(activity_id, text)
    for back in range(CODE_ACCEPTED_STEPS + 1):
        expected = code_at(secret, activity_id, now - timedelta(seconds=back * CODE_STEP_SECONDS))
        if hmac.compare_digest(code, expected):
            return
    raise Conflict(code="WRONG_CODE", message="签到码不正确或已过期，请看现场最新的签到码")


def check_in_window(starts_at: datetime, ends_at: datetime, now: datetime):
    if now < starts_at - CHECK_IN_OPENS_BEFORE:
        raise Conflict(code="OUTSIDE_WINDOW", details={"opens_at": (starts_at - CHECK_IN_OPENS_BEFORE).isoformat()},
                       message="还没到签到时间（活动开始前30分钟开放签到）")
    if now > ends_at:
        raise Conflict(code="OUTSIDE_WINDOW", message="活动已结束，不能再签到；请联系带队负责人补记")


def check_out_window(starts_at: datetime, ends_at: datetime, now: datetime):
    if now < starts_at - CHECK_IN_OPENS_BEFORE or now > ends_at + CHECK_OUT_CLOSES_AFTER:
        raise Conflict(code="OUTSIDE_WINDOW",
                       message="不在签退时间内（活动结束后30分钟内可签退）；请联系带队负责人补记")


def attendance_on_check_in(starts_at: datetime, now: datetime) -> str:
    return LATE if now > starts_at + LATE_AFTER else PRESENT


def hours_between(starts_at: datetime, ends_at: datetime, check_in: datetime | None,
                  check_out: datetime | None) -> float:
    """Hours served, counted only inside the activity window; no check-out counts to the end."""
    if check_in is None:
        return 0.0
    begin = max(check_in, starts_at)
    end = min(check_out or ends_at, ends_at)
    if end <= begin:
        return 0.0
    return round((end - begin).total_seconds() / 3600, 2)


def window_hours(starts_at: datetime, ends_at: datetime) -> float:
    return round((ends_at - starts_at).total_seconds() / 3600, 2)


def check_mark(previous: str | None, status: str, reason: str, hours: float | None, max_hours: float):
    """The leader's attendance mark; changing a mark already made is a correction and needs a reason."""
    if status not in ATTENDANCE:
        raise ValidationFailed(fields={"status": ["应为 present、late、leave 或 absent"]})
    if previous is not None and not reason.strip():
        raise ValidationFailed(code="REASON_REQUIRED", fields={"reason": ["更正考勤须写明原因"]},
                               message=f"该党员已记为“{ATTENDANCE_LABELS[previous]}”，更正须写明原因")
    if hours is not None:
        if status in (LEAVE, ABSENT) and hours:
            raise ValidationFailed(fields={"hours": ["请假或缺席不计时长"]})
        if hours < 0 or hours > max_hours:
            raise ValidationFailed(fields={"hours": [f"时长应在0到{max_hours}小时之间（不超过活动时长）"]})


def hours_for_mark(status: str, hours: float | None, served: float, window: float) -> float:
    """Hours after a mark: what the leader says; else checked-in time; else, if present, the window."""
    if status in (LEAVE, ABSENT):
        return 0.0
    if hours is not None:
        return round(hours, 2)
    return served if served > 0 else window


def outcome(attendance: str | None, hours: float) -> str:
    """At close: ``attended`` (points follow), ``excused`` (leave) or ``no_show``."""
    if attendance == LEAVE:
        return "excused"
    if attendance in (PRESENT, LATE) and hours > 0:
        return "attended"
    return "no_show"


def check_can_close(activity: dict, now: datetime):
    if activity["state"] == CANCELLED:
        raise Conflict(code="ACTIVITY_CANCELLED", details={"current_state": CANCELLED}, message="该活动已取消")
    if activity["state"] == CLOSED:
        raise Conflict(code="ATTENDANCE_CLOSED", details={"current_state": CLOSED}, message="该活动的考勤已关闭")
    if now < activity["ends_at"]:
        raise Conflict(code="NOT_ENDED", message="活动还没有结束，不能关闭考勤")


def check_attendance_open(activity: dict):
    if activity["state"] == CLOSED:
        raise Conflict(code="ATTENDANCE_CLOSED", details={"current_state": CLOSED},
                       message="该活动的考勤已关闭，时长和积分已结算，不能再更改")
    if activity["state"] == CANCELLED:
        raise Conflict(code="ACTIVITY_CANCELLED", details={"current_state": CANCELLED}, message="该活动已取消")


def reminder_at(starts_at: datetime, now: datetime) -> datetime | None:
    """The day before; published later than that, at once; none once it has started."""
    if starts_at <= now:
        return None
    return max(starts_at - REMINDER_BEFORE, now)


def close_at(ends_at: datetime) -> datetime:
    return ends_at + ATTENDANCE_CLOSES_AFTER
