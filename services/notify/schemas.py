"""What crosses notify's wire: RPC arguments, results and the gateway's bodies."""

from marshmallow import Schema, fields, validate

from common.actors import ROLES
from common.schemas import AwareDateTime, StrictSchema
from services.notify import domain

STATUSES = ("pending", "retry", "digest", "sent", "dead", "cancelled")


class Message(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    created_at = AwareDateTime()
    read_at = AwareDateTime(allow_none=True)


class InboxQuery(StrictSchema):
    """A page of the inbox, newest first: the next page starts below the last id seen."""

    before_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1),
                               metadata={"description": "只取编号小于它的消息（翻页）"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=100))


class Inbox(Schema):
    unread = fields.Integer()
    messages = fields.List(fields.Nested(Message))
    has_more = fields.Boolean(metadata={"description": "是否还有更早的消息"})


class ReadAll(Schema):
    marked = fields.Integer()


class QuietHours(StrictSchema):
    start = fields.String(required=True, validate=validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$",
                                                                  error="应为 HH:MM，如 09:00"))
    end = fields.String(required=True, validate=validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$",
                                                                error="应为 HH:MM，如 18:00"))
    weekdays_only = fields.Boolean(load_default=True)


class Preferences(StrictSchema):
    """A person's settings: channels beyond the inbox, opt-outs, quiet hours (免打扰), digest."""

    channels = fields.List(fields.String(validate=validate.OneOf(domain.PERSON_CHANNELS)),
                           load_default=lambda: ["inbox"])
    opt_outs = fields.List(fields.String(), load_default=list,
                           metadata={"description": "non-urgent message kinds not to receive"})
    quiet_hours = fields.Nested(QuietHours, allow_none=True, load_default=lambda: dict(domain.DEFAULT_QUIET),
                                metadata={"description": "non-urgent SMS/e-mail wait until it ends"})
    digest = fields.Boolean(load_default=False,
                            metadata={"description": "non-urgent SMS/e-mail go into one daily digest at 20:00"})
    phone = fields.String(allow_none=True, load_default=None,
                          validate=validate.Regexp(r"^1\d{10}$", error="应为 11 位手机号"))
    email = fields.Email(allow_none=True, load_default=None)


class PreferencesView(Preferences):
    user_id = fields.Integer()


class ChannelSettingIn(StrictSchema):
    community_id = fields.Integer(allow_none=True, load_default=None,
                                  metadata={"description": "null: the platform-wide default (district staff)"})
    channel = fields.String(required=True, validate=validate.OneOf(tuple(domain.CHANNEL_CONFIG)))
    name = fields.String(load_default="default", validate=validate.Length(min=1, max=60))
    e_branch_id = fields.Integer(allow_none=True, load_default=None,
                                 metadata={"description": "a group chat of one e-branch (e支部)"})
    enabled = fields.Boolean(load_default=True)
    config = fields.Dict(required=True, metadata={"description": "url, secret, host … per channel"})
    kinds = fields.List(fields.String(), load_default=list,
                        metadata={"description": "only these message kinds (empty: every kind)"})


class ChannelSetting(Schema):
    id = fields.Integer()
    community_id = fields.Integer(allow_none=True)
    channel = fields.String()
    name = fields.String()
    e_branch_id = fields.Integer(allow_none=True)
    enabled = fields.Boolean()
    config = fields.Dict(metadata={"description": "secrets masked"})
    kinds = fields.List(fields.String())
    updated_at = AwareDateTime()


class ChannelQuery(StrictSchema):
    community_id = fields.Integer(load_default=None)


class Template(Schema):
    kind = fields.String()
    label = fields.String()
    title = fields.String()
    body = fields.String()
    fields_ = fields.List(fields.String(), data_key="fields")
    urgent = fields.Boolean()


class PreviewIn(StrictSchema):
    kind = fields.String(required=True)
    fields = fields.Dict(load_default=dict)


class Preview(Schema):
    kind = fields.String()
    ok = fields.Boolean()
    title = fields.String(allow_none=True)
    body = fields.String(allow_none=True)
    missing = fields.List(fields.String())


class Audience(StrictSchema):
    roles = fields.List(fields.String(validate=validate.OneOf([r for r in ROLES if r != "system"])),
                        load_default=lambda: ["member"], validate=validate.Length(min=1))
    district_id = fields.Integer(allow_none=True, load_default=None)
    street_id = fields.Integer(allow_none=True, load_default=None)
    community_id = fields.Integer(allow_none=True, load_default=None)
    grid_id = fields.Integer(allow_none=True, load_default=None)
    e_branch_id = fields.Integer(allow_none=True, load_default=None)
    work_unit_id = fields.Integer(allow_none=True, load_default=None)


class BroadcastIn(StrictSchema):
    """A staff notice (工作通知) to everyone matching ``audience``, e.g. every member of a street."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=100))
    body = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    urgent = fields.Boolean(load_default=False)
    audience = fields.Nested(Audience, required=True)


class NoticeView(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    urgent = fields.Boolean()
    status = fields.String(metadata={"description": "pending → done (or failed, retried)"})
    recipients = fields.Integer()
    audience = fields.Dict(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = AwareDateTime()
    done_at = AwareDateTime(allow_none=True)
    inbox = fields.Integer(metadata={"description": "in-app messages written"})
    deliveries = fields.Dict(metadata={"description": "other channels' deliveries by status"})


class DeliveryQuery(StrictSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    channel = fields.String(load_default=None)
    community_id = fields.Integer(load_default=None)
    notice_id = fields.Integer(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000),
                            metadata={"description": "跳过前若干条（分页：limit 条一页）"})


class Delivery(Schema):
    id = fields.Integer()
    dedup_key = fields.String()
    notice_id = fields.Integer(allow_none=True)
    kind = fields.String()
    channel = fields.String()
    recipient_id = fields.Integer(allow_none=True)
    setting_id = fields.Integer(allow_none=True)
    community_id = fields.Integer(allow_none=True)
    title = fields.String()
    urgent = fields.Boolean()
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = AwareDateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = AwareDateTime()
    updated_at = AwareDateTime()
    sent_at = AwareDateTime(allow_none=True)
