"""What crosses scoring's wire."""

from marshmallow import Schema, fields


class LedgerEntry(Schema):
    id = fields.Integer()
    points = fields.Integer()
    kind = fields.String()
    reason = fields.String()
    created_at = fields.DateTime()


class Balance(Schema):
    member_id = fields.Integer()
    balance = fields.Integer()
    entries = fields.List(fields.Nested(LedgerEntry))
