"""The transactional outbox: an event leaves only after its commit, and a crash or a broker outage
between commit and publish loses nothing — the relay sends it once the broker is back."""

import json

from kombu import Connection, Exchange, Queue
from sqlalchemy import select

from common.db import Store
from common.migrations import upgrade
from services.bridge.models import Base as BridgeBase
from tests import support

OUTCOME = {"command_id": "c-1", "command_type": "request.place", "system": "hotline",
           "result": {"service_request_id": 7}}


def _listen(amqp_uri) -> str:
    """A queue on bridge.events, as any consumer of the bridge's events would have."""
    name = "outbox-test"
    with Connection(amqp_uri) as conn:
        Queue(name, Exchange("bridge.events", type="topic", durable=True), routing_key="#",
              durable=True)(conn.channel()).declare()
    return name


def _pending(store) -> list:
    with store.sessionmaker() as session:
        outbox = store.outbox
        return session.execute(select(outbox.c.event_id).where(outbox.c.published_at.is_(None))).scalars().all()


def test_a_commit_while_the_broker_is_unreachable_loses_nothing(db_url_factory, amqp_uri):
    url = db_url_factory("bridge")
    upgrade("bridge", url)
    queue = _listen(amqp_uri)
    down = Store(BridgeBase.metadata, "bridge", url, f"amqp://guest:guest@127.0.0.1:{support.free_port()}/")
    with down.uow() as uow:
        event = uow.emit("command.succeeded", OUTCOME)
        uow.commit()  # the commit stands although the publish after it fails
    assert _pending(down) == [event["event_id"]]
    try:
        down.relay_pending(older_than_seconds=0)
        raise AssertionError("the relay cannot publish without a broker")
    except Exception as exc:
        assert not isinstance(exc, AssertionError)
    assert _pending(down) == [event["event_id"]]  # still waiting, not lost, not marked sent
    down.dispose()

    # the broker is back (the service restarts with it): the relay sends the event, exactly once
    up = Store(BridgeBase.metadata, "bridge", url, amqp_uri)
    assert up.relay_pending(older_than_seconds=0) == 1
    assert up.relay_pending(older_than_seconds=0) == 0
    assert _pending(up) == []
    got = support.get_messages(amqp_uri, queue)
    assert len(got) == 1 and json.loads(got[0].body)["event_id"] == event["event_id"]
    up.dispose()


def test_a_rolled_back_transaction_publishes_nothing(db_url_factory, amqp_uri):
    url = db_url_factory("bridge")
    upgrade("bridge", url)
    queue = _listen(amqp_uri)
    store = Store(BridgeBase.metadata, "bridge", url, amqp_uri)
    try:
        with store.uow() as uow:
            uow.emit("command.succeeded", OUTCOME)
            raise RuntimeError("the business transaction fails after raising its event")
    except RuntimeError:
        pass
    assert store.relay_pending(older_than_seconds=0) == 0
    assert support.get_messages(amqp_uri, queue) == []
    with store.uow() as uow:  # and a committed one is published right after its commit
        event = uow.emit("command.succeeded", OUTCOME)
        uow.commit()
    store.flush_published()  # published marks are batched; the relay flushes them first
    assert _pending(store) == []
    [message] = support.get_messages(amqp_uri, queue)
    assert json.loads(message.body)["event_id"] == event["event_id"]
    store.dispose()
