"""Scoring's pure rules: points from rules, caps and floors, periods, 立体评价 and stars."""

import pytest

from common.errors import Conflict, Unprocessable, ValidationFailed
from services.scoring import domain

CONFIRMED = {"request_id": 4, "community_id": 3, "menu_item_id": 2, "title": "上门义诊", "state": "closed",
             "member_ids": [8], "rating": 4, "points": 15, "category": "社区建设"}


def test_rules_layer_default_district_community_and_merge_nested_maps():
    rules = domain.merge_rules({"wish_points": 8, "weights": {"work_unit": 0.3}},
                               {"wish_points": 6, "service_points": {"categories": {"社区建设": 12}}})
    assert rules["wish_points"] == 6
    assert rules["weights"] == {"points": 0.5, "residents": 0.2, "community": 0.2, "work_unit": 0.3}
    assert rules["service_points"] == {"items": {}, "categories": {"社区建设": 12}}
    assert domain.merge_rules()["wish_points"] == domain.DEFAULT_RULES["wish_points"]
    domain.merge_rules({"weights": {"points": 9}})
    assert domain.DEFAULT_RULES["weights"]["points"] == 0.5  # defaults never mutated


def test_service_points_item_beats_category_beats_dispatch_hint():
    assert domain.service_points(domain.merge_rules(), CONFIRMED) == 15  # the hint, already rated
    by_category = domain.merge_rules({"service_points": {"categories": {"社区建设": 10}}})
    assert domain.service_points(by_category, {**CONFIRMED, "rating": 5}) == 15  # 10 × 1.5
    assert domain.service_points(by_category, {**CONFIRMED, "rating": 1}) == 5
    by_item = domain.merge_rules({"service_points": {"items": {"2": 20}, "categories": {"社区建设": 10}}})
    assert domain.service_points(by_item, CONFIRMED) == 20


def test_credit_keys_name_the_source_fact_not_the_message():
    one = domain.credits_for_confirmed_request("evt-1", CONFIRMED)
    other = domain.credits_for_confirmed_request("evt-2", CONFIRMED)
    assert [c.entry_key for c in one] == [c.entry_key for c in other] == ["request:4:8"]
    assert one[0].content_hash == other[0].content_hash
    changed = domain.credits_for_confirmed_request("evt-3", {**CONFIRMED, "points": 20})
    assert changed[0].entry_key == one[0].entry_key and changed[0].content_hash != one[0].content_hash
    rules = domain.merge_rules()
    attended = domain.credit_for_attendance({"activity_id": 5, "member_id": 8, "title": "巡逻", "hours": 2.5}, rules)
    assert attended.points == 5 and attended.entry_key == "activity:5:8"
    no_show = domain.penalty_for_no_show({"activity_id": 5, "member_id": 8, "title": "巡逻"}, rules)
    assert no_show.points == -3 and no_show.entry_key == attended.entry_key  # contradictory facts conflict
    assert [c.points for c in domain.credits_for_wish({"wish_id": 1, "title": "书包", "member_ids": [8, 9]},
                                                      rules)] == [5, 5]


def test_caps_trim_credits_and_floors_trim_deductions():
    assert domain.capped(10, 35, 40) == 5
    assert domain.capped(10, 45, 40) == 0
    assert domain.capped(10, 500, None) == 10
    assert domain.capped(-5, 45, 40) == -5
    assert domain.floored(-5, 3, 0) == -3
    assert domain.floored(-5, -2, 0) == 0
    assert domain.floored(-5, 10, -10) == -5
    assert domain.floored(7, -20, 0) == 7


def test_adjustments_need_a_reason_and_respect_the_floor():
    with pytest.raises(ValidationFailed) as err:
        domain.check_adjustment(5, " ", 10, 0)
    assert err.value.code == "REASON_REQUIRED"
    with pytest.raises(ValidationFailed):
        domain.check_adjustment(0, "没有变化", 10, 0)
    with pytest.raises(Unprocessable) as err:
        domain.check_adjustment(-11, "虚报时长", 10, 0)
    assert err.value.code == "BELOW_FLOOR" and err.value.details == {"balance": 10, "floor": 0}
    domain.check_adjustment(-10, "虚报时长", 10, 0)
    domain.check_adjustment(-15, "虚报时长", 10, -5)


def test_periods_late_events_and_closing_rules():
    from datetime import date

    assert domain.period_of(date(2026, 3, 31)) == "2026Q1"
    assert domain.period_of(date(2026, 10, 1)) == "2026Q4"
    assert domain.next_period("2026Q4") == "2027Q1"
    assert domain.landing_period("2026Q3", set()) == "2026Q3"
    assert domain.landing_period("2026Q3", {"2026Q3"}) == "2026Q4"
    assert domain.landing_period("2026Q3", {"2026Q3", "2026Q4"}) == "2027Q1"
    with pytest.raises(Conflict) as err:
        domain.check_can_close("2026Q3", "2026Q4", {"2026Q3"})
    assert err.value.code == "PERIOD_ALREADY_CLOSED"
    with pytest.raises(Unprocessable):
        domain.check_can_close("2027Q1", "2026Q4", set())
    with pytest.raises(ValidationFailed):
        domain.parse_period("2026Q5")
    domain.check_can_close("2026Q4", "2026Q4", {"2026Q3"})


def test_evaluation_weighs_four_sides_and_missing_sides_drop_out():
    rules = domain.merge_rules()
    assert domain.evaluation_score(rules, 60, 5.0, 100, 100) == pytest.approx(100)
    assert domain.evaluation_score(rules, 30, None, None, None) == pytest.approx(50)
    # points 50 (×0.5), residents 80 (×0.2), community 70 (×0.2), no unit view: /0.9
    assert domain.evaluation_score(rules, 30, 4.0, 70, None) == 61.1  # (25 + 16 + 14) / 0.9, to one decimal
    assert domain.evaluation_score(rules, -10, None, None, None) == 0
    assert domain.stars_for(rules, 90) == 5
    assert domain.stars_for(rules, 89.9) == 4
    assert domain.stars_for(rules, 19) == 0
    strict = domain.merge_rules({"star_thresholds": {"5": 98}})
    assert domain.stars_for(strict, 95) == 4


def test_rules_that_make_no_sense_are_refused_with_field_errors():
    with pytest.raises(ValidationFailed) as err:
        domain.check_rules({"star_thresholds": {"5": 50, "4": 70}, "weights": {"points": 0},
                            "deduction_floor": 5, "period_cap": 0})
    assert set(err.value.fields) == {"star_thresholds", "weights", "deduction_floor", "period_cap"}
    assert domain.check_rules({"wish_points": 3}) == {"wish_points": 3}
