"""Events published by the bridge: the outcome of every command another system sent us.

A system that puts a command on ``baodao.commands`` hears back on ``baodao.public`` (routing
keys ``command.succeeded`` / ``command.rejected``), matched by its own ``command_id``.
"""

from marshmallow import Schema, fields

from common.contracts import event

SOURCE = "bridge"


class CommandOutcome(Schema):
    command_id = fields.String(required=True, metadata={"description": "the sender's idempotency key"})
    command_type = fields.String(required=True, metadata={"description": "request.place | request.confirm | "
                                                                         "members.update"})
    system = fields.String(required=True, metadata={"description": "the sending system, as registered"})
    duplicate = fields.Boolean(load_default=False,
                               metadata={"description": "true: a resend; nothing was done again"})


@event(SOURCE, "command.succeeded")
class CommandSucceeded(CommandOutcome):
    result = fields.Dict(required=True, metadata={"description": "request.place/confirm: service_request_id, "
                                                                 "status, state; members.update: created, "
                                                                 "updated, unchanged, errors"})


@event(SOURCE, "command.rejected")
class CommandRejected(CommandOutcome):
    code = fields.String(required=True, metadata={"description": "stable English error code"})
    message = fields.String(required=True, metadata={"description": "中文说明"})
    fields_ = fields.Dict(data_key="fields", attribute="fields", load_default=dict,
                          metadata={"description": "per-field errors"})
