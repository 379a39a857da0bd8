"""Notification rules, free of I/O: templates, who hears what, preferences, quiet hours, retries.

Everything here is a pure function of its arguments (the clock is passed in), so the rules are
tested without a broker, a database or a network.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, timezone
from string import Formatter
from urllib.parse import quote_plus

from common.errors import ValidationFailed

# China has one time zone and no daylight saving: working hours are judged in UTC+8
CST = timezone(timedelta(hours=8), "CST")

PERSON_CHANNELS = ("inbox", "sms", "email")  # a person may choose these
GROUP_CHANNELS = ("wecom", "dingtalk")  # group-chat robots (e-branch and community groups)
SYSTEM_CHANNELS = ("webhook",)  # signed webhooks for other systems
CHANNELS = PERSON_CHANNELS + GROUP_CHANNELS + SYSTEM_CHANNELS
PUSH_CHANNELS = ("sms", "email")  # a person's channels that interrupt them (quiet hours apply)

# what each channel's settings need; secrets among them are never shown back
CHANNEL_CONFIG = {
    "sms": {"required": ("url",), "optional": ("api_key", "sign_name"), "secret": ("api_key",)},
    "email": {"required": ("host", "port", "sender"), "optional": ("username", "password", "starttls"),
              "secret": ("password",)},
    "wecom": {"required": ("url",), "optional": (), "secret": ("url",)},
    "dingtalk": {"required": ("url",), "optional": ("secret",), "secret": ("url", "secret")},
    "webhook": {"required": ("url", "secret"), "optional": (), "secret": ("secret",)},
}


@dataclass(frozen=True)
class Template:
    title: str
    body: str
    label: str
    urgent: bool = False

    @property
    def fields(self) -> list[str]:
        names = {name for text in (self.title, self.body)
                 for _, name, _, _ in Formatter().parse(text) if name}
        return sorted(names)


TEMPLATES = {
    # members
    "request_offered": Template(
        "新的服务需求：{title}",
        "社区有一项服务需求“{title}”与您的特长相符，请在“我的接单”中查看并接单。", "派单给党员"),
    "request_open": Template(
        "可认领的服务需求：{title}",
        "社区发布了一项服务需求“{title}”，暂无匹配党员，欢迎主动认领（在“我的接单”中查看）。", "开放认领"),
    "request_assigned": Template(
        "改派给您的服务需求：{title}",
        "社区工作人员把服务需求“{title}”改派给了您，请在“我的接单”中查看并尽快上门服务。", "改派给党员"),
    "request_deadline": Template(
        "服务时限将到：{title}",
        "您{stage_label}的服务需求“{title}”将于 {due_label} 到期，逾期将上报上一级统筹，请抓紧办理。",
        "时限提醒", urgent=True),
    "request_cancelled": Template(
        "服务需求已取消：{title}",
        "您接下或被派的服务需求“{title}”已取消，无需再上门。{reason}", "需求取消"),
    "request_thanks": Template(
        "居民已确认您的服务：{title}",
        "您完成的“{title}”已由居民确认，评分 {rating} 星，积分将计入您的电子义工证。", "服务获评"),
    "activity_published": Template(
        "新的志愿活动：{title}",
        "“{title}”将于 {starts_at} 在{place}举行，欢迎报名参加。", "活动发布"),
    "activity_reminder": Template(
        "活动提醒：{title}",
        "您报名的“{title}”将于 {starts_at} 在{place}开始，请准时签到。", "活动提醒", urgent=True),
    "activity_promoted": Template(
        "候补成功：{title}",
        "您候补的“{title}”有了空位，已为您保留名额，活动于 {starts_at} 开始。", "候补转正", urgent=True),
    "activity_cancelled": Template(
        "活动取消：{title}",
        "您报名的“{title}”（原定 {starts_at}）已取消。{reason}", "活动取消", urgent=True),
    # residents
    "request_accepted": Template(
        "您的服务请求已受理", "您提交的“{title}”已由社区受理，正在为您安排党员。", "已受理"),
    "request_rejected": Template(
        "您的服务请求未能受理", "很抱歉，您提交的“{title}”未能受理。原因：{reason}", "未受理"),
    "request_claimed": Template(
        "已有党员接单", "您提交的“{title}”已有党员接单，党员将尽快与您联系。", "已接单"),
    "request_completed": Template(
        "您的服务请求已完成", "您提交的“{title}”已由党员服务完成，请确认并评价。", "已完成待评价"),
    "wish_fulfilled": Template(
        "您的微心愿已实现", "您的微心愿“{title}”已由党员认领并实现。", "微心愿实现"),
    "opinion_resolved": Template(
        "您反映的问题已办结", "您反映的“{title}”已办结：{resolution}", "民意办结"),
    # group chats
    "new_wish": Template(
        "【微心愿】{title}", "社区有一个新的微心愿“{title}”，欢迎党员或 e 支部认领帮助实现。", "群聊：微心愿"),
    "new_need": Template(
        "【新需求】{title}", "社区收到新的服务需求“{title}”，请有相应特长的党员关注认领。", "群聊：新需求"),
    # work-unit organisations
    "unit_report": Template(
        "{period} 党员进社区服务情况反馈",
        "贵单位 {members} 名在职党员 {period} 在社区服务共获得 {total_points} 积分，详细报告：{report_url}",
        "单位季度反馈"),
    # offices
    "request_escalated": Template(
        "服务需求上报：{title}",
        "服务需求“{title}”已上报至{level_label}，原因：{reason}。请尽快统筹处理。", "上报督办", urgent=True),
    # staff notices to many people
    "staff_notice": Template("{title}", "{body}", "工作通知"),
}

URGENT_KINDS = frozenset(kind for kind, t in TEMPLATES.items() if t.urgent)
LEVEL_LABELS = {"grid": "网格", "community": "社区", "street": "街道", "district": "区（县）"}
# every role that reads notices, for audience queries (system accounts read none)
DEFAULT_AUDIENCE_ROLES = ("member", "grid_leader")


def render(kind: str, fields: dict) -> tuple[str, str]:
    template = TEMPLATES.get(kind)
    if template is None:
        raise ValidationFailed(code="UNKNOWN_TEMPLATE", message=f"没有名为 {kind} 的消息模板")
    missing = [name for name in template.fields if fields.get(name) is None]
    if missing:
        raise ValidationFailed(code="TEMPLATE_FIELD_MISSING",
                               message=f"消息模板 {kind} 缺少字段 {'、'.join(missing)}",
                               fields={name: ["必填项，不能为空"] for name in missing})
    return template.title.format(**fields), template.body.format(**fields)


@dataclass(frozen=True)
class Notice:
    """One in-app message for one person (the inbox row)."""

    recipient_id: int
    kind: str
    title: str
    body: str
    dedup_key: str


@dataclass
class Intent:
    """One notice an event asks for: to listed people, to an audience registration resolves,
    and/or to the community's group chats and other systems' webhooks."""

    kind: str
    key: str  # unique per source event: makes a redelivered event notify nobody twice
    fields: dict
    community_id: int | None = None
    street_id: int | None = None
    recipients: list[int] | None = None
    audience: dict | None = None
    group: bool = False
    webhook: bool = False
    e_branch_id: int | None = None
    urgent: bool = False
    title: str = ""
    body: str = ""
    error: str | None = None
    extra: dict = field(default_factory=dict)


def _fields_for(kind: str, data: dict) -> dict:
    fields = {k: v for k, v in data.items()}
    for time_key in ("starts_at", "ends_at"):
        if fields.get(time_key):
            fields[time_key] = local_label(fields[time_key])
    if kind == "request_escalated":
        fields["level_label"] = LEVEL_LABELS.get(data.get("level"), data.get("level"))
        fields["reason"] = data.get("reason") or "超时未办结"
    if kind in ("request_cancelled", "activity_cancelled"):
        fields["reason"] = f"原因：{data['reason']}" if data.get("reason") else ""
    if kind == "request_deadline":
        fields["stage_label"] = "接单" if data.get("stage") == "claim" else "承办"
        fields["due_label"] = local_label(data["due_at"]) if data.get("due_at") else "近期"
    if kind == "unit_report" and not data.get("report_url"):
        fields["report_url"] = "请登录平台查看"
    if kind == "opinion_resolved" and not data.get("resolution"):
        fields["resolution"] = "请登录平台查看办理结果"
    if "place" in fields and not fields["place"]:
        fields["place"] = "社区"
    return fields


def local_label(iso: str) -> str:
    """'2026-11-21T01:00:00+00:00' → '11月21日 09:00' (local time people read)."""
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CST)
    moment = moment.astimezone(CST)
    return f"{moment.month}月{moment.day}日 {moment:%H:%M}"


def _escalation_audience(data: dict) -> dict | None:
    level, org = data["level"], data.get("org_id")
    if level == "grid":
        place = {"roles": ["grid_leader"], "grid_id": org or data.get("grid_id")}
    elif level == "community":
        place = {"roles": ["community_staff"], "community_id": org or data.get("community_id")}
    elif level == "street":
        place = {"roles": ["street_staff"], "street_id": org or data.get("street_id")}
    elif level == "district":
        place = {"roles": ["district_staff"], "district_id": org}
    else:
        return None
    return place if any(v is not None for k, v in place.items() if k != "roles") else None


AUDIENCE_KEYS = {"community": "community_id", "grid": "grid_id", "e_branch": "e_branch_id",
                 "work_unit": "work_unit_id"}


def plan(event: dict) -> list[Intent]:
    """Who hears of an event, on which path; rendering errors are kept on the intent, not raised,
    so a bad template is recorded for operators instead of losing the whole event."""
    etype, data, eid = event["event_type"], event["data"], event["event_id"]
    community_id, street_id = data.get("community_id"), data.get("street_id")
    intents: list[Intent] = []

    def add(kind, *, recipients=None, audience=None, group=False, webhook=False, e_branch_id=None):
        recipients = [r for r in (recipients or []) if r is not None] if recipients is not None else None
        if recipients == [] and audience is None and not group and not webhook:
            return
        intents.append(Intent(kind=kind, key=f"{eid}:{kind}", fields=_fields_for(kind, data),
                              community_id=community_id, street_id=street_id, recipients=recipients,
                              audience=audience, group=group, webhook=webhook, e_branch_id=e_branch_id))

    resident = [data.get("resident_id")]
    if etype == "request.submitted":
        add("new_need", group=True, webhook=True)
    elif etype == "request.accepted":
        add("request_accepted", recipients=resident)
    elif etype == "request.rejected":
        add("request_rejected", recipients=resident)
    elif etype == "request.offered":
        if data.get("member_ids"):
            add("request_offered", recipients=data["member_ids"])
        elif data.get("open_to_all") and community_id is not None:
            add("request_open", audience={"roles": list(DEFAULT_AUDIENCE_ROLES), "community_id": community_id})
    elif etype == "request.claimed":
        add("request_claimed", recipients=resident)
    elif etype == "request.completed":
        add("request_completed", recipients=resident)
    elif etype == "request.confirmed":
        add("request_thanks", recipients=data.get("member_ids", []))
    elif etype == "request.reassigned":
        add("request_assigned", recipients=data.get("member_ids", []))
    elif etype == "request.reminder":
        add("request_deadline", recipients=data.get("member_ids", []))
    elif etype == "wish.posted":
        add("new_wish", group=True, webhook=True)
    elif etype == "request.cancelled":
        add("request_cancelled", recipients=data.get("member_ids", []))
    elif etype == "request.escalated":
        add("request_escalated", audience=_escalation_audience(data), webhook=True)
    elif etype == "wish.fulfilled":
        add("wish_fulfilled", recipients=resident)
    elif etype == "opinion.resolved":
        add("opinion_resolved", recipients=resident)
    elif etype == "activity.published":
        kind_of, audience_id = data.get("audience") or "community", data.get("audience_id")
        key = AUDIENCE_KEYS.get(kind_of) if audience_id is not None else None
        place = {key: audience_id} if key and key != "community_id" else {"community_id": community_id}
        e_branch = audience_id if kind_of == "e_branch" else None
        add("activity_published", audience={"roles": list(DEFAULT_AUDIENCE_ROLES), **place},
            group=True, webhook=True, e_branch_id=e_branch)
    elif etype == "activity.reminder":
        add("activity_reminder", recipients=data.get("member_ids", []))
    elif etype == "activity.promoted":
        add("activity_promoted", recipients=[data.get("member_id")])
    elif etype == "activity.cancelled":
        add("activity_cancelled", recipients=data.get("member_ids", []))
    elif etype == "unit_report.issued":
        add("unit_report", audience={"roles": ["unit_org"], "work_unit_id": data["work_unit_id"]},
            webhook=False)
    for intent in intents:
        intent.urgent = intent.kind in URGENT_KINDS
        try:
            intent.title, intent.body = render(intent.kind, intent.fields)
        except ValidationFailed as err:
            intent.error = f"{err.code}: {err.message}"
    return intents


def notices_for(event: dict) -> list[Notice]:
    """The in-app messages an event gives the people it names (audiences are resolved later)."""
    notices = []
    for intent in plan(event):
        if intent.error and intent.recipients:
            # the caller that asks for notices wants the template fault to surface
            render(intent.kind, intent.fields)
        for recipient in intent.recipients or []:
            notices.append(Notice(recipient, intent.kind, intent.title, intent.body,
                                  inbox_key(intent.key, recipient)))
    return notices


def inbox_key(intent_key: str, recipient_id: int) -> str:
    return f"{intent_key}:{recipient_id}:inbox"


def delivery_key(intent_key: str, target: str, channel: str) -> str:
    return f"{intent_key}:{target}:{channel}"


# --- preferences, quiet hours, digest -------------------------------------------------------

DEFAULT_QUIET = {"start": "09:00", "end": "18:00", "weekdays_only": True}  # at work (8小时内)
DIGEST_AT = time(20, 0)


def default_preferences(user_id: int) -> dict:
    return {"user_id": user_id, "channels": ["inbox"], "opt_outs": [], "quiet_hours": dict(DEFAULT_QUIET),
            "digest": False, "phone": None, "email": None}


def check_preferences(prefs: dict) -> dict:
    """Rules a person's settings must meet; returns them normalised."""
    errors = {}
    channels = list(dict.fromkeys(["inbox", *prefs.get("channels", [])]))  # the inbox is the record
    unknown = [c for c in channels if c not in PERSON_CHANNELS]
    if unknown:
        errors["channels"] = [f"不支持的渠道：{'、'.join(unknown)}（可选：站内信 inbox、短信 sms、邮件 email）"]
    if "sms" in channels and not prefs.get("phone"):
        errors["phone"] = ["选择短信通知时须填写手机号"]
    if "email" in channels and not prefs.get("email"):
        errors["email"] = ["选择邮件通知时须填写邮箱"]
    opt_outs = list(dict.fromkeys(prefs.get("opt_outs", [])))
    bad = [k for k in opt_outs if k not in TEMPLATES]
    if bad:
        errors.setdefault("opt_outs", []).append(f"没有这些消息类型：{'、'.join(bad)}")
    urgent = [k for k in opt_outs if k in URGENT_KINDS]
    if urgent:
        errors.setdefault("opt_outs", []).append(
            f"紧急消息不能退订：{'、'.join(TEMPLATES[k].label for k in urgent)}")
    quiet = prefs.get("quiet_hours")
    if quiet:
        try:
            start, end = parse_hhmm(quiet["start"]), parse_hhmm(quiet["end"])
            if start == end:
                errors["quiet_hours"] = ["免打扰的开始和结束时间不能相同"]
        except (KeyError, ValueError):
            errors["quiet_hours"] = ["免打扰时间应为 HH:MM，如 09:00 至 18:00"]
    if errors:
        raise ValidationFailed(fields=errors)
    return {**prefs, "channels": channels, "opt_outs": opt_outs}


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def channels_for(prefs: dict, kind: str, urgent: bool) -> list[str]:
    """A person's channels for a kind of message: none if they opted out of a non-urgent kind."""
    if not urgent and kind in prefs.get("opt_outs", ()):
        return []
    chosen = [c for c in prefs.get("channels", ["inbox"]) if c in PERSON_CHANNELS]
    return [c for c in chosen if (c != "sms" or prefs.get("phone")) and (c != "email" or prefs.get("email"))]


def quiet_until(quiet: dict | None, now: datetime) -> datetime | None:
    """End of the quiet window ``now`` falls in (as an aware UTC datetime), or None."""
    if not quiet:
        return None
    local = now.astimezone(CST)
    start, end = parse_hhmm(quiet["start"]), parse_hhmm(quiet["end"])
    weekdays_only = quiet.get("weekdays_only", False)
    for day_offset in (0, -1):  # a window over midnight may have started yesterday
        day = local.date() + timedelta(days=day_offset)
        if weekdays_only and day.weekday() >= 5:
            continue
        opens = datetime.combine(day, start, CST)
        closes = datetime.combine(day + timedelta(days=1 if end <= start else 0), end, CST)
        if opens <= local < closes:
            return closes.astimezone(UTC)
    return None



def next_digest(now: datetime) -> datetime:
    local = now.astimezone(CST)
    at = datetime.combine(local.date(), DIGEST_AT, CST)
    if at <= local:
        at += timedelta(days=1)
    return at.astimezone(UTC)


def schedule(prefs: dict, channel: str, urgent: bool, now: datetime) -> tuple[str, datetime]:
    """When a push goes out: ("pending", now), ("pending", after quiet hours) or ("digest", 20:00)."""
    if urgent or channel not in PUSH_CHANNELS:
        return "pending", now
    if prefs.get("digest"):
        return "digest", next_digest(now)
    return "pending", quiet_until(prefs.get("quiet_hours"), now) or now


def compose_digest(items: list[tuple[str, str]]) -> tuple[str, str]:
    """Many non-urgent messages as one: (title, body)."""
    title = f"今日消息汇总（{len(items)} 条）"
    lines = [f"{n}. {t}：{b}" for n, (t, b) in enumerate(items, start=1)]
    return title, "\n".join(lines)


# --- delivery retries -----------------------------------------------------------------------

MAX_ATTEMPTS = 6
BASE_BACKOFF_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 6 * 3600.0


def backoff(attempts: int, base: float = BASE_BACKOFF_SECONDS) -> float:
    """Seconds to wait after the ``attempts``-th failure: base, 4×, 16× … capped at 6 hours."""
    return min(base * 4 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


def after_failure(attempts: int, permanent: bool, max_attempts: int = MAX_ATTEMPTS,
                  base: float = BASE_BACKOFF_SECONDS) -> tuple[str, float | None]:
    """("retry", seconds) or ("dead", None) once retries are spent or retrying cannot help."""
    if permanent or attempts >= max_attempts:
        return "dead", None
    return "retry", backoff(attempts, base)


def is_permanent_status(status: int) -> bool:
    """A 4xx says the request itself is wrong (retrying will not help), except time-outs/limits."""
    return 400 <= status < 500 and status not in (408, 425, 429)


# --- channel settings and signatures --------------------------------------------------------

def check_channel_config(channel: str, config: dict) -> dict:
    spec = CHANNEL_CONFIG.get(channel)
    if spec is None:
        raise ValidationFailed(code="UNKNOWN_CHANNEL", message=f"不支持的渠道：{channel}",
                               fields={"channel": [f"可选：{'、'.join(CHANNEL_CONFIG)}"]})
    missing = [k for k in spec["required"] if config.get(k) in (None, "")]
    unknown = [k for k in config if k not in spec["required"] + spec["optional"]]
    errors = {}
    if missing:
        errors.update({k: ["必填项，不能为空"] for k in missing})
    if unknown:
        errors.update({k: ["不认识的设置项"] for k in unknown})
    url = config.get("url")
    if url and not str(url).startswith(("http://", "https://")):
        errors["url"] = ["应为 http:// 或 https:// 开头的地址"]
    if errors:
        raise ValidationFailed(message="渠道设置有误，请按提示修改", fields={"config": errors})
    return config


def masked_config(channel: str, config: dict) -> dict:
    secrets = CHANNEL_CONFIG.get(channel, {}).get("secret", ())
    return {k: (_mask(str(v)) if k in secrets and v else v) for k, v in config.items()}


def _mask(value: str) -> str:
    return value[:12] + "****" if len(value) > 16 else "****"


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``timestamp + "." + body`` (replay-safe with the time)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk robots' 加签: base64(HMAC-SHA256(secret, f"{ts}\\n{secret}")), URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))

