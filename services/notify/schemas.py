"""What crosses notify's wire."""

from marshmallow import Schema, fields


class Message(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class Inbox(Schema):
    unread = fields.Integer()
    messages = fields.List(fields.Nested(Message))
