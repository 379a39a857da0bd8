"""What crosses activities' wire: RPC arguments and results, as JSON primitives."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from common.schemas import AwareDateTime, StrictSchema
from services.activities import domain

_AUDIENCE = {"description": "community（全社区）| grid（一个网格）| e_branch（一个e支部）| work_unit（一个单位的党员）"}


class PublishActivity(StrictSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=100))
    description = fields.String(load_default="", validate=validate.Length(max=4000))
    kind = fields.String(load_default="volunteer", validate=validate.OneOf(domain.KINDS),
                         metadata={"description": "volunteer（志愿活动）| party_day（主题党日）"})
    community_id = fields.Integer(load_default=None, allow_none=True,
                                  metadata={"description": "举办社区；社区工作人员和网格长可省略（默认本社区）"})
    place = fields.String(load_default="", validate=validate.Length(max=200))
    starts_at = fields.AwareDateTime(required=True, metadata={"example": "2026-12-01T09:00:00+08:00"})
    ends_at = fields.AwareDateTime(required=True, metadata={"example": "2026-12-01T11:30:00+08:00"})
    signup_deadline = fields.AwareDateTime(load_default=None, allow_none=True,
                                           metadata={"description": "默认为活动开始时间"})
    places = fields.Integer(required=True, validate=validate.Range(min=1, max=10000))
    waitlist_limit = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=100000),
                                    metadata={"description": "候补名额上限；不填为不限，0 为不设候补"})
    skills = fields.List(fields.String(validate=validate.Length(min=1, max=30)), load_default=list,
                         validate=validate.Length(max=20))
    audience = fields.String(load_default="community", validate=validate.OneOf(domain.AUDIENCES), metadata=_AUDIENCE)
    audience_id = fields.Integer(load_default=None, allow_none=True)
    leader_id = fields.Integer(load_default=None, allow_none=True,
                               metadata={"description": "现场带队负责人（用户编号），可出示签到码、记考勤"})


class EditActivity(StrictSchema):
    """Only the fields given change."""

    title = fields.String(validate=validate.Length(min=1, max=100))
    description = fields.String(validate=validate.Length(max=4000))
    place = fields.String(validate=validate.Length(max=200))
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    signup_deadline = fields.AwareDateTime()
    places = fields.Integer(validate=validate.Range(min=1, max=10000))
    waitlist_limit = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=100000))
    skills = fields.List(fields.String(validate=validate.Length(min=1, max=30)), validate=validate.Length(max=20))
    leader_id = fields.Integer(allow_none=True)

    @validates_schema
    def _not_empty(self, data, **_):
        if not data:
            raise ValidationError("没有要修改的内容")


class CancelActivity(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500),
                           metadata={"description": "取消原因，会通知已报名的党员"})


class Code(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=100),
                         metadata={"description": "现场签到码（6位数字）或扫码得到的内容"})


class Mark(StrictSchema):
    member_id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(domain.ATTENDANCE),
                           metadata={"description": "present 出席 | late 迟到 | leave 请假 | absent 缺席"})
    reason = fields.String(load_default="", validate=validate.Length(max=500),
                           metadata={"description": "更正已有考勤时必填"})
    hours = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, max=24),
                         metadata={"description": "服务时长（小时），不填按签到签退计"})


class ListQuery(StrictSchema):
    community_id = fields.Integer(load_default=None)
    state = fields.String(load_default=None, validate=validate.OneOf((domain.PUBLISHED, domain.CANCELLED,
                                                                      domain.CLOSED)))
    starts_after = fields.AwareDateTime(load_default=None)
    starts_before = fields.AwareDateTime(load_default=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class StatsQuery(StrictSchema):
    since = fields.AwareDateTime(required=True, metadata={"example": "2026-10-01T00:00:00+08:00"})
    until = fields.AwareDateTime(required=True, metadata={"example": "2027-01-01T00:00:00+08:00"})


class Activity(Schema):
    id = fields.Integer()
    kind = fields.String()
    community_id = fields.Integer()
    publisher_id = fields.Integer(allow_none=True)
    publisher_role = fields.String()
    publisher_name = fields.String()
    work_unit_id = fields.Integer(allow_none=True)
    leader_id = fields.Integer(allow_none=True)
    title = fields.String()
    description = fields.String()
    place = fields.String()
    starts_at = AwareDateTime()
    ends_at = AwareDateTime()
    signup_deadline = AwareDateTime()
    places = fields.Integer()
    waitlist_limit = fields.Integer(allow_none=True)
    skills = fields.List(fields.String())
    audience = fields.String()
    audience_id = fields.Integer(allow_none=True)
    state = fields.String()
    state_label = fields.String()
    confirmed = fields.Integer(metadata={"description": "已报名成功人数"})
    waitlisted = fields.Integer(metadata={"description": "候补人数"})
    places_left = fields.Integer()
    cancel_reason = fields.String()
    my_status = fields.String(allow_none=True, metadata={"description": "当前党员的报名状态"})
    created_at = AwareDateTime()


class Signup(Schema):
    activity_id = fields.Integer()
    member_id = fields.Integer()
    member_name = fields.String()
    status = fields.String(metadata={"description": "confirmed 已报名 | waitlisted 候补 | cancelled 已取消"})
    status_label = fields.String()
    seq = fields.Integer(metadata={"description": "到达顺序"})
    position = fields.Integer(allow_none=True, metadata={"description": "候补名次（1 为下一个递补）"})
    checked_in_at = AwareDateTime(allow_none=True)
    checked_out_at = AwareDateTime(allow_none=True)
    attendance = fields.String(allow_none=True)
    hours = fields.Float()
    outcome = fields.String(allow_none=True)
    signed_up_at = AwareDateTime()
    promoted_at = AwareDateTime(allow_none=True)


class MySignup(Signup):
    activity = fields.Nested(Activity)


class CodeView(Schema):
    activity_id = fields.Integer()
    code = fields.String()
    qr_payload = fields.String(metadata={"description": "生成二维码的内容，党员扫码即签到"})
    valid_until = AwareDateTime()
    step_seconds = fields.Integer()


class LogEntry(Schema):
    member_id = fields.Integer()
    action = fields.String()
    from_value = fields.String(allow_none=True)
    to_value = fields.String(allow_none=True)
    hours = fields.Float(allow_none=True)
    reason = fields.String()
    actor_id = fields.Integer(allow_none=True)
    actor_role = fields.String()
    at = AwareDateTime()


class Report(Schema):
    activity = fields.Nested(Activity)
    signed_up = fields.Integer()
    waitlisted = fields.Integer()
    attended = fields.Integer()
    late = fields.Integer()
    on_leave = fields.Integer()
    absent = fields.Integer()
    total_hours = fields.Float()
    signups = fields.List(fields.Nested(Signup))
    trail = fields.List(fields.Nested(LogEntry))


class CommunityStats(Schema):
    community_id = fields.Integer()
    since = AwareDateTime()
    until = AwareDateTime()
    activities_held = fields.Integer()
    activities_cancelled = fields.Integer()
    members_taking_part = fields.Integer()
    attendances = fields.Integer()
    no_shows = fields.Integer()
    total_hours = fields.Float()
