"""Scoring's ledger on the real broker and database: rules, rejections, conflicts, adjustments."""

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from common.db import EventPublisher, envelope
from common.errors import Conflict, Forbidden, Unauthorized, Unprocessable, ValidationFailed
from services.scoring.service import ScoringService
from tests import support

CONFIRMED = {"request_id": 1, "community_id": 3, "resident_id": 6, "menu_item_id": 1, "title": "法律咨询",
             "state": "closed", "member_ids": [8], "rating": 5, "points": 15, "category": "公共事务"}
ACTIVITY = {"activity_id": 7, "community_id": 3, "title": "登革热清积水", "starts_at": "2026-11-01T09:00:00+08:00",
            "ends_at": "2026-11-01T12:00:00+08:00"}


class Scoring:
    def __init__(self, config, amqp_uri, vhost):
        self.config, self.vhost = config, vhost
        self.publishers = {s: EventPublisher(amqp_uri, s) for s in ("dispatch", "activities", "registration")}
        self._proxy = ClusterRpcProxy(config)
        self.rpc = self._proxy.start().scoring

    def publish(self, source, event_type, data, **envelope_fields):
        event = {**envelope(source, event_type, data), **envelope_fields}
        self.publishers[source].publish(event)
        return event

    def member(self, member_id, community_id=3, **facts):
        return self.publish("registration", "member.accepted",
                            {"member_id": member_id, "name": f"党员{member_id}", "community_id": community_id,
                             "district_id": 1, "street_id": 2, **facts})

    def idle(self):
        support.wait_queues_idle(self.vhost)

    def balance(self, member_id):
        return self.rpc.member_points(support.service_actor(), member_id)["balance"]

    def stop(self):
        self._proxy.stop()


@pytest.fixture
def scoring(start_service, amqp_uri, vhost, accounts):
    global STAFF, OTHER_STAFF  # the demo's 东风社区 (3) and 跃进社区 staff, signed in for real
    STAFF, OTHER_STAFF = accounts("staff1"), accounts("staff2")
    s = Scoring(start_service(ScoringService), amqp_uri, vhost)
    s.accounts = accounts
    yield s
    s.stop()


def test_unknown_member_is_recorded_with_its_reason_then_applied_once_known(scoring):
    scoring.publish("dispatch", "request.confirmed", CONFIRMED)
    scoring.idle()
    assert scoring.balance(8) == 0
    (rejection,) = scoring.rpc.list_rejections(STAFF, 3, {})
    assert rejection["code"] == "UNKNOWN_MEMBER" and rejection["status"] == "pending"
    assert "报到" in rejection["reason"]
    with pytest.raises(Forbidden):
        scoring.rpc.list_rejections(OTHER_STAFF, 3, {})
    # staff trying to re-apply before the member is known get a clear 422, nothing is credited
    with pytest.raises(Unprocessable) as err:
        scoring.rpc.reapply_rejection(STAFF, rejection["id"])
    assert err.value.code == "MEMBER_UNKNOWN"

    scoring.member(8)
    support.wait_for(lambda: scoring.balance(8) == 15, message="the waiting credit applied")
    scoring.publish("dispatch", "request.confirmed", CONFIRMED)  # and again, under a new event id
    scoring.idle()
    assert scoring.balance(8) == 15
    assert scoring.rpc.list_rejections(STAFF, 3, {"status": "pending"}) == []
    with pytest.raises(Conflict):
        scoring.rpc.reapply_rejection(STAFF, rejection["id"])


def test_same_source_with_different_content_is_held_as_a_conflict_for_review(scoring):
    scoring.member(8)
    scoring.member(9)
    scoring.idle()
    scoring.publish("dispatch", "request.confirmed", {**CONFIRMED, "member_ids": [8, 9]})
    scoring.idle()
    changed = scoring.publish("dispatch", "request.confirmed", {**CONFIRMED, "member_ids": [8, 9], "points": 20})
    scoring.publish("dispatch", "request.confirmed", {**CONFIRMED, "member_ids": [8, 9], "points": 20})
    scoring.idle()
    assert scoring.balance(8) == 15 and scoring.balance(9) == 15
    conflicts = scoring.rpc.list_conflicts(STAFF, 3, {"status": "open"})
    assert sorted(c["member_id"] for c in conflicts) == [8, 9]  # once each, not once per copy
    first = next(c for c in conflicts if c["member_id"] == 8)
    assert (first["points"], first["recorded_points"]) == (20, 15)
    assert changed["event_id"]  # the conflicting message is kept, not lost

    with pytest.raises(ValidationFailed):
        scoring.rpc.resolve_conflict(STAFF, first["id"], {"decision": "accept"})  # no reason
    resolved = scoring.rpc.resolve_conflict(STAFF, first["id"], {"decision": "accept", "reason": "菜单分值已调整"})
    assert resolved["status"] == "accepted"
    assert scoring.balance(8) == 20
    entries = scoring.rpc.member_points(support.service_actor(), 8)["entries"]
    assert [e["kind"] for e in entries] == ["correction", "service"]  # a new entry, never an edit
    assert entries[0]["points"] == 5 and entries[1]["points"] == 15
    with pytest.raises(Conflict):
        scoring.rpc.resolve_conflict(STAFF, first["id"], {"decision": "dismiss", "reason": "重复处理"})
    other = next(c for c in conflicts if c["member_id"] == 9)
    scoring.rpc.resolve_conflict(STAFF, other["id"], {"decision": "dismiss", "reason": "以原记录为准"})
    assert scoring.balance(9) == 15


def test_rules_per_community_caps_penalties_and_floor(scoring):
    scoring.member(8)
    scoring.member(20, community_id=4)
    scoring.idle()
    with pytest.raises(Forbidden):
        scoring.rpc.set_rules(OTHER_STAFF, "community", 3, {"wish_points": 9})
    with pytest.raises(ValidationFailed) as err:
        scoring.rpc.set_rules(STAFF, "community", 3, {"star_thresholds": {"5": 10, "4": 80}})
    assert "star_thresholds" in err.value.fields
    view = scoring.rpc.set_rules(STAFF, "community", 3, {
        "service_points": {"categories": {"公共事务": 10}}, "activity_points_per_hour": 3,
        "period_cap": 40, "no_show_penalty": 5})
    assert view["effective"]["period_cap"] == 40 and view["effective"]["wish_points"] == 5
    assert scoring.rpc.get_rules(STAFF, 3)["community"]["no_show_penalty"] == 5

    # community 3: category points × the 5-star multiplier; community 4 keeps dispatch's hint
    scoring.publish("dispatch", "request.confirmed", {**CONFIRMED, "member_ids": [8]})
    scoring.publish("dispatch", "request.confirmed", {**CONFIRMED, "request_id": 2, "community_id": 4,
                                                      "member_ids": [20]})
    scoring.idle()
    assert scoring.balance(8) == 15 and scoring.balance(20) == 15
    scoring.publish("activities", "activity.attended", {**ACTIVITY, "member_id": 8, "hours": 3})
    scoring.idle()
    assert scoring.balance(8) == 24
    # the cap: 40 a quarter, so the next 6 hours (18 points) only bring 16
    scoring.publish("activities", "activity.attended", {**ACTIVITY, "activity_id": 8, "member_id": 8, "hours": 6})
    scoring.idle()
    assert scoring.balance(8) == 40
    assert "上限" in scoring.rpc.member_points(support.service_actor(), 8)["entries"][0]["reason"]

    # a no-show costs 5, but never takes the balance below the floor (0)
    scoring.member(30)
    scoring.idle()
    scoring.publish("activities", "activity.no_show", {**ACTIVITY, "activity_id": 9, "member_id": 8})
    scoring.publish("activities", "activity.no_show", {**ACTIVITY, "member_id": 30})
    scoring.idle()
    assert scoring.balance(8) == 35 and scoring.balance(30) == 0

    # manual adjustments: a reason, the floor, scope, idempotency
    with pytest.raises(ValidationFailed) as err:
        scoring.rpc.adjust_points(STAFF, 8, {"points": 5, "reason": ""})
    assert "reason" in err.value.fields
    with pytest.raises(Unprocessable) as err:
        scoring.rpc.adjust_points(STAFF, 8, {"points": -36, "reason": "虚报服务时长"})
    assert err.value.code == "BELOW_FLOOR"
    with pytest.raises(Forbidden):
        scoring.rpc.adjust_points(OTHER_STAFF, 8, {"points": 5, "reason": "表现突出"})
    first = scoring.rpc.adjust_points(STAFF, 8, {"points": -5, "reason": "活动记录有误"}, idempotency_key="k1")
    again = scoring.rpc.adjust_points(STAFF, 8, {"points": -5, "reason": "活动记录有误"}, idempotency_key="k1")
    assert first["id"] == again["id"] and scoring.balance(8) == 30
    with pytest.raises(Conflict):
        scoring.rpc.adjust_points(STAFF, 8, {"points": 7, "reason": "另一次"}, idempotency_key="k1")
    fix = scoring.rpc.adjust_points(STAFF, 8, {"points": 5, "reason": "撤销误扣", "corrects_entry_id": first["id"]})
    assert fix["kind"] == "correction" and fix["corrects_id"] == first["id"] and fix["actor_id"] == STAFF["user_id"]
    assert scoring.balance(8) == 35


def test_member_views_and_scope(scoring):
    # the demo's member 张伟 (user 9, employed by 佛山市某单位 = unit 1, whose organisation is unit1)
    scoring.member(9, work_unit_id=1)
    scoring.idle()
    scoring.publish("dispatch", "wish.fulfilled", {"wish_id": 4, "community_id": 3, "title": "一台收音机",
                                                   "member_ids": [9]})
    scoring.idle()
    summary = scoring.rpc.member_summary(support.service_actor(), 9)
    assert summary["balance"] == 5 and summary["period_points"] == 5 and summary["stars"] == 0
    assert set(summary) == {"member_id", "balance", "period", "period_points", "stars", "rank_in_community"}
    own = scoring.rpc.member_points(scoring.accounts("13800000001"), 9)
    assert own["entries"][0]["kind"] == "wish"
    assert scoring.rpc.member_points(scoring.accounts("unit1"), 9)["balance"] == 5
    for outsider in (OTHER_STAFF, scoring.accounts("13800000002"), scoring.accounts("unit2")):
        with pytest.raises(Forbidden):
            scoring.rpc.member_points(outsider, 9)
    with pytest.raises(Unauthorized):  # an unsigned dict is nobody
        scoring.rpc.member_points({"user_id": 9, "role": "member", "community_id": 3}, 9)
    # a revoked member earns nothing more; the event is kept as a rejection
    scoring.publish("registration", "member.revoked", {"member_id": 9, "community_id": 3, "reason": "迁出",
                                                       "revoked_on": "2026-11-20"})
    scoring.idle()
    scoring.publish("dispatch", "wish.fulfilled", {"wish_id": 5, "community_id": 3, "title": "轮椅", "member_ids": [9]})
    scoring.idle()
    assert scoring.balance(9) == 5
    assert scoring.rpc.list_rejections(STAFF, 3, {})[0]["code"] == "MEMBER_REVOKED"
