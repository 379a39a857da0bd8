"""Events published by the dispatch service: one per transition of a service request."""

from marshmallow import Schema, fields

from common.contracts import event

SOURCE = "dispatch"


class RequestEvent(Schema):
    request_id = fields.Integer(required=True)
    community_id = fields.Integer(required=True)
    resident_id = fields.Integer(required=True)
    menu_item_id = fields.Integer(required=True)
    title = fields.String(required=True)
    state = fields.String(required=True)


@event(SOURCE, "request.submitted")
class RequestSubmitted(RequestEvent):
    pass


@event(SOURCE, "request.offered")
class RequestOffered(RequestEvent):
    member_ids = fields.List(fields.Integer(), required=True)


@event(SOURCE, "request.claimed")
class RequestClaimed(RequestEvent):
    member_id = fields.Integer(required=True)


@event(SOURCE, "request.completed")
class RequestCompleted(RequestEvent):
    member_ids = fields.List(fields.Integer(), required=True)


@event(SOURCE, "request.confirmed")
class RequestConfirmed(RequestEvent):
    member_ids = fields.List(fields.Integer(), required=True)
    rating = fields.Integer(required=True)
    points = fields.Integer(required=True)
    category = fields.String(allow_none=True, load_default=None)
