"""The one authorisation policy: the table's shape, each scope's meaning, and the OpenAPI roles."""

import pytest

import authz
from authz.table import TABLE
from common.errors import Forbidden, NotFound
from common.policy import PUBLIC, Policy

STAFF3 = {"user_id": 1, "role": "community_staff", "community_id": 3, "street_id": 2, "district_id": 1}
STREET2 = {"user_id": 2, "role": "street_staff", "street_id": 2, "district_id": 1}
DISTRICT1 = {"user_id": 3, "role": "district_staff", "district_id": 1}
MEMBER = {"user_id": 9, "role": "member", "community_id": 3, "grid_id": 7, "work_unit_id": 4}
UNIT4 = {"user_id": 20, "role": "unit_org", "work_unit_id": 4}
SYSTEM = {"user_id": None, "role": "system"}


def _routes():
    import gateway.service  # noqa: F401  (declares every route)
    from gateway.http import ROUTES

    return ROUTES


def test_every_route_has_a_row_and_every_row_a_route():
    actions = {r.action for r in _routes()}
    rows = {a for a in TABLE if not a.startswith(("personal.", "internal."))}
    assert rows == actions


def test_openapi_roles_are_the_table():
    from gateway import openapi

    doc = openapi.build()
    by_action = {op["x-action"]: op for ops in doc["paths"].values() for op in ops.values()}
    for action, rules in TABLE.items():
        if action.startswith(("personal.", "internal.")):
            continue
        op = by_action[action]
        if rules == PUBLIC:
            assert op["x-roles"] == ["public"] and "security" not in op
        else:
            assert sorted(op["x-roles"]) == sorted(rules), action
            assert set(op["x-scopes"]) == set(rules)


def test_table_rejects_unknown_roles_and_scopes():
    with pytest.raises(ValueError):
        Policy({"x.y": {"mayor": "any"}}, ("member",))
    with pytest.raises(ValueError):
        Policy({"x.y": {"member": "everywhere"}}, ("member",))


@pytest.mark.parametrize(("actor", "resource", "allowed"), [
    (STAFF3, authz.facts(community_id=3), True),
    (STAFF3, authz.facts(community_id=4, street_id=2), False),  # a neighbour community on the same street
    (STREET2, authz.facts(community_id=4, street_id=2), True),
    (STREET2, authz.facts(community_id=5, street_id=6, district_id=1), False),
    (DISTRICT1, authz.facts(community_id=5, street_id=6, district_id=1), True),
    (DISTRICT1, authz.facts(community_id=8, street_id=9, district_id=2), False),
    (MEMBER, authz.facts(owner_ids=[9], community_id=4), True),
    (MEMBER, authz.facts(owner_ids=[10], community_id=3), False),
    (UNIT4, authz.facts(owner_ids=[10], work_unit_ids=[4]), True),
    (UNIT4, authz.facts(owner_ids=[10], work_unit_ids=[5]), False),
    (SYSTEM, authz.facts(), True),
    (STAFF3, authz.facts(), False),  # a missing fact denies
])
def test_member_record_scopes(actor, resource, allowed):
    assert authz.permits(actor, "registration.card", resource) is allowed


def test_assigned_grid_and_co_building():
    request = authz.facts(owner_ids=[50], assigned_ids=[9], community_id=3)
    assert authz.permits(MEMBER, "dispatch.decline", request)
    assert not authz.permits({**MEMBER, "user_id": 11}, "dispatch.decline", request)
    activity = authz.facts(owner_ids=[30], grid_id=7, community_id=3)
    leader = {"user_id": 12, "role": "grid_leader", "community_id": 3, "grid_id": 7}
    assert authz.permits(leader, "activities.edit_activity", activity)
    assert not authz.permits({**leader, "grid_id": 8}, "activities.edit_activity", activity)
    community = authz.facts(community_id=3, co_building_unit_ids=[4])
    assert authz.permits(UNIT4, "activities.activity_publish", community)
    assert not authz.permits({**UNIT4, "work_unit_id": 5}, "activities.activity_publish", community)


def test_a_record_in_several_places_matches_any_of_them():
    unit = authz.facts(work_unit_ids=[4]) | {"community_id": [3, 5], "street_id": [2], "district_id": [1]}
    assert authz.permits(STAFF3, "registration.create_unit_account", unit)
    assert not authz.permits({**STAFF3, "community_id": 6}, "registration.create_unit_account", unit)
    no_reports = authz.facts(work_unit_ids=[4]) | {"community_id": [], "street_id": [], "district_id": []}
    assert not authz.permits(STAFF3, "registration.create_unit_account", no_reports)
    assert not authz.permits(DISTRICT1, "registration.create_unit_account", no_reports)


def test_role_gate_and_hidden_refusal():
    assert authz.may_attempt(None, "auth.login")
    assert not authz.may_attempt(None, "auth.me")
    assert not authz.may_attempt({"user_id": 5, "role": "resident"}, "scoring.close_quarter")
    applicant = {"user_id": 9, "role": "applicant", "community_id": 3}
    assert authz.may_attempt(applicant, "registration.get_member")
    assert not authz.may_attempt(applicant, "dispatch.claim")
    assert not authz.may_attempt(applicant, "activities.activity_sign_up")
    with pytest.raises(Forbidden):
        authz.check(applicant, "dispatch.claim", authz.facts(community_id=3))
    with pytest.raises(NotFound):
        authz.check(STAFF3, "dispatch.get_wish", authz.facts(community_id=4), hide=True)
    with pytest.raises(Forbidden):
        authz.check(STAFF3, "dispatch.get_wish", authz.facts(community_id=4))


def test_list_filter_names_what_a_list_may_contain():
    assert authz.list_filter(STAFF3, "scoring.rankings") == {"community_id": 3}
    assert authz.list_filter(STREET2, "scoring.rankings") == {"street_id": 2}
    assert authz.list_filter(DISTRICT1, "scoring.rankings") == {"district_id": 1}
    assert authz.list_filter({"user_id": 5, "role": "resident"}, "dispatch.list_wishes") == {"owner_ids": 5}
    assert authz.list_filter(SYSTEM, "scoring.rankings") is None
    assert authz.list_filter(MEMBER, "dispatch.menu") is None
    assert authz.list_filter({"user_id": 5, "role": "resident"}, "scoring.rankings") == {}


def test_one_masking_function():
    person = authz.facts(owner_ids=[9], community_id=3)
    assert authz.shown_phone(MEMBER, "13800138000", person) == "13800138000"
    assert authz.shown_phone({**MEMBER, "user_id": 10}, "13800138000", person) == "138****8000"
    assert authz.shown_phone(STAFF3, "13800138000", person) == "13800138000"
    assert authz.shown_phone(STREET2, "13800138000", person) == "138****8000"
    assert authz.shown_phone(UNIT4, "13800138000", person) == "138****8000"
    assert authz.shown_phone(STREET2, None, person) is None
    assert authz.shown_phone(STREET2, "123", person) == "****"
