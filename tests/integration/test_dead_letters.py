"""Operators list dead letters with their reasons and replay them once the cause is fixed."""

import pytest
from click.testing import CliRunner
from nameko.runners import ServiceRunner
from sqlalchemy import Column, Integer, Table, func, insert, select

from cli.main import cli
from common.config import nameko_config
from common.db import Database, EventPublisher, Store, envelope, new_metadata
from common.messaging import consumes, dead_letter
from tests import support

METADATA = new_metadata()
SEEN = Table("seen", METADATA, Column("id", Integer, primary_key=True), Column("request_id", Integer))
DATA = {"request_id": 9, "community_id": 3, "resident_id": 6, "menu_item_id": 1, "title": "家电维修",
        "state": "claimed", "member_id": 42}


class RecorderService:
    """A consumer with no business rules: it records each claimed request it sees."""

    name = "recorder"
    db = Database(METADATA)

    @consumes("dispatch", "request.claimed")
    def on_claimed(self, uow, event):
        uow.session.execute(insert(SEEN).values(request_id=event["data"]["request_id"]))


@pytest.fixture
def recorder(amqp_uri, db_url_factory):
    url = db_url_factory("recorder")
    store = Store(METADATA, "recorder", url, amqp_uri)
    METADATA.create_all(store.engine)
    runner = ServiceRunner(nameko_config(AMQP_URI=amqp_uri, DATABASE_URL=url))
    runner.add_service(RecorderService)
    runner.start()
    yield store
    runner.stop()
    store.dispose()


def seen(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(SEEN)).scalar()


def test_list_shows_reasons_and_replay_applies_once(recorder, amqp_uri, vhost, monkeypatch):
    monkeypatch.setenv("AMQP_URI", amqp_uri)
    good = envelope("dispatch", "request.claimed", DATA)
    # as if the handler had failed on a passing cause that operators have since fixed
    dead_letter(amqp_uri, good, "HANDLER_ERROR: disk was full", service="recorder",
                handler="RecorderService.on_claimed", routing_key="request.claimed")
    EventPublisher(amqp_uri, "dispatch").publish(envelope("dispatch", "request.claimed", {**DATA, "member_id": "x"}))
    support.wait_for(lambda: support.queue_info(vhost, "baodao.dead-letters").get("messages") == 2,
                     message="two dead letters")
    runner = CliRunner()
    listed = runner.invoke(cli, ["dlq", "list"])
    assert listed.exit_code == 0, listed.output
    assert "disk was full" in listed.output and "INVALID_EVENT" in listed.output and "member_id" in listed.output
    assert "共 2 条" in listed.output
    assert seen(recorder) == 0

    replayed = runner.invoke(cli, ["dlq", "replay", "--event-id", good["event_id"]])
    assert "已重放 1 条，保留 1 条" in replayed.output
    support.wait_for(lambda: seen(recorder) == 1, message="the replayed event applied")
    EventPublisher(amqp_uri, "dispatch").publish(good)  # a late duplicate changes nothing
    support.wait_queues_idle(vhost)
    assert seen(recorder) == 1
    assert "共 1 条" in runner.invoke(cli, ["dlq", "list"]).output  # the bad one stays for a person
