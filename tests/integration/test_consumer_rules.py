"""The one rule every event consumer follows, on the real broker and database: only a repeated
event_id is a duplicate; other integrity failures are dead-lettered with their reason; passing
faults are retried with backoff a bounded number of times, then dead-lettered as
TRANSIENT_EXHAUSTED; nothing personal in a dead letter. ``baodao dlq`` handles every letter."""

import json

import pytest
from click.testing import CliRunner
from kombu import Connection
from nameko.runners import ServiceRunner
from sqlalchemy import Column, Integer, String, Table, func, insert, select
from sqlalchemy.exc import OperationalError

from cli.main import cli
from common import messaging
from common.config import nameko_config
from common.db import Database, EventPublisher, Store, envelope, new_metadata
from common.errors import Unprocessable
from common.messaging import consumes
from common.topology import COMMANDS_EXCHANGE, COMMANDS_QUEUE
from tests import support

METADATA = new_metadata()
SEEN = Table("seen_once", METADATA, Column("id", Integer, primary_key=True),
             Column("request_id", Integer, unique=True), Column("note", String(50)))
DATA = {"request_id": 9, "community_id": 3, "resident_id": 6, "menu_item_id": 1, "title": "家电维修",
        "state": "claimed", "member_id": 42}
FLAKY = {"left": 0}


class RuleService:
    name = "rules"
    db = Database(METADATA)

    @consumes("dispatch", "request.claimed")
    def on_claimed(self, uow, event):
        data = event["data"]
        if data["title"] == "fails-for-now" and FLAKY["left"] > 0:
            FLAKY["left"] -= 1
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database is restarting"))
        if data["title"].startswith("rule:"):
            raise Unprocessable(code="RULE_BROKEN", message=f"居民电话 13800001234 的请求不符合规则：{data['title']}")
        # a second event about the same request breaks the table's own unique rule, not the inbox's
        uow.session.execute(insert(SEEN).values(request_id=data["request_id"], note=data["title"][:50]))


@pytest.fixture
def rules(amqp_uri, db_url_factory, monkeypatch):
    monkeypatch.setattr(messaging, "MAX_ATTEMPTS", 4)
    monkeypatch.setattr(messaging, "RETRY_BASE_SECONDS", 0.05)
    monkeypatch.setenv("AMQP_URI", amqp_uri)
    url = db_url_factory("rules")
    store = Store(METADATA, "rules", url, amqp_uri)
    METADATA.create_all(store.engine)
    runner = ServiceRunner(nameko_config(AMQP_URI=amqp_uri, DATABASE_URL=url))
    runner.add_service(RuleService)
    runner.start()
    yield store
    runner.stop()
    store.dispose()


def _count(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(SEEN)).scalar()


def _letters(amqp_uri):
    """Every dead letter (left in the queue for the next look)."""
    with Connection(amqp_uri) as conn:
        queue = messaging.DEAD_LETTER_QUEUE(conn.channel())
        queue.declare()
        got = []
        while (m := queue.get(no_ack=False)) is not None:
            got.append(m)
        return [(m.headers, m.body if isinstance(m.body, bytes) else m.body.encode()) for m in got]


def test_consumer_rules(rules, amqp_uri, vhost):
    publish = EventPublisher(amqp_uri, "dispatch").publish
    first = envelope("dispatch", "request.claimed", DATA)
    publish(first)
    # applied before the others go out: workers run side by side, and a clash that commits first
    # would make *this* event the one that breaks the unique key
    support.wait_for(lambda: _count(rules) == 1, message="the first event applied")
    publish(first)  # the same event_id again: a duplicate, dropped quietly
    clash = envelope("dispatch", "request.claimed", {**DATA, "title": "同一请求的另一事件"})
    publish(clash)  # another event_id breaking the table's unique key: NOT a duplicate
    FLAKY["left"] = 2
    recovers = envelope("dispatch", "request.claimed", {**DATA, "request_id": 10, "title": "fails-for-now"})
    publish(recovers)
    support.wait_for(lambda: _count(rules) == 2, message="the first event and the recovering one applied")
    FLAKY["left"] = 99
    exhausted = envelope("dispatch", "request.claimed", {**DATA, "request_id": 11, "title": "fails-for-now"})
    publish(exhausted)
    broken = envelope("dispatch", "request.claimed",
                      {**DATA, "request_id": 12, "title": "rule: 身份证 110101199003071234"})
    publish(broken)
    support.wait_for(lambda: support.queue_info(vhost, "baodao.dead-letters").get("messages") == 3, timeout=30,
                     message="three dead letters")
    support.wait_queues_idle(vhost)
    assert _count(rules) == 2
    letters = {json.loads(body)["event_id"]: (headers, body) for headers, body in _letters(amqp_uri)}
    assert set(letters) == {clash["event_id"], exhausted["event_id"], broken["event_id"]}
    assert letters[clash["event_id"]][0]["x-reason"].startswith("INTEGRITY_ERROR")
    assert "INSERT" not in letters[clash["event_id"]][0]["x-reason"]  # no SQL text in a header
    headers, _ = letters[exhausted["event_id"]]
    assert headers["x-reason"].startswith("TRANSIENT_EXHAUSTED: 4 次") and headers["x-attempts"] == 4
    headers, body = letters[broken["event_id"]]
    assert headers["x-reason"].startswith("RULE_BROKEN") and "138****1234" in headers["x-reason"]
    for value in (headers["x-reason"].encode(), body):
        assert b"13800001234" not in value and b"110101199003071234" not in value


def test_dlq_lists_and_replays_every_kind_of_letter(rules, amqp_uri, vhost):
    with Connection(amqp_uri) as conn:
        COMMANDS_QUEUE(conn.channel()).declare()
        producer = conn.Producer()
        letter = {"x-service": "bridge", "x-handler": "baodao.commands", "x-reason": "MALFORMED_JSON: ...",
                  "x-failed-at": "2026-12-01T00:00:00+00:00", "x-attempts": 0}
        producer.publish(b"\x00\xffnot json", exchange=messaging.DEAD_LETTER_EXCHANGE, routing_key="command.invalid",
                         content_type="application/octet-stream", content_encoding="binary", headers=letter,
                         declare=[messaging.DEAD_LETTER_QUEUE])
        producer.publish(json.dumps({"command_id": "c-1", "command_type": "request.place"}).encode(),
                         exchange=messaging.DEAD_LETTER_EXCHANGE, routing_key="request.place",
                         content_type="application/json", content_encoding="utf-8",
                         headers={**letter, "x-reason": "TRANSIENT_EXHAUSTED: ..."})
        producer.publish(b"plain text", exchange=messaging.DEAD_LETTER_EXCHANGE, routing_key="odd",
                         content_type="text/plain", content_encoding="utf-8", headers={"x-reason": "?"})
    messaging.dead_letter(amqp_uri, envelope("dispatch", "request.claimed", {**DATA, "request_id": 20}),
                          "HANDLER_ERROR: fixed since", service="rules", handler="RuleService.on_claimed",
                          routing_key="request.claimed")
    support.wait_for(lambda: support.queue_info(vhost, "baodao.dead-letters").get("messages") == 4,
                     message="four letters")
    runner = CliRunner()
    listed = runner.invoke(cli, ["dlq", "list"])
    assert listed.exit_code == 0, listed.output
    assert "共 4 条" in listed.output and "非 JSON" in listed.output and "c-1" in listed.output
    assert "指令" in listed.output and "事件" in listed.output and "其他" in listed.output

    replayed = runner.invoke(cli, ["dlq", "replay"])
    assert replayed.exit_code == 0, replayed.output
    assert "已重放 3 条，保留 1 条" in replayed.output  # the letter of no known kind stays
    support.wait_for(lambda: _count(rules) == 1, message="the replayed event applied")
    support.wait_for(lambda: support.queue_info(vhost, "baodao.commands").get("messages") == 2,
                     message="both commands back on baodao.commands")
    with Connection(amqp_uri) as conn:
        queue = COMMANDS_QUEUE(conn.channel())
        bodies = sorted(bytes(m.body) if isinstance(m.body, bytes) else m.body.encode()
                        for m in iter(lambda: queue.get(no_ack=True), None))
    assert bodies[0] == b"\x00\xffnot json"  # byte for byte, as the sender wrote it
    assert json.loads(bodies[1])["command_id"] == "c-1"
    assert COMMANDS_EXCHANGE.name == "baodao.commands"
