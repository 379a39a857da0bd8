"""Events published by the registration service."""

from marshmallow import Schema, fields

from common.contracts import event

SOURCE = "registration"


@event(SOURCE, "member.accepted")
class MemberAccepted(Schema):
    member_id = fields.Integer(required=True)
    name = fields.String(required=True)
    community_id = fields.Integer(required=True)
    grid_id = fields.Integer(allow_none=True, load_default=None)
    building_id = fields.Integer(allow_none=True, load_default=None)
    work_unit_id = fields.Integer(allow_none=True, load_default=None)
    skills = fields.List(fields.String(), load_default=list)
