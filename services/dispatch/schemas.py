"""What crosses dispatch's wire: RPC arguments and results, as JSON primitives."""

from marshmallow import Schema, fields, pre_dump, validate

from common.schemas import StrictSchema


class FieldValue(Schema):
    key = fields.String()
    name = fields.String()


class FieldDefinition(Schema):
    code = fields.String()
    description = fields.String()
    datatype = fields.String(metadata={"enum": ["string", "number", "datetime", "text",
                                                  "singlevaluelist", "multivaluelist"]})
    required = fields.Boolean()
    order = fields.Integer()
    values = fields.List(fields.Nested(FieldValue))

    @pre_dump
    def _defaults(self, definition, **_):
        # a plain dict without "values" would otherwise yield dict.values, the method
        return {"values": [], "required": False, "order": 0, **definition}


class MenuItem(Schema):
    id = fields.Integer()
    community_id = fields.Integer()
    title = fields.String()
    category = fields.String()
    description = fields.String()
    skills = fields.List(fields.String())
    field_definitions = fields.List(fields.Nested(FieldDefinition), attribute="fields", data_key="fields")
    points = fields.Integer()
    members_needed = fields.Integer()


class SubmitRequest(StrictSchema):
    menu_item_id = fields.Integer(required=True)
    description = fields.String(load_default="", validate=validate.Length(max=4000))
    answers = fields.Dict(keys=fields.String(), load_default=dict, data_key="fields",
                          metadata={"description": "服务项目要求填写的各栏，键为栏目代码"})


class Confirm(StrictSchema):
    rating = fields.Integer(required=True, metadata={"description": "1–5 星"})
    comment = fields.String(load_default="", validate=validate.Length(max=1000))


class Transition(StrictSchema):
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class HistoryEntry(Schema):
    at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_role = fields.String()
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    reason = fields.String()


class Request(Schema):
    id = fields.Integer()
    community_id = fields.Integer()
    resident_id = fields.Integer()
    menu_item_id = fields.Integer()
    title = fields.String()
    description = fields.String()
    answers = fields.Dict()
    state = fields.String()
    state_label = fields.String()
    members_needed = fields.Integer()
    members_claimed = fields.Integer()
    offered_to = fields.List(fields.Integer())
    claimed_by = fields.List(fields.Integer())
    rating = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    history = fields.List(fields.Nested(HistoryEntry))
