"""Notify's pure rules: who hears what, templates, preferences, quiet hours, retries, signatures."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import unquote_plus

import pytest

from common.errors import ValidationFailed
from services.notify import domain

REQUEST = {"request_id": 1, "community_id": 3, "street_id": 2, "resident_id": 6, "menu_item_id": 1,
           "title": "法律咨询", "state": "dispatched", "reason": ""}


def event(event_type, data, event_id="e1"):
    return {"event_id": event_id, "event_type": event_type, "data": data}


def test_residents_hear_acceptance_claim_and_completion_members_hear_offers():
    kinds = {}
    for etype, extra in [("request.accepted", {}), ("request.claimed", {"member_id": 8}),
                         ("request.completed", {"member_ids": [8]}), ("request.offered", {"member_ids": [8, 9]})]:
        (intent,) = domain.plan(event(etype, {**REQUEST, **extra}))
        kinds[intent.kind] = intent.recipients
    assert kinds == {"request_accepted": [6], "request_claimed": [6], "request_completed": [6],
                     "request_offered": [8, 9]}


def test_hotline_request_without_resident_account_notifies_no_one():
    assert domain.plan(event("request.claimed", {**REQUEST, "resident_id": None, "member_id": 8})) == []


def test_open_request_goes_to_the_communitys_members_through_an_audience():
    (intent,) = domain.plan(event("request.offered", {**REQUEST, "member_ids": [], "open_to_all": True}))
    assert intent.kind == "request_open" and intent.recipients is None
    assert intent.audience == {"roles": ["member", "grid_leader"], "community_id": 3}


def test_new_need_goes_to_group_chats_and_webhooks_not_to_people():
    (intent,) = domain.plan(event("request.submitted", REQUEST))
    assert intent.group and intent.webhook and intent.recipients is None and intent.audience is None
    assert intent.title == "【新需求】法律咨询"


@pytest.mark.parametrize("level,org_id,expected", [
    ("street", 2, {"roles": ["street_staff"], "street_id": 2}),
    ("district", 1, {"roles": ["district_staff"], "district_id": 1}),
    ("community", None, {"roles": ["community_staff"], "community_id": 3}),
])
def test_escalations_reach_the_office_of_their_level_urgently(level, org_id, expected):
    (intent,) = domain.plan(event("request.escalated", {**REQUEST, "level": level, "org_id": org_id,
                                                        "reason": "48小时无人接单"}))
    assert intent.audience == expected and intent.urgent
    assert "48小时无人接单" in intent.body and domain.LEVEL_LABELS[level] in intent.body


def test_escalation_to_the_district_without_its_id_reaches_no_one_rather_than_everyone():
    (intent,) = domain.plan(event("request.escalated", {**REQUEST, "level": "district", "org_id": None}))
    assert intent.audience is None  # no recipients query without a place


def test_activity_audience_follows_the_event_and_times_read_in_local_time():
    data = {"activity_id": 5, "community_id": 3, "title": "登革热清积水", "starts_at": "2026-11-21T01:00:00+00:00",
            "ends_at": "2026-11-21T03:00:00+00:00", "place": "", "audience": "e_branch", "audience_id": 7}
    (intent,) = domain.plan(event("activity.published", data))
    assert intent.audience == {"roles": ["member", "grid_leader"], "e_branch_id": 7}
    assert intent.group and intent.e_branch_id == 7
    assert "11月21日 09:00" in intent.body and "社区" in intent.body
    (community,) = domain.plan(event("activity.published", {**data, "audience": "community", "audience_id": None}))
    assert community.audience == {"roles": ["member", "grid_leader"], "community_id": 3}


def test_wait_list_promotion_and_reminders_are_urgent_report_goes_to_unit_organisations():
    act = {"activity_id": 5, "community_id": 3, "title": "义诊", "starts_at": "2026-11-21T01:00:00+00:00",
           "ends_at": "2026-11-21T03:00:00+00:00"}
    (promoted,) = domain.plan(event("activity.promoted", {**act, "member_id": 8}))
    assert promoted.recipients == [8] and promoted.urgent
    (reminder,) = domain.plan(event("activity.reminder", {**act, "member_ids": [8, 9]}))
    assert reminder.recipients == [8, 9] and reminder.urgent
    (report,) = domain.plan(event("unit_report.issued", {"work_unit_id": 4, "period": "2026Q3", "members": 12,
                                                         "total_points": 340}))
    assert report.audience == {"roles": ["unit_org"], "work_unit_id": 4}
    assert "2026Q3" in report.title and "340" in report.body and not report.urgent


def test_a_template_missing_a_field_is_kept_on_the_intent_not_raised():
    (intent,) = domain.plan(event("request.accepted", {"resident_id": 6, "community_id": 3}))
    assert intent.error.startswith("TEMPLATE_FIELD_MISSING") and "title" in intent.error


def test_redelivered_event_gives_the_same_keys():
    first = domain.notices_for(event("request.offered", {**REQUEST, "member_ids": [8, 9]}))
    again = domain.notices_for(event("request.offered", {**REQUEST, "member_ids": [8, 9]}))
    assert [n.dedup_key for n in first] == [n.dedup_key for n in again]
    assert len({n.dedup_key for n in first}) == 2


def test_every_template_renders_with_its_declared_fields():
    for kind, template in domain.TEMPLATES.items():
        title, body = domain.render(kind, {name: "X" for name in template.fields})
        assert title and body, kind
    assert domain.TEMPLATES["unit_report"].fields == ["members", "period", "report_url", "total_points"]


def test_preferences_rules():
    ok = domain.check_preferences({"channels": ["sms"], "phone": "13800000001", "opt_outs": ["activity_published"],
                                   "quiet_hours": {"start": "09:00", "end": "18:00"}})
    assert ok["channels"] == ["inbox", "sms"]
    with pytest.raises(ValidationFailed) as err:
        domain.check_preferences({"channels": ["sms"], "opt_outs": ["activity_reminder", "nope"]})
    assert set(err.value.fields) == {"phone", "opt_outs"}
    with pytest.raises(ValidationFailed):
        domain.check_preferences({"channels": ["fax"]})


def test_opt_out_silences_non_urgent_kinds_only():
    prefs = {"channels": ["inbox", "sms"], "phone": "13800000001", "opt_outs": ["activity_published"]}
    assert domain.channels_for(prefs, "activity_published", urgent=False) == []
    assert domain.channels_for(prefs, "activity_reminder", urgent=True) == ["inbox", "sms"]
    assert domain.channels_for({**prefs, "phone": None}, "request_offered", False) == ["inbox"]


def at(local: str) -> datetime:
    return datetime.fromisoformat(local + "+08:00").astimezone(UTC)


def test_quiet_hours_hold_non_urgent_pushes_until_after_work():
    prefs = domain.default_preferences(1)  # weekdays 09:00–18:00
    wednesday_noon = at("2026-11-18T12:00:00")
    assert domain.schedule(prefs, "sms", False, wednesday_noon) == ("pending", at("2026-11-18T18:00:00"))
    assert domain.schedule(prefs, "sms", True, wednesday_noon) == ("pending", wednesday_noon)
    assert domain.schedule(prefs, "inbox", False, wednesday_noon) == ("pending", wednesday_noon)
    evening = at("2026-11-18T19:30:00")
    assert domain.schedule(prefs, "sms", False, evening) == ("pending", evening)
    saturday = at("2026-11-21T12:00:00")
    assert domain.schedule(prefs, "email", False, saturday) == ("pending", saturday)


def test_quiet_hours_across_midnight_and_daily_digest():
    night = {"start": "22:00", "end": "07:00", "weekdays_only": False}
    assert domain.quiet_until(night, at("2026-11-18T23:00:00")) == at("2026-11-19T07:00:00")
    assert domain.quiet_until(night, at("2026-11-19T06:00:00")) == at("2026-11-19T07:00:00")
    assert domain.quiet_until(night, at("2026-11-19T08:00:00")) is None
    digest = {**domain.default_preferences(1), "digest": True}
    assert domain.schedule(digest, "sms", False, at("2026-11-18T10:00:00")) == ("digest", at("2026-11-18T20:00:00"))
    assert domain.schedule(digest, "sms", False, at("2026-11-18T21:00:00")) == ("digest", at("2026-11-19T20:00:00"))
    title, body = domain.compose_digest([("甲", "一"), ("乙", "二")])
    assert "2 条" in title and body.splitlines() == ["1. 甲：一", "2. 乙：二"]


def test_retries_back_off_then_dead_letter_permanent_failures_at_once():
    assert [domain.backoff(n, 30) for n in (1, 2, 3)] == [30, 120, 480]
    assert domain.backoff(20, 30) == domain.MAX_BACKOFF_SECONDS
    assert domain.after_failure(1, False, 3, 30) == ("retry", 30)
    assert domain.after_failure(3, False, 3, 30) == ("dead", None)
    assert domain.after_failure(1, True, 3, 30) == ("dead", None)
    assert domain.is_permanent_status(404) and not domain.is_permanent_status(429)
    assert not domain.is_permanent_status(500)


def test_channel_settings_are_checked_and_secrets_masked():
    with pytest.raises(ValidationFailed) as err:
        domain.check_channel_config("webhook", {"url": "ftp://x"})
    assert set(err.value.fields["config"]) == {"secret", "url"}
    with pytest.raises(ValidationFailed) as err:
        domain.check_channel_config("pigeon", {})
    assert err.value.code == "UNKNOWN_CHANNEL"
    shown = domain.masked_config("webhook", {"url": "http://x", "secret": "s3cr3t"})
    assert shown == {"url": "http://x", "secret": "****"}


def test_signatures_match_what_receivers_compute():
    body = b'{"a":1}'
    expected = hmac.new(b"k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert domain.webhook_signature("k", "1700000000", body) == f"sha256={expected}"
    sign = unquote_plus(domain.dingtalk_sign("SEC", 1700000000000))
    digest = hmac.new(b"SEC", b"1700000000000\nSEC", hashlib.sha256).digest()
    assert base64.b64decode(sign) == digest


def test_deadline_reminders_and_reassignment_reach_the_members_and_new_wishes_the_group_chats():
    (deadline,) = domain.plan(event("request.reminder", {
        **REQUEST, "member_ids": [8], "stage": "service", "due_at": "2026-11-21T10:00:00+00:00"}))
    assert deadline.kind == "request_deadline" and deadline.recipients == [8] and deadline.urgent
    assert "承办" in deadline.body and "11月21日 18:00" in deadline.body
    (assigned,) = domain.plan(event("request.reassigned", {**REQUEST, "member_ids": [9], "removed_ids": [8]}))
    assert assigned.kind == "request_assigned" and assigned.recipients == [9] and not assigned.urgent
    (wish,) = domain.plan(event("wish.posted", {"wish_id": 4, "community_id": 3, "title": "想要一副老花镜"}))
    assert wish.group and wish.webhook and wish.recipients is None and "老花镜" in wish.title
