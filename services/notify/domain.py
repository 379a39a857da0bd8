"""Notification rules, free of I/O: the templates people read and who receives what."""

from dataclasses import dataclass

from common.errors import ValidationFailed

TEMPLATES = {
    "request_offered": {
        "title": "新的服务需求：{title}",
        "body": "社区有一项服务需求“{title}”与您的特长相符，请在“我的接单”中查看并接单。",
    },
    "request_completed": {
        "title": "您的服务请求已完成",
        "body": "您提交的“{title}”已由党员服务完成，请确认并评价。",
    },
}


@dataclass(frozen=True)
class Notice:
    recipient_id: int
    kind: str
    title: str
    body: str
    dedup_key: str


def render(kind: str, fields: dict) -> tuple[str, str]:
    template = TEMPLATES.get(kind)
    if template is None:
        raise ValidationFailed(code="UNKNOWN_TEMPLATE", message=f"没有名为 {kind} 的消息模板")
    try:
        return template["title"].format(**fields), template["body"].format(**fields)
    except KeyError as missing:
        raise ValidationFailed(code="TEMPLATE_FIELD_MISSING",
                               message=f"消息模板 {kind} 缺少字段 {missing}") from None


def notices_for(event: dict) -> list[Notice]:
    """Which people hear of an event, keyed so a redelivered event sends nothing twice."""
    data, event_id = event["data"], event["event_id"]
    if event["event_type"] == "request.offered":
        kind, recipients = "request_offered", data["member_ids"]
    elif event["event_type"] == "request.completed":
        kind, recipients = "request_completed", [data["resident_id"]]
    else:
        return []
    title, body = render(kind, data)
    return [Notice(r, kind, title, body, f"{event_id}:{r}:inbox") for r in recipients]
