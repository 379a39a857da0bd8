"""The pure rules behind what a phone shows: who sees the resident's phone, which buttons work,
the answers in Chinese, residents in community activities."""

from datetime import UTC, datetime, timedelta

import pytest

import authz
from common.errors import Forbidden
from services.activities import domain as activities
from services.dispatch import domain

PLACE = domain.Place(community_id=3, street_id=2, district_id=1)
RESIDENT = {"user_id": 7, "role": "resident", "community_id": 3}
MEMBER = {"user_id": 20, "role": "member", "community_id": 3}
STAFF = {"user_id": 5, "role": "community_staff", "community_id": 3}
OTHER_STAFF = {"user_id": 6, "role": "community_staff", "community_id": 4}


def test_contact_phone_full_only_to_resident_claimers_and_community_staff():
    def sees(actor, claimed):
        subject = authz.facts(owner_ids=[7], assigned_ids=claimed, community_id=PLACE.community_id)
        return authz.shown_phone(actor, "13800138000", subject) == "13800138000"

    assert sees(RESIDENT, [])
    assert not sees({**RESIDENT, "user_id": 8}, [])
    assert sees(MEMBER, [20])
    assert not sees(MEMBER, [21])  # offered or browsing: masked
    assert sees(STAFF, [])
    assert not sees(OTHER_STAFF, [])
    assert not sees({"user_id": 9, "role": "street_staff", "street_id": 2}, [])


def _actions(actor, state, my_status=None, open_to_all=False, resident_id=7):
    return domain.available_actions(actor, state, resident_id=resident_id, my_status=my_status,
                                    open_to_all=open_to_all, same_community=True)


def test_available_actions_follow_the_state_machine():
    assert _actions(RESIDENT, "dispatched") == ["cancel"]
    assert _actions(RESIDENT, "done") == ["confirm"]
    assert _actions(RESIDENT, "in_service") == []
    assert _actions({**RESIDENT, "user_id": 8}, "done") == []
    assert _actions(MEMBER, "dispatched", "offered") == ["claim", "decline"]
    assert _actions(MEMBER, "dispatched", None, open_to_all=True) == ["claim"]
    assert _actions(MEMBER, "dispatched", None) == []
    # a multi-person request still waiting for hands: the claimer may hand back, not start yet
    assert _actions(MEMBER, "dispatched", "claimed", open_to_all=True) == ["hand_back"]
    assert _actions(MEMBER, "claimed", "claimed") == ["hand_back", "start", "complete"]
    assert _actions(MEMBER, "in_service", "claimed") == ["complete"]
    assert _actions(STAFF, "dispatched") == []


def test_answer_items_name_fields_and_options_in_chinese():
    definitions = [
        {"code": "when", "description": "陪护时间", "datatype": "datetime", "order": 2},
        {"code": "topic", "description": "咨询事项", "datatype": "singlevaluelist", "order": 1,
         "values": [{"key": "family", "name": "婚姻家庭"}]},
        {"code": "note", "description": "备注", "datatype": "string", "order": 3},
    ]
    items = domain.answer_items(definitions, {"topic": "family", "when": "2026-12-05T01:30:00+00:00"})
    assert items == [{"code": "topic", "label": "咨询事项", "value": "婚姻家庭"},
                     {"code": "when", "label": "陪护时间", "value": "2026-12-05 09:30"}]


def _activity(**kw):
    now = datetime(2026, 12, 1, tzinfo=UTC)
    return {"community_id": 3, "audience": "community", "audience_id": None, "kind": "volunteer",
            "state": "published", "starts_at": now + timedelta(days=1), "ends_at": now + timedelta(days=1, hours=2),
            "signup_deadline": now + timedelta(days=1), **kw}


def test_residents_join_their_communitys_open_volunteer_activities_only():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    activities.check_can_sign_up(RESIDENT, _activity(), now)
    for other in (_activity(kind="party_day"), _activity(audience="e_branch", audience_id=1),
                  _activity(community_id=4)):
        with pytest.raises(Forbidden):
            activities.check_can_sign_up(RESIDENT, other, now)
