import pytest

from common.errors import Conflict, Forbidden, ValidationFailed
from services.dispatch import domain

MEMBER = {"user_id": 7, "role": "member"}


def test_happy_path_walks_the_lifecycle():
    state = domain.SUBMITTED
    for action, expected in [("accept", "accepted"), ("dispatch", "dispatched"),
                             ("claim", "dispatched")]:
        state = domain.next_state(state, action)
        assert state == expected
    state = domain.state_after_claim(claimed=1, needed=1)
    for action, expected in [("start", "in_service"), ("complete", "done"), ("confirm", "closed")]:
        state = domain.next_state(state, action)
        assert state == expected


def test_illegal_transition_names_the_current_state():
    with pytest.raises(Conflict) as err:
        domain.next_state(domain.CLOSED, "claim")
    assert err.value.details == {"current_state": "closed"}
    assert err.value.code == "INVALID_TRANSITION"


@pytest.mark.parametrize("state", ["in_service", "done", "closed", "rejected"])
def test_cannot_cancel_once_service_has_begun(state):
    with pytest.raises(Conflict):
        domain.next_state(state, "cancel")


def test_request_needing_two_members_stays_open_after_one_claim():
    assert domain.state_after_claim(claimed=1, needed=2) == domain.DISPATCHED
    assert domain.state_after_claim(claimed=2, needed=2) == domain.CLAIMED


def test_only_offered_members_claim_unless_open_to_all():
    domain.check_can_claim(MEMBER, offered_to={7}, open_to_all=False)
    domain.check_can_claim(MEMBER, offered_to=set(), open_to_all=True)
    with pytest.raises(Forbidden) as err:
        domain.check_can_claim(MEMBER, offered_to={8}, open_to_all=False)
    assert err.value.code == "NOT_OFFERED"
    with pytest.raises(Forbidden):
        domain.check_can_claim({"user_id": 7, "role": "resident"}, {7}, True)


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_rating_outside_one_to_five_is_refused(rating):
    with pytest.raises(ValidationFailed) as err:
        domain.check_rating(rating)
    assert "rating" in err.value.fields


def test_points_reward_a_top_rating():
    assert domain.points_for(10, 4) == 10
    assert domain.points_for(10, 5) == 15


def test_offer_goes_to_the_top_k_candidates_in_rank_order():
    candidates = [{"member_id": m} for m in (5, 3, 9, 1)]
    assert domain.choose_offer(candidates, 3).member_ids == (5, 3, 9)
    assert domain.choose_offer([], 3).member_ids == ()


DEFS = [
    {"code": "topic", "description": "咨询事项", "datatype": "singlevaluelist", "required": True,
     "values": [{"key": "family", "name": "婚姻家庭"}]},
    {"code": "people", "description": "人数", "datatype": "number", "required": False},
]


def test_answers_are_checked_against_the_menu_item_fields():
    assert domain.validate_fields(DEFS, {"topic": "family", "people": 2}) == {"topic": "family", "people": 2}
    with pytest.raises(ValidationFailed) as err:
        domain.validate_fields(DEFS, {"people": "two", "extra": 1})
    problems = err.value.fields["fields"]
    assert set(problems) == {"topic", "people", "extra"}
    with pytest.raises(ValidationFailed):
        domain.validate_fields(DEFS, {"topic": "other"})
