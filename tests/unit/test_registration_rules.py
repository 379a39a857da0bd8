"""Registration's pure rules: the tree, the registration's life, free time, pairings, the card."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from common.errors import Conflict, Forbidden, ValidationFailed
from services.registration import domain

BEIJING = timezone(timedelta(hours=8))


def test_tree_kinds_hang_under_the_right_parent():
    domain.check_child_kind("street", "community")
    domain.check_child_kind("community", "grid")
    domain.check_child_kind("grid", "building")
    for parent, kind in (("community", "building"), ("district", "community"), ("building", "grid"), (None, "street")):
        with pytest.raises(ValidationFailed) as err:
            domain.check_child_kind(parent, kind)
        assert "kind" in err.value.fields


def test_street_staff_manage_their_communities_and_community_staff_their_grids():
    street = {"user_id": 1, "role": "street_staff", "street_id": 2}
    staff = {"user_id": 2, "role": "community_staff", "community_id": 3}
    domain.check_can_manage_node(street, "community", {"street_id": 2, "district_id": 1})
    domain.check_can_manage_node(staff, "grid", {"community_id": 3, "street_id": 2})
    domain.check_can_manage_node(staff, "building", {"grid_id": 9, "community_id": 3})
    with pytest.raises(Forbidden):
        domain.check_can_manage_node(street, "community", {"street_id": 5})
    with pytest.raises(Forbidden):
        domain.check_can_manage_node(staff, "community", {"street_id": 2})  # not theirs to create
    with pytest.raises(Forbidden):
        domain.check_can_manage_node(staff, "grid", {"community_id": 4})


def test_registration_moves_only_along_its_transitions():
    assert domain.next_status("submitted", "accept") == "accepted"
    assert domain.next_status("submitted", "reject") == "rejected"
    assert domain.next_status("rejected", "resubmit") == "submitted"
    assert domain.next_status("accepted", "revoke") == "revoked"
    assert domain.next_status("accepted", "transfer") == "accepted"
    for status, action in (("accepted", "accept"), ("rejected", "accept"), ("submitted", "transfer"),
                           ("revoked", "revoke"), ("accepted", "resubmit")):
        with pytest.raises(Conflict) as err:
            domain.next_status(status, action)
        assert err.value.details["current_status"] == status


def test_only_the_members_community_staff_decide():
    domain.check_can_decide({"user_id": 1, "role": "community_staff", "community_id": 3}, 3)
    domain.check_can_decide({"user_id": None, "role": "system"}, 3)
    for actor in ({"user_id": 1, "role": "community_staff", "community_id": 4},
                  {"user_id": 1, "role": "member", "community_id": 3},
                  {"user_id": 1, "role": "street_staff", "street_id": 2}):
        with pytest.raises(Forbidden):
            domain.check_can_decide(actor, 3)


def test_a_rejection_needs_a_reason():
    with pytest.raises(ValidationFailed) as err:
        domain.check_reason("  ")
    assert "reason" in err.value.fields
    domain.check_reason("材料不全")


def test_the_default_posts_are_huadas_three_categories_and_eleven_posts():
    assert len(domain.DEFAULT_POSTS) == 3
    assert sum(len(p) for p in domain.DEFAULT_POSTS.values()) == 11
    assert "法律服务" in domain.DEFAULT_POSTS["公共事务"]


def test_free_time_presets_and_explicit_windows_expand_to_weekly_rows():
    rows = domain.expand_windows([{"preset": "weekday_evenings"},
                                  {"weekdays": [6], "start": "09:00", "end": "11:30"},
                                  {"preset": "weekday_evenings"}])  # repeated: rows are not doubled
    assert (1, 18 * 60, 22 * 60) in rows and (5, 18 * 60, 22 * 60) in rows
    assert (6, 9 * 60, 11 * 60 + 30) in rows
    assert len(rows) == 6


@pytest.mark.parametrize("window", [{"preset": "whenever"}, {"weekdays": [8], "start": "09:00", "end": "10:00"},
                                    {"weekdays": [1], "start": "21:00", "end": "20:00"},
                                    {"weekdays": [1], "start": "9am", "end": "10:00"}, {"weekdays": []}])
def test_bad_free_time_is_a_field_error(window):
    with pytest.raises(ValidationFailed) as err:
        domain.expand_windows([window])
    assert "free_time" in err.value.fields


def test_availability_is_judged_in_beijing_time():
    rows = domain.expand_windows([{"preset": "weekday_evenings"}])
    monday_evening = datetime(2026, 11, 23, 19, 30, tzinfo=BEIJING)
    assert domain.is_free(rows, monday_evening)
    # the same instant written in UTC is still Monday 19:30 in Beijing
    assert domain.is_free(rows, monday_evening.astimezone(UTC))
    assert not domain.is_free(rows, datetime(2026, 11, 23, 22, 0, tzinfo=BEIJING))  # the end is exclusive
    assert not domain.is_free(rows, datetime(2026, 11, 23, 10, 0, tzinfo=BEIJING))
    assert not domain.is_free(rows, datetime(2026, 11, 28, 19, 30, tzinfo=BEIJING))  # Saturday
    assert domain.local_slot(datetime(2026, 11, 23, 19, 30)) == (1, 19 * 60 + 30)  # naive = Beijing


def test_skills_are_trimmed_deduplicated_and_split_from_a_spreadsheet_cell():
    assert domain.normalise_skills(["法律", " 法律", "", "医疗"]) == ["法律", "医疗"]
    assert domain.normalise_skills("法律、医疗，IT") == ["法律", "医疗", "IT"]


def test_a_pairing_runs_for_one_year():
    assert domain.pairing_end(date(2026, 3, 1)) == date(2027, 2, 28)
    assert domain.pairing_end(date(2028, 2, 29)) == date(2029, 2, 27)
    with pytest.raises(ValidationFailed):
        domain.check_pairing_party(None, None)
    with pytest.raises(ValidationFailed):
        domain.check_pairing_party(1, 2)
    domain.check_pairing_party(1, None)


def test_the_card_counts_services_hours_and_places():
    summary = domain.service_summary([
        {"source": "request", "place": "东风社区", "hours": 1.5},
        {"source": "activity", "place": "东风公园", "hours": 3},
        {"source": "activity", "place": "东风社区", "hours": 2},
    ])
    assert summary["count"] == 3 and summary["hours"] == 6.5
    assert summary["requests"] == 1 and summary["activities"] == 2
    assert summary["places"][0] == {"place": "东风社区", "count": 2}
    assert domain.service_summary([])["count"] == 0
