"""已超时: which requests are past their claim or service deadline (dispatch.domain.overdue)."""

from datetime import UTC, datetime, timedelta

from services.dispatch import domain

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def ago(minutes):
    return NOW - timedelta(minutes=minutes)


def test_waiting_for_claims_past_the_claim_deadline_is_overdue():
    assert domain.overdue("dispatched", {"dispatched": ago(24 * 60 + 1)}, None, NOW)
    assert not domain.overdue("dispatched", {"dispatched": ago(24 * 60 - 1)}, None, NOW)


def test_the_menu_items_own_deadlines_apply():
    policy = {"claim_minutes": 10, "service_minutes": 30}
    assert domain.overdue("dispatched", {"dispatched": ago(11)}, policy, NOW)
    assert not domain.overdue("claimed", {"dispatched": ago(40), "claimed": ago(20)}, policy, NOW)
    assert domain.overdue("claimed", {"claimed": ago(31)}, policy, NOW)


def test_service_clock_runs_from_the_claim_through_service():
    policy = {"service_minutes": 30}
    assert domain.overdue("in_service", {"claimed": ago(31), "in_service": ago(1)}, policy, NOW)
    assert not domain.overdue("in_service", {"claimed": ago(29), "in_service": ago(1)}, policy, NOW)


def test_states_without_a_running_deadline_are_never_overdue():
    for state in ("submitted", "accepted", "done", "closed", "cancelled", "rejected"):
        assert not domain.overdue(state, {state: ago(10 ** 6)}, None, NOW)
    assert not domain.overdue("dispatched", {}, None, NOW)
