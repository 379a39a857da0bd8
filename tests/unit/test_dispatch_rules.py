"""Dispatch's pure rules beyond the basic lifecycle: escalation levels, who may dispatch,
matching with reasons, field types, wishes and opinions."""

from datetime import UTC, datetime, timedelta

import pytest

import authz
from common.errors import Conflict, Forbidden, ValidationFailed
from services.dispatch import domain

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
PLACE = domain.Place(community_id=3, street_id=2, district_id=1, grid_id=4, level="community")


@pytest.mark.parametrize("state,action,expected", [
    ("submitted", "merge", "duplicate"),
    ("accepted", "reject", "rejected"),
    ("dispatched", "hand_back", "dispatched"),
    ("claimed", "hand_back", "dispatched"),
    ("accepted", "joint_meeting", "claimed"),
    ("claimed", "reassign", "claimed"),
])
def test_side_transitions(state, action, expected):
    assert domain.next_state(state, action) == expected


@pytest.mark.parametrize("state,action", [
    ("closed", "merge"), ("in_service", "hand_back"), ("done", "reassign"), ("claimed", "joint_meeting"),
    ("duplicate", "accept"), ("cancelled", "escalate"),
])
def test_illegal_side_transitions_are_409_with_the_state(state, action):
    with pytest.raises(Conflict) as err:
        domain.next_state(state, action)
    assert err.value.details["current_state"] == state


def test_escalation_climbs_one_level_and_stops_at_the_district():
    assert domain.escalation("dispatched", "grid") == "community"
    assert domain.escalation("dispatched", "street") == "district"
    assert domain.escalation("dispatched", "grid", "community_staff") == "street"  # staff raise above themselves
    with pytest.raises(Conflict) as err:
        domain.escalation("dispatched", "district")
    assert err.value.code == "ALREADY_AT_TOP"
    assert domain.send_down_to("dispatched", "street", has_grid=True) == "community"
    assert domain.send_down_to("dispatched", "community", has_grid=True) == "grid"
    with pytest.raises(Conflict):
        domain.send_down_to("dispatched", "community", has_grid=False)  # a hotline call has no grid
    assert domain.initial_level(None) == "community" and domain.initial_level(4) == "grid"


def staff(role, **where):
    return {"user_id": 1, "role": role, **where}


def test_community_staff_dispatch_below_the_street_and_upper_levels_work_their_queues():
    community = staff("community_staff", community_id=3)
    domain.check_can_manage(community, PLACE)
    with pytest.raises(Forbidden):
        domain.check_can_manage(staff("community_staff", community_id=9), PLACE)
    escalated = domain.Place(**{**PLACE.__dict__, "level": "street"})
    with pytest.raises(Forbidden) as err:
        domain.check_can_manage(community, escalated)
    assert err.value.code == "ESCALATED"
    street = staff("street_staff", street_id=2)
    domain.check_can_manage(street, escalated)
    with pytest.raises(Forbidden) as err:
        domain.check_can_manage(street, PLACE)
    assert err.value.code == "NOT_ESCALATED"
    grid = staff("grid_leader", community_id=3, grid_id=4)
    domain.check_can_manage(grid, domain.Place(**{**PLACE.__dict__, "level": "grid"}))
    with pytest.raises(Forbidden):  # a grid leader does not dispatch what the community holds
        domain.check_can_manage(grid, PLACE)
    with pytest.raises(Forbidden):
        domain.check_can_manage(staff("grid_leader", community_id=3, grid_id=5),
                                domain.Place(**{**PLACE.__dict__, "level": "grid"}))
    with pytest.raises(Forbidden):
        domain.check_can_manage({"user_id": 1, "role": "member"}, PLACE)
    domain.check_can_manage({"user_id": None, "role": "system"}, escalated)


def test_members_claim_open_requests_of_their_own_community_only():
    member = {"user_id": 7, "role": "member"}
    domain.check_can_claim(member, set(), open_to_all=True, same_community=True)
    with pytest.raises(Forbidden):
        domain.check_can_claim(member, set(), open_to_all=True, same_community=False)
    domain.check_can_claim(member, {7}, open_to_all=False, same_community=False)


def test_staff_confirm_for_the_resident_but_other_residents_cannot():
    domain.check_can_confirm({"user_id": 5, "role": "resident"}, 5, PLACE)
    domain.check_can_confirm(staff("community_staff", community_id=3), 5, PLACE)
    with pytest.raises(Forbidden):
        domain.check_can_confirm({"user_id": 6, "role": "resident"}, 5, PLACE)
    with pytest.raises(Forbidden):
        domain.check_can_confirm({"user_id": 7, "role": "member"}, 5, PLACE)


def test_caller_phone_masked_except_to_the_community_staff_and_assigned_member():
    subject = authz.facts(owner_ids=[None], assigned_ids=[9], community_id=3)  # a hotline caller: no account
    phone = "13700001111"
    assert authz.shown_phone(staff("community_staff", community_id=3), phone, subject) == phone
    assert authz.shown_phone({"user_id": 9, "role": "member", "community_id": 3}, phone, subject) == phone
    assert authz.shown_phone(staff("street_staff", street_id=2), phone, subject) == "137****1111"
    assert authz.shown_phone({"user_id": 5, "role": "resident"}, phone, subject) == "137****1111"
    assert authz.shown_phone({"user_id": 8, "role": "member", "community_id": 3}, phone, subject) == "137****1111"


def cand(member_id, match=1, **kw):
    return {"member_id": member_id, "skill_match": match, **kw}


def test_ranking_weighs_skill_nearness_time_load_and_fairness_with_reasons():
    ranked = domain.rank_candidates([
        cand(1, 1, grid_id=9),
        cand(2, 2, grid_id=9),
        cand(3, 1, grid_id=4),
        cand(4, 1, grid_id=4, available=False),
    ], grid_id=4, stats={}, now=NOW)
    assert [r["member_id"] for r in ranked] == [2, 3, 1, 4]
    assert ranked[1]["reasons"][:3] == ["技能匹配1项", "同一网格", "该时段有空"]
    assert "该时段没空" in ranked[3]["reasons"]
    assert [r["rank"] for r in ranked] == [1, 2, 3, 4]


def test_busy_members_and_those_who_served_lately_rank_lower():
    stats = {1: {"open_load": 2, "last_served_at": None},
             2: {"open_load": 0, "last_served_at": NOW - timedelta(days=1)},
             3: {"open_load": 0, "last_served_at": NOW - timedelta(days=40)},
             4: {"open_load": 0, "last_served_at": None}}
    ranked = domain.rank_candidates([cand(m) for m in (1, 2, 3, 4)], stats=stats, now=NOW)
    assert [r["member_id"] for r in ranked] == [4, 3, 2, 1]
    assert "在办2单" in ranked[-1]["reasons"] and "1天前服务过" in ranked[2]["reasons"]
    assert "尚未服务过，优先" in ranked[0]["reasons"]


def test_same_building_beats_same_grid():
    ranked = domain.rank_candidates([cand(1, grid_id=4), cand(2, grid_id=4, building_id=8)],
                                    grid_id=4, building_id=8, now=NOW)
    assert ranked[0]["member_id"] == 2 and "同一楼栋" in ranked[0]["reasons"]


DEFS = [
    {"code": "when", "description": "时间", "datatype": "datetime", "required": True},
    {"code": "items", "description": "物品", "datatype": "multivaluelist", "required": False,
     "values": [{"key": "bed", "name": "床"}, {"key": "sofa", "name": "沙发"}]},
    {"code": "note", "description": "说明", "datatype": "text", "required": False},
]


def test_datetime_and_multivalue_fields():
    ok = {"when": "2026-11-22T09:00:00+08:00", "items": ["bed", "sofa"], "note": "二楼"}
    assert domain.validate_fields(DEFS, ok) == ok
    with pytest.raises(ValidationFailed) as err:
        domain.validate_fields(DEFS, {"when": "tomorrow", "items": ["tv"], "note": 5})
    assert err.value.code == "INVALID_FIELDS"
    assert set(err.value.fields["fields"]) == {"when", "items", "note"}


def test_field_definitions_need_unique_codes_and_list_values():
    with pytest.raises(ValidationFailed):
        domain.validate_definitions([{"code": "a", "datatype": "string"}, {"code": "a", "datatype": "text"}])
    with pytest.raises(ValidationFailed):
        domain.validate_definitions([{"code": "a", "datatype": "singlevaluelist", "values": []}])
    ordered = domain.validate_definitions([{"code": "b", "datatype": "string", "order": 2},
                                           {"code": "a", "datatype": "string", "order": 1}])
    assert [d["code"] for d in ordered] == ["a", "b"]


def test_deadlines_merge_the_item_policy_over_defaults_and_reminders_come_before():
    d = domain.deadlines({"claim_minutes": 30, "service_minutes": None})
    assert d["claim_minutes"] == 30 and d["service_minutes"] == domain.DEFAULT_DEADLINES["service_minutes"]
    assert domain.reminder_at(NOW, 120, 60) == NOW + timedelta(minutes=60)
    assert domain.reminder_at(NOW, 30, 60) is None


def test_wish_and_opinion_machines():
    assert domain.wish_next(None, "post") == "posted"
    assert domain.wish_next("posted", "claim") == "claimed"
    with pytest.raises(Conflict):
        domain.wish_next("posted", "fulfil")
    with pytest.raises(Conflict):
        domain.wish_next("confirmed", "claim")
    assert domain.opinion_next("submitted", "assign") == "assigned"
    assert domain.opinion_next("assigned", "overdue") == "assigned"
    with pytest.raises(Conflict):
        domain.opinion_next("resolved", "resolve")
    assert domain.resolution_rate(2352, 783) == 0.333 and domain.resolution_rate(0, 0) == 0.0


def test_the_wanted_service_time_is_the_first_datetime_answer():
    assert domain.service_time(DEFS, {"when": "2026-11-22T09:00:00+08:00"}) == "2026-11-22T09:00:00+08:00"
    assert domain.service_time(DEFS, {"note": "x"}) is None
