"""The volunteer record's pure rules: hours confirmation, star levels, authorisation, numbering."""

from datetime import UTC, date, datetime

import pytest

from common.errors import Conflict, Forbidden, ValidationFailed
from services.dispatch import domain as dispatch
from services.records import domain

STAFF = {"user_id": 10, "role": "community_staff", "community_id": 3, "street_id": 2, "district_id": 1}
PLACE = {"id": 3, "street_id": 2, "district_id": 1}


# ---- stating hours at completion (dispatch) ---------------------------------------------------

def test_stated_hours_stay_within_the_menu_items_bounds_and_never_fall_to_zero():
    bounds = dispatch.hour_bounds(None, 0.5, 4.0, 90)
    assert bounds == {"default": 1.5, "min": 0.5, "max": 4.0}
    assert dispatch.stated_hours(2.25, bounds) == (2.25, "stated")
    # not stated: the community's default, marked as such, never a guess from button presses
    assert dispatch.stated_hours(None, bounds) == (1.5, "default")
    for wrong in (0, 0.0001, 0.4, 4.5):
        with pytest.raises(ValidationFailed) as err:
            dispatch.stated_hours(wrong, bounds)
        assert err.value.code == "HOURS_OUT_OF_RANGE" and "不含路途" in err.value.fields["hours"][0]


def test_menu_item_bounds_must_make_sense():
    dispatch.check_hour_bounds(2.0, 0.5, 8.0)
    for bad in ((None, 0.0, 8.0), (None, 2.0, 1.0), (9.0, 0.5, 8.0)):
        with pytest.raises(ValidationFailed):
            dispatch.check_hour_bounds(*bad)
    # a default outside the bounds is clipped into them
    assert dispatch.hour_bounds(None, 2.0, 8.0, 30)["default"] == 2.0


# ---- confirming and correcting (records) -------------------------------------------------------

def test_the_organiser_confirms_the_stated_hours_as_they_are():
    assert domain.confirm_hours("stated", 2.0, None, None, "") == (2.0, "confirm")
    assert domain.confirm_hours("stated", 2.0, None, 2.0, "") == (2.0, "confirm")


def test_different_hours_are_a_correction_that_needs_a_reason():
    with pytest.raises(ValidationFailed) as err:
        domain.confirm_hours("stated", 2.0, None, 1.5, " ")
    assert err.value.code == "REASON_REQUIRED"
    assert domain.confirm_hours("stated", 2.0, None, 1.5, "含路途半小时") == (1.5, "correct")
    # already confirmed: only a correction, with a reason, to other hours
    with pytest.raises(Conflict):
        domain.confirm_hours("confirmed", 2.0, 1.5, None, "")
    with pytest.raises(Conflict):
        domain.confirm_hours("confirmed", 2.0, 1.5, 1.5, "再次确认")
    with pytest.raises(ValidationFailed):
        domain.confirm_hours("confirmed", 2.0, 1.5, 3.0, "")
    assert domain.confirm_hours("confirmed", 2.0, 1.5, 3.0, "补记整理时间") == (3.0, "correct")


def test_nothing_stated_means_the_organiser_must_give_hours_and_zero_is_never_confirmed():
    with pytest.raises(ValidationFailed) as err:
        domain.confirm_hours("stated", None, None, None, "")
    assert err.value.code == "HOURS_REQUIRED"
    assert domain.confirm_hours("stated", None, None, 1.0, "") == (1.0, "confirm")
    with pytest.raises(ValidationFailed):
        domain.confirm_hours("stated", None, None, 0, "")


def test_only_confirmed_hours_count():
    entries = [{"status": "confirmed", "confirmed_hours": 2.5}, {"status": "stated", "confirmed_hours": None},
               {"status": "confirmed", "confirmed_hours": 1.25}]
    assert domain.counted_hours(entries) == 3.75


# ---- volunteer star levels -------------------------------------------------------------------

@pytest.mark.parametrize("hours,level", [(0, 0), (99.99, 0), (100, 1), (299, 1), (300, 2), (600, 3),
                                         (999.5, 3), (1000, 4), (1500, 5), (4000, 5)])
def test_star_levels_follow_the_national_thresholds(hours, level):
    star = domain.volunteer_star(hours)
    assert star["level"] == level
    assert star["label"] == (f"{domain.STAR_NAMES[level]}志愿者" if level else "尚未达到星级志愿者")


def test_star_levels_say_what_is_next_and_thresholds_are_configurable(monkeypatch):
    assert domain.volunteer_star(250)["next_level_at"] == 300 and domain.volunteer_star(250)["hours_to_next"] == 50
    assert domain.volunteer_star(1600)["next_level_at"] is None
    monkeypatch.setenv("VOLUNTEER_STAR_THRESHOLDS", "10,20,30,40,50")
    assert domain.volunteer_star(25, domain.star_thresholds())["level"] == 2
    for bad in ("1,2,3", "5,4,3,2,1", "a,b,c,d,e", "0,1,2,3,4"):
        with pytest.raises(ValueError):
            domain.parse_thresholds(bad)


# ---- who may do what ---------------------------------------------------------------------------

def test_who_confirms_hours():
    member = {"member_id": 7, "community_id": 3, "e_branch_id": 5}
    domain.check_can_confirm(STAFF, 3, PLACE, member)
    with pytest.raises(Forbidden):
        domain.check_can_confirm({**STAFF, "community_id": 4}, 3, PLACE, member)
    secretary = {"user_id": 8, "role": "member", "community_id": 3, "e_branch_id": 5}
    domain.check_can_confirm(secretary, 3, PLACE, member, secretary_id=8)
    with pytest.raises(Forbidden):  # a secretary does not confirm their own hours
        domain.check_can_confirm({**secretary, "user_id": 7}, 3, PLACE, member, secretary_id=7)
    with pytest.raises(Forbidden):  # nor is another member an organiser
        domain.check_can_confirm({**secretary, "user_id": 9}, 3, PLACE, member, secretary_id=8)
    street = {"user_id": 2, "role": "street_staff", "street_id": 2}
    domain.check_can_confirm(street, 3, PLACE, member)


def test_the_record_is_seen_by_the_member_and_the_keeping_community_only():
    assert domain.can_view_record({"user_id": 7, "role": "member"}, 7, PLACE, 3)
    assert not domain.can_view_record({"user_id": 8, "role": "member"}, 7, PLACE, 3)
    assert domain.can_view_record(STAFF, 7, PLACE, 3)
    assert not domain.can_view_record({**STAFF, "community_id": 9}, 7, PLACE, 3)


def test_only_the_member_decides_a_transfer_once():
    domain.check_transfer_decision({"user_id": 7, "role": "member"}, 7, "pending")
    with pytest.raises(Forbidden):
        domain.check_transfer_decision(STAFF, 7, "pending")
    with pytest.raises(Conflict):
        domain.check_transfer_decision({"user_id": 7, "role": "member"}, 7, "consented")


# ---- certificates and exports ------------------------------------------------------------------

def test_certificate_numbers_are_unique_and_hard_to_guess():
    a = domain.certificate_number(date(2026, 12, 1), 12)
    b = domain.certificate_number(date(2026, 12, 1), 12)
    assert a.startswith("ZM-2026-000012-") and len(a) == len("ZM-2026-000012-ABCD")
    assert a != b or a[-4:] == b[-4:]  # the sequence makes it unique; the suffix hides it
    assert not set(a[-4:]) & set("01IO")


def test_content_summary_and_verification_facts():
    entries = [{"title": "法律咨询", "source": "request", "confirmed_hours": 2.0},
               {"title": "法律咨询", "source": "request", "confirmed_hours": 1.5},
               {"title": "清积水", "source": "activity", "confirmed_hours": 3.0}]
    assert domain.content_summary(entries) == "法律咨询2次共3.5小时；清积水1次共3小时"
    cert = {"number": "ZM-2026-000001-ABCD", "issuer_name": "东风社区", "issued_on": date(2026, 12, 1),
            "since": date(2026, 1, 1), "until": date(2026, 12, 1), "hours": 6.5, "services": 3,
            "revoked_at": None, "member_name": "张伟", "id_number_masked": "4406**********0012"}
    facts = domain.verification(cert)
    assert facts["valid"] and facts["status_label"] == "有效"
    assert "张伟" not in str(facts) and "4406" not in str(facts)
    revoked = domain.verification({**cert, "revoked_at": datetime(2026, 12, 2, tzinfo=UTC)})
    assert not revoked["valid"] and revoked["status_label"] == "已撤销"
    with pytest.raises(ValidationFailed):
        domain.check_period(date(2026, 5, 1), date(2026, 4, 1), date(2026, 12, 1))


@pytest.mark.parametrize("text", ["=1+1", "+86", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_export_cells_that_would_run_as_formulas_are_escaped(text):
    assert domain.safe_cell(text) == "'" + text
    assert domain.safe_cell("张伟") == "张伟" and domain.safe_cell(2.5) == 2.5


def test_a_certificate_prints_the_id_number_masked():
    from common.masking import mask_id_number

    assert mask_id_number("440604198001010012") == "4406**********0012"
    assert mask_id_number("short") == "*****"


def test_scoring_ledger_hours_follow_confirmations_only():
    from services.scoring import domain as scoring

    request = {"entry_id": 4, "member_id": 7, "source": "request", "title": "法律咨询", "hours": 2.0}
    first = scoring.credit_for_confirmed_hours("e1", request)
    assert (first.points, first.hours, first.kind) == (0, 2.0, "hours")
    fixed = scoring.credit_for_confirmed_hours("e2", {**request, "hours": 1.5, "previous_hours": 2.0})
    assert fixed.hours == -0.5 and fixed.entry_key != first.entry_key
    # an activity's hours came with its attendance credit: only a correction changes them
    assert scoring.credit_for_confirmed_hours("e3", {**request, "source": "activity"}) is None
    corrected = scoring.credit_for_confirmed_hours("e4", {**request, "source": "activity", "previous_hours": 3.0})
    assert corrected.hours == -1
    confirmed = scoring.credits_for_confirmed_request("e5", {"request_id": 1, "title": "x", "member_ids": [7],
                                                              "rating": 5, "points": 10, "hours": 2.0})
    assert confirmed[0].hours == 0.0  # stated hours are not counted before confirmation
