"""kill -9 of a consuming service mid-stream loses nothing and applies nothing twice after restart.

The services run as ``make run`` runs them (``python -m cli.serve <name>``, real broker, real
databases), but are started one by one here so that one of them can be killed on its own.
"""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import create_engine, text

from cli import demo
from common.config import ROOT, nameko_config
from common.db import EventPublisher, envelope
from common.migrations import upgrade
from common.topology import declare_all
from services.bridge.demo import DEMO_SYSTEM
from tests import support

SERVICES = ("registration", "dispatch", "bridge", "scoring")


class Processes:
    def __init__(self, env, log_dir):
        self.env, self.log_dir, self.procs = env, log_dir, {}

    def start(self, name):
        log = open(self.log_dir / f"{name}.log", "a")
        self.procs[name] = subprocess.Popen([sys.executable, "-m", "cli.serve", name], cwd=ROOT, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def kill9(self, name):
        proc = self.procs.pop(name)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def cluster(vhost, db_url_factory, tmp_path):
    amqp_uri = support.amqp_uri_for(vhost)
    urls = {name: db_url_factory(name) for name in SERVICES}
    for name, url in urls.items():
        upgrade(name, url)
    declare_all(amqp_uri)
    demo.seed(urls, amqp_uri)
    env = dict(os.environ, AMQP_URI=amqp_uri, BAODAO_DATA_DIR=str(tmp_path), PYTHONUNBUFFERED="1",
               **{f"{name.upper()}_DATABASE_URL": url for name, url in urls.items()})
    procs = Processes(env, tmp_path)
    try:
        for name in SERVICES:
            procs.start(name)
        with ClusterRpcProxy(nameko_config(AMQP_URI=amqp_uri)) as rpc:
            for name in SERVICES:
                _wait_up(rpc, name)
            yield procs, rpc, urls, amqp_uri
    finally:
        procs.stop_all()


def _wait_up(rpc, name):
    def ping():
        try:
            return getattr(rpc, name).ping()
        except Exception:
            return None
    support.wait_for(ping, timeout=60, interval=0.5, message=f"{name} to answer")


def _count(url, sql, **params) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def _dead_letters(amqp_uri) -> int:
    with Connection(amqp_uri) as conn:
        return Queue("baodao.dead-letters")(conn.channel()).queue_declare(passive=True).message_count


def test_killed_consumers_lose_no_message_and_apply_none_twice(cluster, vhost):
    procs, rpc, urls, amqp_uri = cluster
    community = rpc.registration.authenticate({"username": "staff1", "password": demo.DEMO_PASSWORD})["community_id"]
    legal = next(i for i in rpc.dispatch.list_menu(community) if i["title"] == "法律咨询")
    before = len(rpc.dispatch.search_requests(support.service_actor(), {"community_id": community, "limit": 500}))
    outcomes = Queue(f"crash-{uuid.uuid4().hex[:6]}", Exchange("baodao.public", type="topic", durable=True),
                     routing_key="command.*", durable=True)

    # 1. the bridge, consuming commands, is killed mid-stream
    commands = 40
    with Connection(amqp_uri) as conn:
        outcomes(conn.channel()).declare()
    with Connection(support.broker_user(DEMO_SYSTEM, vhost)) as conn:  # the hotline's own broker account
        producer = conn.Producer()
        for n in range(commands):
            producer.publish({"command_id": f"crash-{n}", "command_type": "request.place", "version": 1,
                              "source": DEMO_SYSTEM, "data": {
                                  "community_id": community, "menu_item_id": legal["id"],
                                  "fields": {"topic": "family"},
                                  "caller": {"name": f"来电人{n}", "phone": f"1391111{n:04d}"}}},
                             exchange="baodao.commands", routing_key="request.place", serializer="json",
                             delivery_mode=2, user_id=DEMO_SYSTEM)
    support.wait_for(lambda: _count(urls["bridge"], "SELECT count(*) FROM commands") >= 8, timeout=60,
                     interval=0.05, message="the bridge to be mid-stream")
    procs.kill9("bridge")
    done_at_kill = _count(urls["bridge"], "SELECT count(*) FROM commands")
    assert done_at_kill < commands, "the kill came too late to prove anything"
    procs.start("bridge")
    support.wait_for(lambda: _count(urls["bridge"], "SELECT count(*) FROM commands") == commands, timeout=120,
                     interval=0.5, message="every command carried out after the restart")
    assert _count(urls["bridge"], "SELECT count(DISTINCT service_request_id) FROM commands") == commands
    after = rpc.dispatch.search_requests(support.service_actor(), {"community_id": community, "limit": 500})
    assert len(after) == before + commands  # no request placed twice, none lost

    # every command is answered once as done (a redelivery after the crash answers "duplicate")
    # delivery is at least once: a publish the crash cut short is sent again by the relay under the
    # same event_id (consumers deduplicate on it), so count distinct events per command
    answered: dict = {}

    def all_answered():
        for message in support.get_messages(amqp_uri, outcomes.name, limit=500):
            data = message.payload["data"]
            if message.payload["event_type"] == "command.succeeded" and not data["duplicate"]:
                answered.setdefault(data["command_id"], set()).add(message.payload["event_id"])
        return len(answered) == commands
    support.wait_for(all_answered, timeout=60, interval=1, message="an answer to every command (relay included)")
    assert {len(event_ids) for event_ids in answered.values()} == {1}

    # 2. scoring, consuming dispatch's events, is killed mid-stream
    member = rpc.registration.authenticate({"username": "13800000001", "password": demo.DEMO_PASSWORD})
    publisher = EventPublisher(amqp_uri, "dispatch")
    sent = []
    for n in range(150):
        event = envelope("dispatch", "request.confirmed", {
            "request_id": 900000 + n, "community_id": community, "resident_id": None, "menu_item_id": legal["id"],
            "title": "法律咨询", "state": "closed", "member_ids": [member["user_id"]], "rating": 4, "points": 10})
        publisher.publish(event)
        sent.append(event["event_id"])
    handler = "ScoringService.on_request_confirmed"
    inbox = "SELECT count(*) FROM inbox WHERE handler = :h AND message_id LIKE '%-%'"
    support.wait_for(lambda: _count(urls["scoring"], inbox, h=handler) >= 20, timeout=60, interval=0.05,
                     message="scoring to be mid-stream")
    procs.kill9("scoring")
    assert _count(urls["scoring"], inbox, h=handler) < len(sent), "the kill came too late to prove anything"
    procs.start("scoring")
    support.wait_for(lambda: _count(urls["scoring"], inbox, h=handler) >= len(sent), timeout=120, interval=0.5,
                     message="every event consumed after the restart")
    time.sleep(1.5)  # management stats lag; then scoring's queues must be empty (unacked included)
    support.wait_for(lambda: all(q.get("messages", 1) == 0 for q in support.queues(vhost) if "--scoring." in q["name"]),
                     timeout=60, interval=0.5, message="scoring's queues to drain")
    engine = create_engine(urls["scoring"])
    with engine.connect() as conn:
        consumed = conn.execute(text("SELECT message_id FROM inbox WHERE handler = :h"), {"h": handler}).scalars().all()
    engine.dispose()
    # each event's effect is committed with its inbox row, so one row per event = applied exactly once
    assert sorted(m for m in consumed if m in set(sent)) == sorted(sent)
    assert _dead_letters(amqp_uri) == 0
