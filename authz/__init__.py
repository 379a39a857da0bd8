"""The one authorisation policy: who may do what, within which scope — see ``authz/table.py``.

Every service calls :func:`check` (or :func:`list_filter` for lists) with the operation's name and
the facts of the record it acts on, before the use case changes or returns anything; the gateway
uses :func:`roles` to refuse a role before any RPC, and the OpenAPI document's ``x-roles`` come
from :func:`roles` too, so the document, the gateway and the services read one table.
"""

from authz.table import TABLE
from common.actors import ROLES
from common.masking import mask_phone
from common.policy import Policy

POLICY = Policy(TABLE, ROLES)

roles = POLICY.roles
permits = POLICY.permits
check = POLICY.check
list_filter = POLICY.list_filter
may_attempt = POLICY.may_attempt
known = POLICY.known


def facts(*, owner_ids=(), assigned_ids=(), grid_id=None, community_id=None, street_id=None,
          district_id=None, work_unit_ids=(), co_building_unit_ids=()) -> dict:
    """A resource's facts in the shape the policy reads (ids of owners, place in the tree, units)."""
    return {"owner_ids": [i for i in owner_ids if i is not None],
            "assigned_ids": [i for i in assigned_ids if i is not None],
            "grid_id": grid_id, "community_id": community_id, "street_id": street_id,
            "district_id": district_id,
            "work_unit_ids": [i for i in work_unit_ids if i is not None],
            "co_building_unit_ids": [i for i in co_building_unit_ids if i is not None]}


def shown_phone(actor: dict, phone: str | None, subject: dict) -> str | None:
    """The ONE place that decides whether a phone is shown in full or masked.

    ``subject``: :func:`facts` of the phone's owner — ``owner_ids`` the person, ``community_id``
    their community, ``assigned_ids`` the members assigned to the request it came with. Full only
    to the person, their community's staff and an assigned member (``personal.full_phone``).
    """
    if phone and permits(actor, "personal.full_phone", subject):
        return phone
    return mask_phone(phone)
