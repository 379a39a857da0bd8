"""Commands from other systems on ``baodao.commands`` (real broker, real databases): carried out
once per idempotency key, answered on ``baodao.public``, bad ones dead-lettered with the reason."""

import json
import time
import uuid

import pytest
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ClusterRpcProxy

from cli import demo
from common.db import Store
from common.messaging import MAX_ATTEMPTS
from common.topology import declare_public
from services.bridge.demo import DEMO_SYSTEM
from services.bridge.models import Base as BridgeBase
from services.bridge.models import Command
from services.bridge.service import BridgeService
from services.dispatch.service import DispatchService
from services.registration.service import RegistrationService
from tests import support


class Outside:
    """A system that is not nameko: plain AMQP, plain JSON, as docs/asyncapi.yaml tells it."""

    def __init__(self, amqp_uri, vhost, account=DEMO_SYSTEM):
        self.amqp_uri = amqp_uri
        # its own broker account, named as its registered system: the broker vouches for user_id
        self.account, self.account_uri = account, support.broker_user(account, vhost)
        self.queue = Queue(f"outside-{uuid.uuid4().hex[:6]}", Exchange("baodao.public", type="topic", durable=True),
                           routing_key="#", durable=True)
        with Connection(amqp_uri) as conn:
            declare_public(conn.channel())
            self.queue(conn.channel()).declare()
        self.seen: list[dict] = []

    def send(self, body, routing_key="request.place", content_type="application/json", signed=True):
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        with Connection(self.account_uri) as conn:
            extra = {"user_id": self.account} if signed else {}
            conn.Producer().publish(raw, exchange="baodao.commands", routing_key=routing_key, **extra,
                                    content_type=content_type, content_encoding="utf-8", delivery_mode=2)

    def events(self) -> list[dict]:
        for message in support.get_messages(self.amqp_uri, self.queue.name, limit=500):
            assert message.content_type == "application/json"
            self.seen.append(json.loads(message.body))  # plain JSON: no kombu type tags
        return self.seen

    def wait(self, predicate, message):
        return support.wait_for(lambda: next((e for e in self.events() if predicate(e)), None), timeout=20,
                                interval=0.3, message=message)


def raw_messages(amqp_uri, queue) -> list:
    """Take every message off a queue undecoded: a dead letter's body need not be JSON."""
    out = []
    with Connection(amqp_uri) as conn:
        bound = Queue(queue)(conn.channel())
        while (message := bound.get(no_ack=True)) is not None:
            out.append(message)
    return out


def body_bytes(message) -> bytes:
    return message.body if isinstance(message.body, bytes) else message.body.encode()


def command(command_id, command_type, data, source=DEMO_SYSTEM):
    return {"command_id": command_id, "command_type": command_type, "version": 1, "source": source,
            "sent_at": "2026-11-21T09:00:00+08:00", "data": data}


@pytest.fixture
def platform(start_service, amqp_uri):
    reg = start_service(RegistrationService)
    dis = start_service(DispatchService)
    bri = start_service(BridgeService)
    demo.seed({"registration": reg["DATABASE_URL"], "dispatch": dis["DATABASE_URL"],
               "bridge": bri["DATABASE_URL"]}, amqp_uri)
    store = Store(BridgeBase.metadata, "bridge", bri["DATABASE_URL"], amqp_uri)
    with ClusterRpcProxy(dis) as rpc:
        rpc.bridge_store = store
        yield rpc
    store.dispose()


def login(rpc, username):
    return support.sign_in(rpc, username)


def _legal(rpc, community_id):
    return next(i for i in rpc.dispatch.list_menu(community_id) if i["title"] == "法律咨询")


def test_a_hotline_places_and_confirms_a_request_once_over_amqp(platform, amqp_uri, vhost):
    outside = Outside(amqp_uri, vhost)
    staff = login(platform, "staff1")
    community_id = staff["community_id"]
    legal = _legal(platform, community_id)
    place = command("hl-0001", "request.place", {
        "community_id": community_id, "menu_item_id": legal["id"], "fields": {"topic": "labour"},
        "description": "来电反映被拖欠工资", "caller": {"name": "王大爷", "phone": "13911112222"}})
    outside.send(place)
    done = outside.wait(lambda e: e["event_type"] == "command.succeeded" and e["data"]["command_id"] == "hl-0001",
                        "the outcome of request.place")
    request_id = done["data"]["result"]["service_request_id"]
    assert done["source"] == "bridge" and done["data"]["duplicate"] is False
    assert done["data"]["result"]["status"] == "open"
    submitted = outside.wait(lambda e: e["event_type"] == "request.submitted"
                             and e["data"]["request_id"] == request_id, "dispatch's own event on baodao.public")
    assert submitted["source"] == "dispatch" and submitted["data"]["resident_id"] is None

    # the hotline did not hear back and sends the same command again: nothing happens twice
    outside.send(place)
    again = outside.wait(lambda e: e["event_type"] == "command.succeeded" and e["data"]["duplicate"],
                         "the repeated answer")
    assert again["data"]["result"]["service_request_id"] == request_id
    support.wait_queues_idle(vhost)
    mine = [r for r in platform.dispatch.search_requests(support.service_actor(), {"community_id": community_id})
            if r["title"] == "法律咨询"]
    assert [r["id"] for r in mine] == [request_id]
    assert sum(1 for e in outside.events() if e["event_type"] == "request.submitted") == 1

    # a member serves it; the hotline calls the resident back and confirms
    lawyer = login(platform, "13800000001")
    platform.dispatch.claim(lawyer, request_id)
    platform.dispatch.complete(lawyer, request_id, {"reason": "已上门讲解劳动法"})
    outside.send(command("hl-0002", "request.confirm", {"service_request_id": request_id, "rating": 5,
                                                        "comment": "很满意"}), routing_key="request.confirm")
    confirmed = outside.wait(lambda e: e["event_type"] == "request.confirmed", "request.confirmed")
    assert confirmed["data"]["request_id"] == request_id and confirmed["data"]["rating"] == 5
    outcome = outside.wait(lambda e: e["data"].get("command_id") == "hl-0002", "the outcome of request.confirm")
    assert outcome["event_type"] == "command.succeeded" and outcome["data"]["result"]["status"] == "closed"
    assert platform.dispatch.get_request(support.service_actor(), request_id)["state"] == "closed"


def test_bad_commands_are_dead_lettered_with_the_reason_never_lost_never_looping(platform, amqp_uri, vhost):
    outside = Outside(amqp_uri, vhost)
    community_id = login(platform, "staff1")["community_id"]
    legal = _legal(platform, community_id)
    good_data = {"community_id": community_id, "menu_item_id": legal["id"], "fields": {"topic": "family"},
                 "caller": {"name": "李阿姨", "phone": "13911113333"}}
    outside.send(b"{not json")
    outside.send(b"hello", content_type="text/plain")
    outside.send({"command_type": "request.place", "version": 1, "source": DEMO_SYSTEM, "data": good_data})
    outside.send(command("x-1", "request.place", good_data, source="nobody"))  # says it is someone else
    outside.send(command("x-2", "request.place", good_data), signed=False)  # no broker-validated sender
    # finding 10: a process on the broker saying it is the hotline in the body does not become it
    Outside(amqp_uri, vhost, account="intruder").send(command("x-3", "request.place", good_data))
    Outside(amqp_uri, vhost, account="intruder").send(command("x-4", "request.place", good_data,
                                                              source="intruder"))
    outside.send(command("bad-item", "request.place", {**good_data, "menu_item_id": 99999}))
    outside.send(command("bad-field", "request.place", {**good_data, "fields": {"topic": "astrology"}}))
    outside.send(command("bad-roster", "members.update", {"rows": [{"name": "张三", "phone": "123",
                                                                    "id_number": "1", "community_id": community_id}]}),
                 routing_key="members.update")
    rejected = outside.wait(lambda e: e["event_type"] == "command.rejected" and e["data"]["command_id"] == "bad-item",
                            "the rejection of bad-item")
    assert rejected["data"]["code"] == "SERVICE_NOT_FOUND" and rejected["data"]["message"]
    roster = outside.wait(lambda e: e["data"].get("command_id") == "bad-roster", "the roster rejection")
    assert roster["data"]["code"] == "ROSTER_INVALID" and roster["data"]["fields"]["rows"]["1"]
    support.wait_for(lambda: support.queue_info(vhost, "baodao.dead-letters").get("messages") == 10, timeout=20,
                     message="ten dead letters")
    time.sleep(1.5)
    assert support.queue_info(vhost, "baodao.commands").get("messages") == 0  # nothing requeued for ever
    letters = raw_messages(amqp_uri, "baodao.dead-letters")
    reasons = [m.headers["x-reason"] for m in letters]
    assert len(letters) == 10
    for code, n in (("MALFORMED_JSON", 1), ("UNSUPPORTED_CONTENT_TYPE", 1), ("INVALID_ENVELOPE", 1),
                    ("SOURCE_MISMATCH", 2), ("UNAUTHENTICATED_SENDER", 1), ("UNKNOWN_SYSTEM", 1),
                    ("SERVICE_NOT_FOUND", 1), ("INVALID_FIELDS", 1), ("ROSTER_INVALID", 1)):
        assert sum(r.startswith(code) for r in reasons) == n, (code, reasons)
    with platform.bridge_store.uow() as uow:  # none of the impostors placed anything
        assert uow.session.query(Command).filter(Command.command_key.in_(["x-1", "x-2", "x-3", "x-4"])).count() == 0
    assert b"{not json" in [body_bytes(m) for m in letters]  # kept byte for byte

    # the rejected command sent again is answered again, not dead-lettered again
    outside.send(command("bad-item", "request.place", {**good_data, "menu_item_id": 99999}))
    outside.wait(lambda e: e["event_type"] == "command.rejected" and e["data"]["duplicate"], "the repeated rejection")
    time.sleep(1)
    assert raw_messages(amqp_uri, "baodao.dead-letters") == []


def test_members_update_imports_the_roster_once(platform, amqp_uri, vhost):
    outside = Outside(amqp_uri, vhost)
    community_id = login(platform, "staff1")["community_id"]
    rows = [{"name": "周明", "phone": "13700000011", "id_number": demo.demo_id_number(901),
             "community_id": community_id, "skills": ["IT"]},
            {"name": "吴芳", "phone": "13700000012", "id_number": demo.demo_id_number(902),
             "community_id": community_id}]
    outside.send(command("roster-2026-11", "members.update", {"rows": rows}), routing_key="members.update")
    done = outside.wait(lambda e: e["data"].get("command_id") == "roster-2026-11", "the roster outcome")
    assert done["event_type"] == "command.succeeded", done
    assert done["data"]["result"] == {"created": 2, "updated": 0, "unchanged": 0}
    outside.send(command("roster-2026-11", "members.update", {"rows": rows}), routing_key="members.update")
    outside.wait(lambda e: e["data"].get("command_id") == "roster-2026-11" and e["data"]["duplicate"], "the repeat")
    with platform.bridge_store.uow() as uow:
        assert uow.session.query(Command).filter_by(command_key="roster-2026-11").count() == 1


def test_a_command_that_keeps_failing_for_a_passing_reason_is_retried_then_dead_lettered(
        start_service, amqp_uri, vhost):
    # the bridge alone: dispatch is not running, so every attempt finds no dispatch service
    config = start_service(BridgeService, BRIDGE_RETRY_PAUSE=0.01)
    demo.seed({"bridge": config["DATABASE_URL"]}, amqp_uri)
    outside = Outside(amqp_uri, vhost)
    outside.send(command("hl-9", "request.place", {"community_id": 3, "menu_item_id": 1,
                                                   "caller": {"name": "赵先生", "phone": "13911114444"}}))
    support.wait_for(lambda: support.queue_info(vhost, "baodao.dead-letters").get("messages") == 1, timeout=30,
                     message="the exhausted command in the dead letters")
    letter = raw_messages(amqp_uri, "baodao.dead-letters")[0]
    assert letter.headers["x-reason"].startswith("TRANSIENT_EXHAUSTED")
    assert letter.headers["x-attempts"] == MAX_ATTEMPTS  # the same bound as every event consumer
    assert json.loads(body_bytes(letter))["command_id"] == "hl-9"
    assert b"13911114444" not in body_bytes(letter) and "139****4444" in body_bytes(letter).decode()
    store = Store(BridgeBase.metadata, "bridge", config["DATABASE_URL"], amqp_uri)
    with store.uow() as uow:  # not recorded: once dispatch is back, the same command can be resent
        assert uow.session.query(Command).count() == 0
    store.dispose()
