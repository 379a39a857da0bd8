"""Events published by the notify service."""

from marshmallow import Schema, fields

from common.contracts import event

SOURCE = "notify"


@event(SOURCE, "delivery.dead_lettered")
class DeliveryDeadLettered(Schema):
    """A message that exhausted its retries on a channel (or could not be made); operators see it."""

    message_id = fields.Integer(required=True, metadata={"description": "the delivery's id"})
    channel = fields.String(required=True)
    reason = fields.String(required=True)
    kind = fields.String(load_default="")
    dedup_key = fields.String(load_default="")
    community_id = fields.Integer(allow_none=True, load_default=None)
