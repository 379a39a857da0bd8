"""Scoring on the real broker: credits once per event, dead-letters what it cannot take."""

from nameko.standalone.rpc import ClusterRpcProxy

from common.db import EventPublisher, envelope
from common.messaging import DEAD_LETTER_QUEUE
from services.scoring.service import ScoringService
from tests import support

DATA = {"request_id": 1, "community_id": 3, "resident_id": 6, "menu_item_id": 1, "title": "法律咨询",
        "state": "closed", "member_ids": [8], "rating": 5, "points": 15, "category": "公共事务"}


def test_confirmed_request_credits_once_even_when_delivered_twice(start_service, amqp_uri, vhost):
    config = start_service(ScoringService)
    # scoring credits members it knows of (registration's member.* events)
    EventPublisher(amqp_uri, "registration").publish(envelope("registration", "member.accepted", {
        "member_id": 8, "name": "张伟", "community_id": 3}))
    publisher = EventPublisher(amqp_uri, "dispatch")
    event = envelope("dispatch", "request.confirmed", DATA)
    publisher.publish(event)
    publisher.publish(event)  # the broker redelivers, or a relay publishes twice
    second = envelope("dispatch", "request.confirmed", {**DATA, "request_id": 2, "points": 10})
    publisher.publish(second)
    with ClusterRpcProxy(config) as rpc:
        support.wait_for(lambda: rpc.scoring.member_points(support.service_actor(), 8)["balance"] == 25,
                         message="both credits")
        support.wait_queues_idle(vhost)
        balance = rpc.scoring.member_points(support.service_actor(), 8)
    assert balance["balance"] == 25
    assert len(balance["entries"]) == 2


def test_malformed_event_goes_to_dead_letters_with_its_reason(start_service, amqp_uri, vhost):
    config = start_service(ScoringService)
    publisher = EventPublisher(amqp_uri, "dispatch")
    bad = envelope("dispatch", "request.confirmed", {**DATA, "rating": "five"})
    publisher.publish(bad)
    support.wait_for(lambda: support.queue_info(vhost, DEAD_LETTER_QUEUE.name).get("messages"),
                     message="the dead letter")
    (message,) = support.get_messages(amqp_uri, DEAD_LETTER_QUEUE.name)
    assert message.payload["event_id"] == bad["event_id"]
    assert message.headers["x-reason"].startswith("INVALID_EVENT")
    assert "rating" in message.headers["x-reason"]
    assert message.headers["x-service"] == "scoring"
    with ClusterRpcProxy(config) as rpc:
        assert rpc.scoring.member_points(support.service_actor(), 8)["balance"] == 0
