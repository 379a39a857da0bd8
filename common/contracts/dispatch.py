"""Events published by the dispatch service: one per transition of a request, wish or opinion."""

from marshmallow import Schema, fields

from common.contracts import event

SOURCE = "dispatch"


class RequestEvent(Schema):
    request_id = fields.Integer(required=True)
    community_id = fields.Integer(required=True)
    resident_id = fields.Integer(allow_none=True, load_default=None,
                                 metadata={"description": "None for a caller without an account (hotline)"})
    menu_item_id = fields.Integer(required=True)
    title = fields.String(required=True)
    state = fields.String(required=True)
    street_id = fields.Integer(allow_none=True, load_default=None)
    grid_id = fields.Integer(allow_none=True, load_default=None)
    reason = fields.String(load_default="")


@event(SOURCE, "request.submitted")
class RequestSubmitted(RequestEvent):
    pass


@event(SOURCE, "request.accepted")
class RequestAccepted(RequestEvent):
    pass


@event(SOURCE, "request.rejected")
class RequestRejected(RequestEvent):
    pass


@event(SOURCE, "request.offered")
class RequestOffered(RequestEvent):
    member_ids = fields.List(fields.Integer(), required=True)
    open_to_all = fields.Boolean(load_default=False)


@event(SOURCE, "request.claimed")
class RequestClaimed(RequestEvent):
    member_id = fields.Integer(required=True)


@event(SOURCE, "request.completed")
class RequestCompleted(RequestEvent):
    member_ids = fields.List(fields.Integer(), required=True)
    hours = fields.Float(allow_none=True, load_default=None,
                         metadata={"description": "hours actually served (no travel) as stated; records confirms"})
    hours_source = fields.String(allow_none=True, load_default=None, metadata={"description": "stated | default"})
    place = fields.String(load_default="")
    completed_at = fields.String(allow_none=True, load_default=None, metadata={"description": "ISO 8601"})


@event(SOURCE, "request.confirmed")
class RequestConfirmed(RequestEvent):
    member_ids = fields.List(fields.Integer(), required=True)
    rating = fields.Integer(required=True)
    points = fields.Integer(required=True, metadata={"description": "the menu item's points hint"})
    category = fields.String(allow_none=True, load_default=None)
    hours = fields.Float(load_default=0.0, metadata={
        "description": "hours the member stated at completion (not yet confirmed: records confirms them)"})
    place = fields.String(load_default="")


@event(SOURCE, "request.cancelled")
class RequestCancelled(RequestEvent):
    member_ids = fields.List(fields.Integer(), load_default=list)


@event(SOURCE, "request.escalated")
class RequestEscalated(RequestEvent):
    level = fields.String(required=True, metadata={"description": "grid | community | street | district"})
    org_id = fields.Integer(allow_none=True, load_default=None)


@event(SOURCE, "wish.fulfilled")
class WishFulfilled(Schema):
    """A micro-wish (微心愿) fulfilled by members or an e-branch and confirmed."""

    wish_id = fields.Integer(required=True)
    community_id = fields.Integer(required=True)
    title = fields.String(required=True)
    resident_id = fields.Integer(allow_none=True, load_default=None)
    member_ids = fields.List(fields.Integer(), load_default=list)
    e_branch_id = fields.Integer(allow_none=True, load_default=None)


@event(SOURCE, "opinion.resolved")
class OpinionResolved(Schema):
    opinion_id = fields.Integer(required=True)
    community_id = fields.Integer(required=True)
    title = fields.String(required=True)
    resident_id = fields.Integer(allow_none=True, load_default=None)
    resolution = fields.String(load_default="")


# ---- added with the workflow engine (additive: new types, new fields with defaults) -------

class RequestMembersEvent(RequestEvent):
    member_ids = fields.List(fields.Integer(), load_default=list)
    level = fields.String(allow_none=True, load_default=None)


@event(SOURCE, "request.merged")
class RequestMerged(RequestEvent):
    duplicate_of = fields.Integer(required=True)


@event(SOURCE, "request.declined")
class RequestDeclined(RequestEvent):
    member_id = fields.Integer(required=True)


@event(SOURCE, "request.handed_back")
class RequestHandedBack(RequestEvent):
    member_id = fields.Integer(required=True)


@event(SOURCE, "request.reassigned")
class RequestReassigned(RequestMembersEvent):
    """Staff replaced who serves a request; ``member_ids`` now serve, ``removed_ids`` no longer."""

    removed_ids = fields.List(fields.Integer(), load_default=list)


@event(SOURCE, "request.started")
class RequestStarted(RequestMembersEvent):
    pass


@event(SOURCE, "request.reminder")
class RequestReminder(RequestMembersEvent):
    """A deadline is near: ``stage`` claim (offered members) or service (those serving)."""

    stage = fields.String(required=True)
    due_at = fields.String(allow_none=True, load_default=None)


@event(SOURCE, "request.sent_down")
class RequestSentDown(RequestEvent):
    level = fields.String(required=True)
    org_id = fields.Integer(allow_none=True, load_default=None)


@event(SOURCE, "request.units_assigned")
class RequestUnitsAssigned(RequestEvent):
    """A joint meeting (联席会议) gave the request to co-building work units."""

    work_unit_ids = fields.List(fields.Integer(), required=True)
    level = fields.String(allow_none=True, load_default=None)


class WishEvent(Schema):
    wish_id = fields.Integer(required=True)
    community_id = fields.Integer(required=True)
    title = fields.String(required=True)
    resident_id = fields.Integer(allow_none=True, load_default=None)
    state = fields.String(load_default="")


@event(SOURCE, "wish.posted")
class WishPosted(WishEvent):
    pass


@event(SOURCE, "wish.claimed")
class WishClaimed(WishEvent):
    member_id = fields.Integer(allow_none=True, load_default=None)
    e_branch_id = fields.Integer(allow_none=True, load_default=None)


class OpinionEvent(Schema):
    opinion_id = fields.Integer(required=True)
    community_id = fields.Integer(required=True)
    street_id = fields.Integer(allow_none=True, load_default=None)
    title = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "suggestion | complaint"})
    resident_id = fields.Integer(allow_none=True, load_default=None)


@event(SOURCE, "opinion.submitted")
class OpinionSubmitted(OpinionEvent):
    pass


@event(SOURCE, "opinion.assigned")
class OpinionAssigned(OpinionEvent):
    assignee = fields.String(required=True)
    due_at = fields.String(allow_none=True, load_default=None)


@event(SOURCE, "opinion.overdue")
class OpinionOverdue(OpinionEvent):
    """Not resolved by its deadline: supervised one level up."""

    supervision_level = fields.String(required=True)
