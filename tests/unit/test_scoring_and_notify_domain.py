import pytest

from common.errors import ValidationFailed
from services.notify import domain as notify
from services.scoring import domain as scoring

CONFIRMED = {"request_id": 1, "community_id": 3, "resident_id": 6, "menu_item_id": 1,
             "title": "法律咨询", "state": "closed", "member_ids": [8, 9], "rating": 5, "points": 15}


def test_each_serving_member_is_credited_once_per_event():
    credits = scoring.credits_for_confirmed_request("evt-1", CONFIRMED)
    assert [(c.member_id, c.points) for c in credits] == [(8, 15), (9, 15)]
    assert len({c.entry_key for c in credits}) == 2
    again = scoring.credits_for_confirmed_request("evt-1", CONFIRMED)
    assert [c.entry_key for c in again] == [c.entry_key for c in credits]


def test_offer_reaches_each_offered_member_and_completion_the_resident():
    offered = {"event_id": "e1", "event_type": "request.offered", "data": {**CONFIRMED, "member_ids": [8, 9]}}
    notices = notify.notices_for(offered)
    assert [n.recipient_id for n in notices] == [8, 9]
    assert "法律咨询" in notices[0].title
    done = {"event_id": "e2", "event_type": "request.completed", "data": CONFIRMED}
    (notice,) = notify.notices_for(done)
    assert notice.recipient_id == 6 and "评价" in notice.body
    assert notify.notices_for({"event_id": "e3", "event_type": "request.claimed", "data": {}}) == []


def test_template_missing_a_field_is_a_clear_error():
    with pytest.raises(ValidationFailed) as err:
        notify.render("request_offered", {})
    assert err.value.code == "TEMPLATE_FIELD_MISSING"
    with pytest.raises(ValidationFailed):
        notify.render("no_such_kind", {})
