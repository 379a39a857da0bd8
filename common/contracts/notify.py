"""Events published by the notify service."""

from marshmallow import Schema, fields

from common.contracts import event

SOURCE = "notify"


@event(SOURCE, "delivery.dead_lettered")
class DeliveryDeadLettered(Schema):
    """A message that exhausted its retries on a channel; operators see it."""

    message_id = fields.Integer(required=True)
    channel = fields.String(required=True)
    reason = fields.String(required=True)
