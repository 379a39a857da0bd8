"""Events published by the registration service.

Consumers rely on the fields below; new fields are added with ``load_default`` so older
consumers and older messages keep working (the version in the envelope changes only for a
breaking change).
"""

from marshmallow import Schema, fields

from common.contracts import event

SOURCE = "registration"


class MemberFacts(Schema):
    """Where a member stands in the tree: enough for scoring's rankings and notify's fan-out."""

    member_id = fields.Integer(required=True)
    name = fields.String(required=True)
    community_id = fields.Integer(required=True)
    street_id = fields.Integer(allow_none=True, load_default=None)
    district_id = fields.Integer(allow_none=True, load_default=None)
    grid_id = fields.Integer(allow_none=True, load_default=None)
    building_id = fields.Integer(allow_none=True, load_default=None)
    work_unit_id = fields.Integer(allow_none=True, load_default=None)
    e_branch_id = fields.Integer(allow_none=True, load_default=None)
    skills = fields.List(fields.String(), load_default=list)
    id_number_masked = fields.String(allow_none=True, load_default=None,
                                     metadata={"description": "e.g. 4406**********0012, for volunteer certificates"})


@event(SOURCE, "member.registered")
class MemberRegistered(MemberFacts):
    """Submitted, awaiting the community's decision."""


@event(SOURCE, "member.accepted")
class MemberAccepted(MemberFacts):
    """Active: counts for matching, scoring and notices from now on."""


@event(SOURCE, "member.rejected")
class MemberRejected(Schema):
    member_id = fields.Integer(required=True)
    community_id = fields.Integer(required=True)
    reason = fields.String(required=True)


@event(SOURCE, "member.transferred")
class MemberTransferred(MemberFacts):
    """Moved home or job: the facts are the new ones; the old community is kept for history."""

    from_community_id = fields.Integer(allow_none=True, load_default=None)
    from_work_unit_id = fields.Integer(allow_none=True, load_default=None)
    reason = fields.String(load_default="")


@event(SOURCE, "member.revoked")
class MemberRevoked(Schema):
    member_id = fields.Integer(required=True)
    community_id = fields.Integer(required=True)
    reason = fields.String(required=True)
    revoked_on = fields.String(required=True, metadata={"description": "ISO date"})


@event(SOURCE, "unit.reported")
class UnitReported(Schema):
    """A work unit's Party organisation reported to a community (单位报到, 共驻共建)."""

    work_unit_id = fields.Integer(required=True)
    name = fields.String(required=True)
    community_id = fields.Integer(required=True)
    commitments = fields.List(fields.String(), load_default=list)


@event(SOURCE, "member.updated")
class MemberUpdated(MemberFacts):
    """An accepted member's skills, posts, free time or e-branch changed; the facts are the new ones."""
