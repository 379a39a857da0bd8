"""What crosses registration's wire: RPC arguments and results, as JSON primitives."""

from marshmallow import Schema, fields, validate

from common.schemas import StrictSchema


class Login(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=128))


class Principal(Schema):
    user_id = fields.Integer()
    role = fields.String()
    name = fields.String()
    district_id = fields.Integer(allow_none=True)
    street_id = fields.Integer(allow_none=True)
    community_id = fields.Integer(allow_none=True)
    grid_id = fields.Integer(allow_none=True)
    work_unit_id = fields.Integer(allow_none=True)


class RegisterMember(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    phone = fields.String(required=True, metadata={"example": "13800138000"})
    id_number = fields.String(required=True, load_only=True,
                              metadata={"description": "居民身份证号码，只保存其加密摘要"})
    community_id = fields.Integer(required=True)
    grid_id = fields.Integer(allow_none=True, load_default=None)
    building_id = fields.Integer(allow_none=True, load_default=None)
    work_unit = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=100))
    skills = fields.List(fields.String(validate=validate.Length(min=1, max=30)),
                         load_default=list, validate=validate.Length(max=20))
    password = fields.String(load_only=True, load_default=None,
                             validate=validate.Length(min=8, max=128),
                             metadata={"description": "党员登录初始密码（可选）"})


class Member(Schema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String(metadata={"description": "对本人及本社区工作人员完整显示，其他人脱敏"})
    community_id = fields.Integer()
    grid_id = fields.Integer(allow_none=True)
    building_id = fields.Integer(allow_none=True)
    work_unit = fields.String(allow_none=True)
    skills = fields.List(fields.String())
    status = fields.String()
    registered_at = fields.DateTime()


class Place(Schema):
    id = fields.Integer()
    kind = fields.String()
    name = fields.String()
    parent_id = fields.Integer(allow_none=True)
    street_id = fields.Integer(allow_none=True)
    district_id = fields.Integer(allow_none=True)


class CandidateQuery(StrictSchema):
    community_id = fields.Integer(required=True)
    skills = fields.List(fields.String(), load_default=list)
    grid_id = fields.Integer(allow_none=True, load_default=None)
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=200))


class Candidate(Schema):
    member_id = fields.Integer()
    name = fields.String()
    grid_id = fields.Integer(allow_none=True)
    skills = fields.List(fields.String())
    skill_match = fields.Integer()
