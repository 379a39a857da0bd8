"""Events published by the activities service (志愿活动, 主题党日)."""

from marshmallow import Schema, fields

from common.contracts import event

SOURCE = "activities"


class ActivityEvent(Schema):
    activity_id = fields.Integer(required=True)
    community_id = fields.Integer(required=True)
    title = fields.String(required=True)
    starts_at = fields.String(required=True, metadata={"description": "ISO 8601"})
    ends_at = fields.String(required=True, metadata={"description": "ISO 8601"})
    place = fields.String(load_default="")


@event(SOURCE, "activity.published")
class ActivityPublished(ActivityEvent):
    audience = fields.String(load_default="community",
                             metadata={"description": "community | grid | e_branch | work_unit"})
    audience_id = fields.Integer(allow_none=True, load_default=None)
    places = fields.Integer(load_default=0)


@event(SOURCE, "activity.cancelled")
class ActivityCancelled(ActivityEvent):
    member_ids = fields.List(fields.Integer(), load_default=list)
    reason = fields.String(load_default="")


@event(SOURCE, "activity.reminder")
class ActivityReminder(ActivityEvent):
    member_ids = fields.List(fields.Integer(), required=True)


@event(SOURCE, "activity.promoted")
class SignupPromoted(ActivityEvent):
    """A wait-listed member got a place."""

    member_id = fields.Integer(required=True)


@event(SOURCE, "activity.attended")
class ActivityAttended(ActivityEvent):
    member_id = fields.Integer(required=True)
    hours = fields.Float(required=True)


@event(SOURCE, "activity.no_show")
class ActivityNoShow(ActivityEvent):
    member_id = fields.Integer(required=True)
