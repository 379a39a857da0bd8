"""Notify on the real broker and database, delivering to a real local HTTP server and a real
local SMTP server: every channel, retries with backoff, dead letters, leases, no double sends."""

import json
import mailbox
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import create_engine, func, insert, select, text

from common.db import EventPublisher, Store, envelope, utcnow
from common.migrations import upgrade
from services.notify import domain, usecases
from services.notify.models import Base, Delivery, Notice
from services.notify.service import NotifyService
from tests import support

# the demo's staff1 (东风社区 = 3), the district's staff and member 张伟 (user 9), signed in for real
STAFF, DISTRICT, MEMBER = "staff1", "district", "13800000001"
MEMBER_ID = 9
REQUEST = {"request_id": 1, "community_id": 3, "street_id": 2, "resident_id": 6, "menu_item_id": 1,
           "title": "法律咨询", "state": "submitted"}
FAST = {"NOTIFY_RETRY_BASE_SECONDS": 0.3, "NOTIFY_MAX_ATTEMPTS": 3, "NOTIFY_HTTP_TIMEOUT": 1.0}


class Receiver:
    """A real HTTP server: /ok answers 200, /fail-N answers 500 N times, /hang stalls, /bad 404."""

    def __init__(self):
        self.requests = []
        self.counts = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path = self.path.split("?")[0]
                receiver.counts[path] = receiver.counts.get(path, 0) + 1
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                          "at": time.monotonic()})
                if path.startswith("/hang"):
                    time.sleep(3)
                if path.startswith("/fail-") and receiver.counts[path] <= int(path.split("-")[1]):
                    return self._answer(500, {"error": "boom"})
                if path.startswith("/bad"):
                    return self._answer(404, {"error": "no such hook"})
                self._answer(200, {"errcode": 0, "errmsg": "ok"})

            def _answer(self, status, payload):
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout): fine
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", support.free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def to(self, prefix):
        return [r for r in self.requests if r["path"].startswith(prefix)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def smtp_server(tmp_path):
    """aiosmtpd in its own process (it runs asyncio; the tests run eventlet), writing a Maildir."""
    port = support.free_port()
    maildir = tmp_path / "maildir"
    proc = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                             "-c", "aiosmtpd.handlers.Mailbox", str(maildir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def listening():
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    try:
        support.wait_for(listening, timeout=15, message="the SMTP server")
        yield {"host": "127.0.0.1", "port": port, "maildir": maildir}
    finally:
        proc.terminate()
        proc.wait(10)


def deliveries(url, **where):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            query = select(Delivery.__table__)
            for key, value in where.items():
                query = query.where(getattr(Delivery.__table__.c, key) == value)
            return [dict(r._mapping) for r in conn.execute(query.order_by(Delivery.id))]
    finally:
        engine.dispose()


def test_every_channel_delivers_once_in_its_own_format(accounts, start_service, amqp_uri, vhost, receiver, smtp_server):
    config = start_service(NotifyService, **FAST)
    url = config["DATABASE_URL"]
    with ClusterRpcProxy(config) as rpc:
        for channel, cfg in [("wecom", {"url": f"{receiver.url}/wecom"}),
                             ("dingtalk", {"url": f"{receiver.url}/ding?access_token=t", "secret": "SEC"}),
                             ("webhook", {"url": f"{receiver.url}/hook", "secret": "k"})]:
            view = rpc.notify.set_channel(accounts(STAFF), {"community_id": 3, "channel": channel, "config": cfg})
            assert view["enabled"] and view["community_id"] == 3
        shown = rpc.notify.list_channels(accounts(STAFF), {})
        assert {s["channel"] for s in shown} == {"wecom", "dingtalk", "webhook"}
        assert next(s for s in shown if s["channel"] == "webhook")["config"]["secret"] == "****"
        # the SMS gateway and mail server are platform-wide, set by the district
        rpc.notify.set_channel(accounts(DISTRICT), {"channel": "sms", "config": {"url": f"{receiver.url}/sms",
                                                                       "api_key": "key-1"}})
        rpc.notify.set_channel(accounts(DISTRICT), {"channel": "email", "config": {
            "host": smtp_server["host"], "port": smtp_server["port"], "sender": "notice@baodao.example"}})
        prefs = rpc.notify.set_preferences(accounts(MEMBER), {"channels": ["sms", "email"], "phone": "13800000008",
                                                    "email": "m8@example.com", "quiet_hours": None})
        assert prefs["channels"] == ["inbox", "sms", "email"]

        publisher = EventPublisher(amqp_uri, "dispatch")
        publisher.publish(envelope("dispatch", "request.submitted", REQUEST))
        offered = envelope("dispatch", "request.offered", {**REQUEST, "state": "dispatched", "member_ids": [MEMBER_ID]})
        publisher.publish(offered)
        publisher.publish(offered)  # redelivered: nobody hears twice

        support.wait_for(lambda: len(deliveries(url, status="sent")) == 5, timeout=20,
                         message="five deliveries sent")
        support.wait_queues_idle(vhost)
        time.sleep(1.5)  # a double send would have happened by now
        inbox = rpc.notify.inbox(accounts(MEMBER))

    assert [m["kind"] for m in inbox["messages"]] == ["request_offered"] and inbox["unread"] == 1
    (wecom,) = receiver.to("/wecom")
    assert json.loads(wecom["body"]) == {"msgtype": "text", "text": {"content": "【新需求】法律咨询\n"
                                         "社区收到新的服务需求“法律咨询”，请有相应特长的党员关注认领。"}}
    (ding,) = receiver.to("/ding")
    assert "access_token=t&timestamp=" in ding["path"] and "&sign=" in ding["path"]
    (hook,) = receiver.to("/hook")
    headers = {k.lower(): v for k, v in hook["headers"].items()}
    assert headers["x-baodao-signature"] == domain.webhook_signature("k", headers["x-baodao-timestamp"],
                                                                     hook["body"])
    assert json.loads(hook["body"])["data"]["request_id"] == 1
    (sms,) = receiver.to("/sms")
    assert json.loads(sms["body"])["phone"] == "13800000008"
    assert {k.lower(): v for k, v in sms["headers"].items()}["authorization"] == "Bearer key-1"
    mails = list(mailbox.Maildir(smtp_server["maildir"]))
    assert len(mails) == 1 and mails[0]["To"] == "m8@example.com"
    assert "法律咨询" in str(mails[0].get_payload(decode=True), "utf-8")


def test_failing_and_hanging_receivers_are_retried_then_dead_lettered_while_others_flow(
        accounts, start_service, amqp_uri, receiver):
    config = start_service(NotifyService, **FAST)
    url = config["DATABASE_URL"]
    with ClusterRpcProxy(config) as rpc:
        rpc.notify.set_channel(accounts(STAFF), {"community_id": 3, "channel": "webhook",
                                       "config": {"url": f"{receiver.url}/fail-2", "secret": "k"}})
        for channel, path in (("wecom", "/hang"), ("dingtalk", "/ok")):
            rpc.notify.set_channel(accounts(STAFF), {"community_id": 3, "channel": channel,
                                           "config": {"url": receiver.url + path}})
        rpc.notify.set_channel(accounts(STAFF), {"community_id": 3, "channel": "webhook", "name": "gone",
                                       "config": {"url": f"{receiver.url}/bad", "secret": "k"}})
        EventPublisher(amqp_uri, "dispatch").publish(envelope("dispatch", "request.submitted", REQUEST))

        # the healthy robot gets its message while the hanging one is still stuck
        # (the two are sent side by side, so either may reach the receiver first)
        support.wait_for(lambda: receiver.to("/ok") and receiver.to("/hang"), timeout=10,
                         message="the healthy robot's message and the hanging one's start")
        ok_at, hang_started = receiver.to("/ok")[0]["at"], receiver.to("/hang")[0]["at"]
        assert ok_at - hang_started < 1.0
        support.wait_for(lambda: {d["channel"] + d["status"] for d in deliveries(url)}
                         == {"webhooksent", "wecomdead", "dingtalksent", "webhookdead"},
                         timeout=30, message="retries to settle")
        rows = {d["dedup_key"].rsplit(":", 2)[1] + d["channel"]: d for d in deliveries(url)}
        dead = rpc.notify.list_deliveries(accounts(STAFF), {"status": "dead"})
        again = rpc.notify.retry_delivery(accounts(STAFF), dead[0]["id"])

    flaky = receiver.to("/fail-2")
    assert len(flaky) == 3 and len({r["headers"]["X-Baodao-Delivery"] for r in flaky}) == 1
    hook = next(d for d in rows.values() if d["channel"] == "webhook" and d["status"] == "sent")
    assert hook["attempts"] == 3 and hook["last_error"] is None
    hung = next(d for d in rows.values() if d["channel"] == "wecom")
    assert hung["attempts"] == 3 and "未及时响应" in hung["last_error"]  # one text for every failure to reach it
    gone = next(d for d in rows.values() if d["channel"] == "webhook" and d["status"] == "dead")
    assert gone["attempts"] == 1 and "HTTP 404" in gone["last_error"]  # a 4xx is not retried
    assert len(receiver.to("/bad")) == 1
    assert {d["channel"] for d in dead} == {"wecom", "webhook"} and all(d["last_error"] for d in dead)
    assert again["status"] == "retry"
    engine = create_engine(url)
    with engine.connect() as conn:
        events = [json.loads(p) for p in conn.execute(
            text("SELECT payload FROM outbox WHERE event_type = 'delivery.dead_lettered'")).scalars()]
    engine.dispose()
    assert {e["data"]["channel"] for e in events} == {"wecom", "webhook"}


def test_quiet_hours_hold_pushes_but_not_the_inbox(accounts, start_service, amqp_uri, receiver):
    config = start_service(NotifyService, **FAST)
    url = config["DATABASE_URL"]
    now_local = utcnow().astimezone(domain.CST)
    # a quiet window around "now", whatever time the test runs
    start = (now_local.replace(minute=0) if now_local.minute < 58 else now_local).strftime("%H:%M")
    end = f"{(now_local.hour + 2) % 24:02d}:00"
    with ClusterRpcProxy(config) as rpc:
        rpc.notify.set_channel(accounts(DISTRICT), {"channel": "sms", "config": {"url": f"{receiver.url}/sms"}})
        rpc.notify.set_preferences(accounts(MEMBER), {"channels": ["sms"], "phone": "13800000008",
                                            "quiet_hours": {"start": start, "end": end, "weekdays_only": False}})
        publisher = EventPublisher(amqp_uri, "dispatch")
        publisher.publish(envelope("dispatch", "request.offered", {**REQUEST, "member_ids": [MEMBER_ID]}))
        support.wait_for(lambda: rpc.notify.inbox(accounts(MEMBER))["unread"] == 1, message="the inbox message")
        publisher_act = EventPublisher(amqp_uri, "activities")
        publisher_act.publish(envelope("activities", "activity.reminder", {
            "activity_id": 4, "community_id": 3, "title": "义诊", "starts_at": "2026-11-21T01:00:00+00:00",
            "ends_at": "2026-11-21T03:00:00+00:00", "member_ids": [MEMBER_ID]}))
        support.wait_for(lambda: len(receiver.to("/sms")) == 1, message="the urgent SMS")
        time.sleep(2)
    held = deliveries(url, kind="request_offered")
    assert [(d["channel"], d["status"]) for d in held] == [("sms", "pending")]
    due = held[0]["next_attempt_at"]
    due = due.astimezone(UTC).replace(tzinfo=None) if due.tzinfo else due
    assert due > utcnow().replace(tzinfo=None)
    assert "义诊" in json.loads(receiver.to("/sms")[0]["body"])["content"]


def test_bad_input_is_a_clear_error(accounts, start_service):
    config = start_service(NotifyService)
    with ClusterRpcProxy(config) as rpc:
        from common.errors import Forbidden, NotFound, ValidationFailed
        with pytest.raises(ValidationFailed) as err:
            rpc.notify.set_channel(accounts(STAFF), {"community_id": 3, "channel": "webhook", "config": {"url": "x"}})
        assert "secret" in err.value.fields["config"]
        with pytest.raises(ValidationFailed):
            rpc.notify.set_channel(accounts(STAFF), {"community_id": 3, "channel": "pigeon", "config": {}})
        with pytest.raises(Forbidden):
            rpc.notify.set_channel(accounts(STAFF), {"community_id": 4, "channel": "wecom", "config": {"url": "http://x"}})
        with pytest.raises(Forbidden):
            rpc.notify.list_deliveries(accounts(MEMBER), {})
        with pytest.raises(ValidationFailed) as err:
            rpc.notify.set_preferences(accounts(MEMBER), {"opt_outs": ["activity_reminder"]})
        assert "opt_outs" in err.value.fields
        with pytest.raises(NotFound):
            rpc.notify.mark_read(accounts(MEMBER), 999)
        preview = rpc.notify.preview_template(accounts(STAFF), {"kind": "unit_report", "fields": {"period": "2026Q3"}})
        assert preview == {"kind": "unit_report", "ok": False, "title": None, "body": None,
                           "missing": ["members", "report_url", "total_points"]}
        ok = rpc.notify.preview_template(accounts(STAFF), {"kind": "request_claimed", "fields": {"title": "家电维修"}})
        assert ok["ok"] and "家电维修" in ok["body"]


def test_a_notice_whose_template_lacks_a_field_is_kept_dead_and_visible(accounts, db_url_factory):
    url = db_url_factory("notify")
    upgrade("notify", url)
    store = Store(Base.metadata, "notify", url, "amqp://unused/")
    store._publisher = type("NoBroker", (), {"publish": lambda self, payload: None})()  # the relay sends later
    try:
        with store.uow() as uow:
            usecases.record_event(uow, {"event_id": "e9", "event_type": "request.accepted",
                                        "data": {"resident_id": 6, "community_id": 3}})
            uow.commit()
        (dead,) = usecases.list_deliveries(store, accounts(STAFF), {"status": "dead"})
        assert dead["channel"] == "render" and "TEMPLATE_FIELD_MISSING" in dead["last_error"]
        with store.uow() as uow:
            assert uow.session.scalar(select(Notice.status)) == "failed"
            assert uow.session.execute(text("SELECT count(*) FROM outbox")).scalar() == 1
    finally:
        store.dispose()


def test_two_instances_never_claim_the_same_delivery(db_url_factory):
    url = db_url_factory("notify")
    upgrade("notify", url)
    store = Store(Base.metadata, "notify", url, "amqp://unused/")
    now = utcnow()
    with store.engine.begin() as conn:
        conn.execute(insert(Delivery), [
            {"dedup_key": f"k{i}", "kind": "new_need", "channel": "wecom", "title": "t", "body": "b",
             "urgent": False, "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
             "updated_at": now} for i in range(200)])
    tuning = usecases.Tuning(batch=200)
    got = {}

    def claim(name):
        ids = []
        for _ in range(10):
            ids += [i for job in usecases.claim_due(store, name, 40, tuning) for i in job.ids]
        got[name] = ids

    threads = [threading.Thread(target=claim, args=(n,)) for n in ("a", "b")]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not set(got["a"]) & set(got["b"])
        assert len(got["a"]) == len(set(got["a"])) and len(got["b"]) == len(set(got["b"]))
        with store.uow() as uow:
            leased = uow.session.scalar(select(func.count()).where(Delivery.lease_token.is_not(None)))
        assert leased == len(got["a"]) + len(got["b"]) == 200
    finally:
        store.dispose()
