"""Activities' pure rules: publishing rights, audiences, the rotating code, windows, hours, marks."""

from datetime import UTC, datetime, timedelta

import pytest

from common.errors import Conflict, Forbidden, ValidationFailed
from services.activities import domain

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
START = NOW + timedelta(hours=1)
END = START + timedelta(hours=2)
PLACE = {"id": 3, "street_id": 2, "district_id": 1}


def activity(**kw):
    base = {"id": 7, "community_id": 3, "street_id": 2, "district_id": 1, "publisher_id": 50,
            "publisher_role": "community_staff", "work_unit_id": None, "leader_id": None,
            "audience": "community", "audience_id": None, "state": domain.PUBLISHED,
            "starts_at": START, "ends_at": END, "signup_deadline": START, "title": "清洁日"}
    return base | kw


def member(**kw):
    return {"user_id": 9, "role": "member", "community_id": 3, "grid_id": 4, "work_unit_id": 11,
            "e_branch_id": 21} | kw


# ---- publishing ---------------------------------------------------------------------------

def test_schedule_must_end_after_start_in_the_future_with_a_sane_deadline():
    domain.check_schedule(START, END, START, NOW)
    with pytest.raises(ValidationFailed) as err:
        domain.check_schedule(END, START, None, NOW)
    assert "ends_at" in err.value.fields
    with pytest.raises(ValidationFailed):
        domain.check_schedule(NOW - timedelta(hours=3), NOW - timedelta(hours=1), None, NOW)
    with pytest.raises(ValidationFailed) as err:
        domain.check_schedule(START, END, END + timedelta(minutes=1), NOW)
    assert "signup_deadline" in err.value.fields
    with pytest.raises(ValidationFailed):
        domain.check_schedule(START, START + timedelta(days=4), None, NOW)


def test_who_may_publish_for_whom():
    staff = {"user_id": 1, "role": "community_staff", "community_id": 3}
    domain.check_can_publish(staff, PLACE, "grid", 4)
    with pytest.raises(Forbidden):
        domain.check_can_publish({**staff, "community_id": 99}, PLACE, "community", None)
    street = {"user_id": 2, "role": "street_staff", "street_id": 2}
    domain.check_can_publish(street, PLACE, "community", None)

    grid_leader = {"user_id": 3, "role": "grid_leader", "community_id": 3, "grid_id": 4}
    domain.check_can_publish(grid_leader, PLACE, "grid", 4)
    domain.check_can_publish(grid_leader, PLACE, "community", None)
    with pytest.raises(Forbidden):
        domain.check_can_publish(grid_leader, PLACE, "grid", 5)

    unit = {"user_id": 4, "role": "unit_org", "work_unit_id": 11}
    domain.check_can_publish(unit, PLACE, "work_unit", 11)
    with pytest.raises(Forbidden) as err:
        domain.check_can_publish(unit, PLACE, "work_unit", 12)
    assert err.value.code == "AUDIENCE_NOT_ALLOWED"
    with pytest.raises(Forbidden):
        domain.check_can_publish({**unit, "work_unit_id": None}, PLACE, "community", None)

    secretary = member(e_branch_secretary=True)
    domain.check_can_publish(secretary, PLACE, "e_branch", 21)
    with pytest.raises(Forbidden):
        domain.check_can_publish(secretary, PLACE, "e_branch", 22)
    with pytest.raises(Forbidden):  # an ordinary member publishes nothing
        domain.check_can_publish(member(), PLACE, "e_branch", 21)
    with pytest.raises(Forbidden):
        domain.check_can_publish({"user_id": 5, "role": "resident", "community_id": 3}, PLACE, "community", None)


def test_audience_shape_needs_an_id_except_for_the_whole_community():
    assert domain.check_audience_shape("community", 5) is None
    with pytest.raises(ValidationFailed):
        domain.check_audience_shape("grid", None)


def test_leaders_are_publisher_appointed_leader_or_staff_in_scope():
    act = activity(leader_id=77)
    assert domain.can_manage({"user_id": 50, "role": "community_staff", "community_id": 99}, act)
    assert domain.can_manage({"user_id": 77, "role": "member"}, act)
    assert domain.can_manage({"user_id": 1, "role": "community_staff", "community_id": 3}, act)
    assert not domain.can_manage({"user_id": 1, "role": "community_staff", "community_id": 4}, act)
    assert not domain.can_manage(member(), act)
    grid_act = activity(audience="grid", audience_id=4)
    assert domain.can_manage({"user_id": 8, "role": "grid_leader", "community_id": 3, "grid_id": 4}, grid_act)
    assert not domain.can_manage({"user_id": 8, "role": "grid_leader", "community_id": 3, "grid_id": 4}, act)
    unit_act = activity(publisher_role="unit_org", work_unit_id=11)
    assert domain.can_manage({"user_id": 6, "role": "unit_org", "work_unit_id": 11}, unit_act)
    assert not domain.can_manage({"user_id": 6, "role": "unit_org", "work_unit_id": 12}, unit_act)


def test_places_cannot_drop_below_those_confirmed():
    domain.check_places(10, 10)
    with pytest.raises(Conflict) as err:
        domain.check_places(9, 10)
    assert err.value.code == "PLACES_BELOW_CONFIRMED" and err.value.details == {"confirmed": 10}


# ---- signing up -----------------------------------------------------------------------------

@pytest.mark.parametrize("audience,audience_id,facts,expected", [
    ("community", None, {}, True),
    ("community", None, {"community_id": 4}, False),
    ("grid", 4, {}, True),
    ("grid", 5, {}, False),
    ("e_branch", 21, {}, True),
    ("e_branch", 22, {}, False),
    ("work_unit", 11, {"community_id": 4}, True),  # a unit's members live in many communities
    ("work_unit", 12, {}, False),
])
def test_audience_membership(audience, audience_id, facts, expected):
    assert domain.in_audience(member(**facts), activity(audience=audience, audience_id=audience_id)) is expected


def test_sign_up_refusals_have_clear_codes():
    domain.check_can_sign_up(member(), activity(), NOW)
    cases = [
        (member(role="resident"), activity(kind="party_day"), NOW, Forbidden, "MEMBERS_ONLY"),
        (member(), activity(state=domain.CANCELLED), NOW, Conflict, "ACTIVITY_CANCELLED"),
        (member(), activity(state=domain.CLOSED), NOW, Conflict, "ACTIVITY_CLOSED"),
        (member(), activity(), START, Conflict, "SIGNUP_CLOSED"),
        (member(grid_id=5), activity(audience="grid", audience_id=4), NOW, Forbidden, "NOT_IN_AUDIENCE"),
    ]
    for actor, act, now, error, code in cases:
        with pytest.raises(error) as err:
            domain.check_can_sign_up(actor, act, now)
        assert err.value.code == code
        assert err.value.message


def test_overlap_is_strict_so_back_to_back_activities_are_fine():
    assert domain.overlaps(START, END, START + timedelta(hours=1), END + timedelta(hours=1))
    assert not domain.overlaps(START, END, END, END + timedelta(hours=1))


# ---- the on-site code -------------------------------------------------------------------------

SECRET = bytes(range(32))


def test_code_rotates_every_step_and_the_previous_one_is_still_accepted():
    code = domain.code_at(SECRET, 7, NOW)
    assert len(code) == 6 and code.isdigit()
    assert domain.code_at(SECRET, 7, NOW + timedelta(seconds=59)) == code
    later = NOW + timedelta(seconds=domain.CODE_STEP_SECONDS)
    assert domain.code_at(SECRET, 7, later) != code
    domain.verify_code(SECRET, 7, code, later)  # typed just as it changed
    with pytest.raises(Conflict) as err:
        domain.verify_code(SECRET, 7, code, NOW + timedelta(seconds=2 * domain.CODE_STEP_SECONDS))
    assert err.value.code == "WRONG_CODE"


def test_code_differs_per_activity_and_secret():
    assert domain.code_at(SECRET, 7, NOW) != domain.code_at(SECRET, 8, NOW)
    assert domain.code_at(SECRET, 7, NOW) != domain.code_at(bytes(32), 7, NOW)


def test_code_can_be_typed_or_scanned_but_not_from_another_activity():
    code = domain.code_at(SECRET, 7, NOW)
    domain.verify_code(SECRET, 7, domain.qr_payload(7, code), NOW)
    domain.verify_code(SECRET, 7, f" {code} ", NOW)
    with pytest.raises(Conflict) as err:
        domain.verify_code(SECRET, 7, domain.qr_payload(8, code), NOW)
    assert err.value.code == "WRONG_ACTIVITY_CODE"
    with pytest.raises(ValidationFailed) as err:
        domain.verify_code(SECRET, 7, "12ab", NOW)
    assert err.value.code == "INVALID_CODE_FORMAT"


def test_code_expiry_is_the_end_of_the_step():
    expires = domain.code_expires_at(NOW + timedelta(seconds=10))
    assert expires == NOW + timedelta(seconds=domain.CODE_STEP_SECONDS)


# ---- windows, lateness, hours ---------------------------------------------------------------------

def test_check_in_window_opens_half_an_hour_before_and_closes_at_the_end():
    domain.check_in_window(START, END, START - timedelta(minutes=30))
    domain.check_in_window(START, END, END)
    for at in (START - timedelta(minutes=31), END + timedelta(seconds=1)):
        with pytest.raises(Conflict) as err:
            domain.check_in_window(START, END, at)
        assert err.value.code == "OUTSIDE_WINDOW"
    domain.check_out_window(START, END, END + timedelta(minutes=30))
    with pytest.raises(Conflict):
        domain.check_out_window(START, END, END + timedelta(minutes=31))


def test_late_after_fifteen_minutes():
    assert domain.attendance_on_check_in(START, START + timedelta(minutes=15)) == domain.PRESENT
    assert domain.attendance_on_check_in(START, START + timedelta(minutes=16)) == domain.LATE


def test_hours_count_only_inside_the_window():
    assert domain.hours_between(START, END, START - timedelta(minutes=20), END + timedelta(minutes=20)) == 2.0
    assert domain.hours_between(START, END, START + timedelta(minutes=30), START + timedelta(minutes=75)) == 0.75
    assert domain.hours_between(START, END, START + timedelta(hours=1), None) == 1.0  # forgot to check out
    assert domain.hours_between(START, END, None, None) == 0.0
    assert domain.hours_between(START, END, END - timedelta(minutes=1), START) == 0.0


def test_a_correction_needs_a_reason_and_sane_hours():
    domain.check_mark(None, domain.PRESENT, "", None, 2.0)
    with pytest.raises(ValidationFailed) as err:
        domain.check_mark(domain.PRESENT, domain.ABSENT, "  ", None, 2.0)
    assert err.value.code == "REASON_REQUIRED" and "reason" in err.value.fields
    domain.check_mark(domain.PRESENT, domain.LEAVE, "家中急事，提前请假", None, 2.0)
    with pytest.raises(ValidationFailed):
        domain.check_mark(None, domain.PRESENT, "", 2.5, 2.0)
    with pytest.raises(ValidationFailed):
        domain.check_mark(None, domain.ABSENT, "", 1.0, 2.0)


def test_hours_after_a_mark():
    assert domain.hours_for_mark(domain.ABSENT, None, 1.5, 2.0) == 0.0
    assert domain.hours_for_mark(domain.PRESENT, 1.25, 1.5, 2.0) == 1.25
    assert domain.hours_for_mark(domain.LATE, None, 1.5, 2.0) == 1.5
    assert domain.hours_for_mark(domain.PRESENT, None, 0.0, 2.0) == 2.0  # the leader vouches: the window


def test_outcome_at_close():
    assert domain.outcome(domain.PRESENT, 2.0) == "attended"
    assert domain.outcome(domain.LATE, 0.5) == "attended"
    assert domain.outcome(domain.LEAVE, 0.0) == "excused"
    assert domain.outcome(domain.ABSENT, 0.0) == "no_show"
    assert domain.outcome(None, 0.0) == "no_show"
    assert domain.outcome(domain.PRESENT, 0.0) == "no_show"


def test_close_only_after_the_end_and_once():
    with pytest.raises(Conflict) as err:
        domain.check_can_close(activity(), END - timedelta(seconds=1))
    assert err.value.code == "NOT_ENDED"
    domain.check_can_close(activity(), END)
    with pytest.raises(Conflict) as err:
        domain.check_can_close(activity(state=domain.CLOSED), END)
    assert err.value.code == "ATTENDANCE_CLOSED"


def test_reminder_the_day_before_or_at_once_if_published_later():
    far = NOW + timedelta(days=3)
    assert domain.reminder_at(far, NOW) == far - timedelta(days=1)
    assert domain.reminder_at(START, NOW) == NOW
    assert domain.reminder_at(NOW - timedelta(minutes=1), NOW) is None
    assert domain.close_at(END) == END + domain.ATTENDANCE_CLOSES_AFTER


def test_naive_datetimes_from_sqlite_are_read_as_utc():
    assert domain.aware(datetime(2026, 1, 1, 8, 0)) == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    assert domain.aware(None) is None
