"""Durable timers on a real database: fire once across instances, survive restarts, retry failures."""

import threading
from datetime import timedelta

from sqlalchemy import Column, Integer, String, Table

from common.db import Store, new_metadata, utcnow
from common.timers import add_timers_table, cancel, fire_due, pending, schedule


def make_metadata():
    metadata = new_metadata()
    add_timers_table(metadata)
    Table("effects", metadata, Column("id", Integer, primary_key=True), Column("ref", String(40)))
    return metadata


METADATA = make_metadata()


def open_store(url, amqp_uri):
    store = Store(METADATA, "timertest", url, amqp_uri)
    METADATA.create_all(store.engine)
    return store


def record_effect(uow, timer):
    uow.session.execute(METADATA.tables["effects"].insert().values(ref=timer["ref"]))


def effects(store):
    with store.engine.connect() as conn:
        return [r.ref for r in conn.execute(METADATA.tables["effects"].select())]


def test_due_timer_fires_once_across_instances_and_after_restart(db_url_factory, amqp_uri):
    url = db_url_factory("timers")
    store = open_store(url, amqp_uri)
    with store.uow() as uow:
        for n in range(20):
            schedule(uow, "deadline", n, utcnow() - timedelta(seconds=1), {"n": n})
        schedule(uow, "deadline", "later", utcnow() + timedelta(hours=1))
        uow.commit()
    store.dispose()

    # a "restart": fresh stores, as two instances of the service would have
    instances = [open_store(url, amqp_uri) for _ in range(2)]
    counts = []

    def run(s):
        counts.append(fire_due(s, {"deadline": record_effect}))

    threads = [threading.Thread(target=run, args=(s,)) for s in instances]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 20
    assert sorted(effects(instances[0]), key=int) == [str(n) for n in range(20)]
    assert [t["ref"] for t in pending(instances[0])] == ["later"]
    assert fire_due(instances[0], {"deadline": record_effect}) == 0
    for s in instances:
        s.dispose()


def test_rescheduling_and_cancelling_replace_the_timer(db_url_factory, amqp_uri):
    store = open_store(db_url_factory("timers"), amqp_uri)
    with store.uow() as uow:
        schedule(uow, "reminder", 1, utcnow() - timedelta(seconds=1))
        schedule(uow, "reminder", 1, utcnow() + timedelta(hours=1))  # pushed back
        schedule(uow, "reminder", 2, utcnow() - timedelta(seconds=1))
        cancel(uow, "reminder", 2)
        uow.commit()
    assert fire_due(store, {"reminder": record_effect}) == 0
    assert len(pending(store, "reminder")) == 1
    store.dispose()


def test_failing_handler_rolls_back_and_retries_after_the_lease(db_url_factory, amqp_uri):
    store = open_store(db_url_factory("timers"), amqp_uri)
    with store.uow() as uow:
        schedule(uow, "flaky", "x", utcnow() - timedelta(seconds=1))
        uow.commit()
    calls = []

    def flaky(uow, timer):
        calls.append(1)
        record_effect(uow, timer)
        if len(calls) == 1:
            raise RuntimeError("downstream not ready")

    assert fire_due(store, {"flaky": flaky}, lease_seconds=0.01) == 0
    assert effects(store) == []  # the failed attempt left nothing behind
    (timer,) = pending(store, "flaky")
    assert "downstream not ready" in timer["last_error"]
    assert fire_due(store, {"flaky": flaky}, now=utcnow() + timedelta(seconds=1)) == 1
    assert effects(store) == ["x"]
    store.dispose()
