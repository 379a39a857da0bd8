"""The caller of a command, as the gateway authenticated it, and the places it may act on.

The gateway puts an ``actor`` dict into every RPC that acts for a person; services check it
against the community/street/district a record belongs to. Which role may do what is each
service's own rule; where in the tree a role reaches is the same everywhere, so it lives here.
"""

from marshmallow import EXCLUDE, Schema, fields, validate

from common.errors import Forbidden

ROLES = (
    "resident",
    "member",
    "grid_leader",
    "community_staff",
    "street_staff",
    "district_staff",
    "unit_org",
    "applicant",  # a member account whose registration is not (or no longer) accepted
    "system",
)
STAFF_ROLES = ("grid_leader", "community_staff", "street_staff", "district_staff")


class Actor(Schema):
    """Tolerant of extra claims, so registration can add to the principal without breaking callers."""

    class Meta:
        unknown = EXCLUDE

    user_id = fields.Integer(required=True, allow_none=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    name = fields.String(load_default="")
    district_id = fields.Integer(allow_none=True, load_default=None)
    street_id = fields.Integer(allow_none=True, load_default=None)
    community_id = fields.Integer(allow_none=True, load_default=None)
    grid_id = fields.Integer(allow_none=True, load_default=None)
    work_unit_id = fields.Integer(allow_none=True, load_default=None)
    e_branch_id = fields.Integer(allow_none=True, load_default=None)
    e_branch_ids = fields.List(fields.Integer(), load_default=list)
    secretary_of = fields.List(fields.Integer(), load_default=list)  # e-branches the member is secretary of
    e_branch_secretary = fields.Boolean(load_default=False)


def reaches(actor: dict, *, community_id=None, street_id=None, district_id=None) -> bool:
    """Whether a staff actor's part of the tree contains the given place."""
    role = actor["role"]
    if role == "system":
        return True
    if role == "district_staff":
        return district_id is not None and actor.get("district_id") == district_id
    if role == "street_staff":
        return street_id is not None and actor.get("street_id") == street_id
    if role in ("community_staff", "grid_leader"):
        return community_id is not None and actor.get("community_id") == community_id
    return False


def require_role(actor: dict, *roles: str):
    if actor["role"] not in roles and actor["role"] != "system":
        raise Forbidden(message="您的角色不能进行此操作")
