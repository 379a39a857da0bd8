"""Two processes of each service on one database and one broker: competing transitions take effect
once, durable timers fire once, the outbox relays of both instances lose nothing, a quarter closes
once and roster imports run one after the other — on SQLite and on PostgreSQL.

The processes are real ``cli.serve`` processes (as ``baodao run --scale`` starts them), not
greenthreads of one process: nothing here relies on eventlet not switching.
"""

import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from kombu import Connection, Exchange, Queue
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import func, select

from cli import demo
from common import timers
from common.config import ROOT
from common.db import Store, envelope, utcnow
from common.errors import Conflict
from common.migrations import upgrade
from common.topology import declare_all
from services.dispatch.models import Base as DispatchBase
from services.dispatch.models import HistoryEntry, MenuItem, Request
from services.scoring.domain import period_of
from tests import support

SERVICES = ("registration", "dispatch", "scoring")
INSTANCES = 2


@pytest.fixture(scope="module")
def cluster(database, tmp_path_factory):
    """Two ``cli.serve`` processes of registration, dispatch and scoring, demo data loaded."""
    workdir = tmp_path_factory.mktemp(f"multi-{database}")
    vhost = f"baodao-test-{uuid.uuid4().hex[:10]}"
    support.create_vhost(vhost)
    amqp = support.amqp_uri_for(vhost)
    urls = {name: (f"sqlite:///{workdir / (name + '.db')}" if database == "sqlite" else
                   support.create_pg_database(f"bd_mi_{name[:4]}_{uuid.uuid4().hex[:10]}")) for name in SERVICES}
    procs = []
    try:
        for name, url in urls.items():
            upgrade(name, url)
        declare_all(amqp, names=SERVICES)
        demo.seed(urls, amqp)
        env = dict(os.environ, AMQP_URI=amqp, BAODAO_DATA_DIR=str(workdir), PYTHONUNBUFFERED="1",
                   **{f"{n.upper()}_DATABASE_URL": u for n, u in urls.items()})
        log = open(workdir / "cluster.log", "w")
        for name in SERVICES:
            procs += [subprocess.Popen([sys.executable, "-m", "cli.serve", name], cwd=ROOT, env=env, stdout=log,
                                       stderr=subprocess.STDOUT) for _ in range(INSTANCES)]

        def consuming():
            assert all(p.poll() is None for p in procs), (workdir / "cluster.log").read_text()
            try:
                with Connection(amqp) as conn:
                    return all(conn.channel().queue_declare(f"rpc-{n}", passive=True).consumer_count == INSTANCES
                               for n in SERVICES)
            except Exception:  # a queue not declared yet
                return False

        support.wait_for(consuming, timeout=90, interval=0.5, message="two instances of each service")
        with ClusterRpcProxy({"AMQP_URI": amqp}) as rpc:
            rpc.amqp_uri, rpc.urls = amqp, urls
            rpc.dispatch_store = Store(DispatchBase.metadata, "dispatch", urls["dispatch"], amqp)
            yield rpc
            rpc.dispatch_store.dispose()
    finally:
        for p in procs:  # nothing here tests a graceful stop
            p.kill()
            p.wait()
        support.delete_vhost(vhost)
        for url in urls.values():
            if url.startswith("postgresql"):
                support.drop_pg_database(url)


def login(rpc, username):
    return support.sign_in(rpc, username)


def outcomes(replies):
    """Each reply's result, or the Conflict it raised (anything else fails the test)."""
    found = []
    for reply in replies:
        try:
            found.append(reply.result())
        except Conflict as err:
            found.append(err)
    return found


def test_competing_confirms_from_two_processes_take_effect_once(cluster):
    resident, lawyer = login(cluster, "resident1"), login(cluster, "13800000001")
    legal = next(i for i in cluster.dispatch.list_menu(resident["community_id"]) if i["title"] == "法律咨询")
    ids = []
    for _ in range(10):
        request = cluster.dispatch.submit_request(resident, {"menu_item_id": legal["id"],
                                                             "fields": {"topic": "family"}})
        assert request["offered_to"] == [lawyer["user_id"]]
        cluster.dispatch.claim(lawyer, request["id"])
        cluster.dispatch.complete(lawyer, request["id"])
        ids.append(request["id"])
    # two confirms of every request on the wire at once: consecutive messages go to both instances
    replies = [cluster.dispatch.confirm.call_async(resident, rid, {"rating": rating}) for rid in ids
               for rating in (5, 4)]
    results = outcomes(replies)
    for n in range(len(ids)):
        pair = results[2 * n:2 * n + 2]
        won = [r for r in pair if isinstance(r, dict)]
        assert len(won) == 1, pair
        assert won[0]["state"] == "closed" and won[0]["rating"] in (5, 4)
        lost = next(r for r in pair if isinstance(r, Conflict))
        assert lost.code in ("INVALID_TRANSITION", "CONCURRENT_UPDATE")
    store = cluster.dispatch_store
    with store.sessionmaker() as s:
        confirms = dict(s.execute(select(HistoryEntry.request_id, func.count()).where(
            HistoryEntry.request_id.in_(ids), HistoryEntry.action == "confirm")
            .group_by(HistoryEntry.request_id)).all())
        events = [json.loads(p) for p in s.scalars(select(store.outbox.c.payload).where(
            store.outbox.c.event_type == "request.confirmed"))]
    assert confirms == {rid: 1 for rid in ids}
    assert sorted(e["data"]["request_id"] for e in events if e["data"]["request_id"] in ids) == sorted(ids)


def test_claims_from_two_processes_are_exactly_the_places(cluster):
    staff = login(cluster, "staff1")
    members = [cluster.registration.register_member(staff, {
        "name": f"双实例{n}", "phone": f"1371111{n:04d}", "id_number": demo.demo_id_number(300 + n),
        "community_id": staff["community_id"], "skills": ["调解"], "password": demo.DEMO_PASSWORD})
        for n in range(16)]
    with cluster.dispatch_store.uow() as uow:  # an item no member's skill matches: open to all
        item = MenuItem(community_id=staff["community_id"], title="双人陪护", category="公益服务", skills=["陪护"],
                        points=5, members_needed=3)
        uow.session.add(item)
        uow.commit()
    resident = login(cluster, "resident1")
    request = cluster.dispatch.submit_request(resident, {"menu_item_id": item.id})
    assert request["state"] == "dispatched" and request["members_needed"] == 3
    claimers = [login(cluster, m["phone"]) for m in members]
    results = outcomes([cluster.dispatch.claim.call_async(actor, request["id"]) for actor in claimers])
    assert len([r for r in results if isinstance(r, dict)]) == 3
    final = cluster.dispatch.get_request(staff, request["id"])
    assert final["state"] == "claimed" and len(final["claimed_by"]) == 3 and final["members_claimed"] == 3


def test_due_timers_fire_once_across_two_processes(cluster):
    resident = login(cluster, "resident1")
    legal = next(i for i in cluster.dispatch.list_menu(resident["community_id"]) if i["title"] == "法律咨询")
    ids = [cluster.dispatch.submit_request(resident, {"menu_item_id": legal["id"], "fields": {"topic": "family"}})["id"]
           for _ in range(6)]
    store = cluster.dispatch_store
    with store.uow() as uow:  # the claim reminders come due now (instead of in hours)
        for rid in ids:
            timers.schedule(uow, "claim_reminder", rid, utcnow() - timedelta(seconds=1))
        uow.commit()
    support.wait_for(lambda: not [t for t in timers.pending(store, "claim_reminder") if int(t["ref"]) in ids],
                     timeout=20, message="the reminders to fire")
    with store.sessionmaker() as s:
        reminded = dict(s.execute(select(HistoryEntry.request_id, func.count()).where(
            HistoryEntry.request_id.in_(ids), HistoryEntry.action == "remind").group_by(HistoryEntry.request_id)).all())
        versions = set(s.scalars(select(Request.version).where(Request.id.in_(ids))))
    assert reminded == {rid: 1 for rid in ids}
    assert len(versions) == 1 and versions.pop() > 1  # each reminder is one versioned write


def test_outbox_relays_of_two_processes_lose_no_event(cluster):
    """Events committed but never published (a crash after commit) are sent by whichever relay
    gets there; a copy sent twice carries the same event_id, which consumers deduplicate on."""
    queue = Queue(f"test-relay-{uuid.uuid4().hex[:6]}", Exchange("dispatch.events", type="topic", durable=True),
                  routing_key="test.relayed", auto_delete=False)
    with Connection(cluster.amqp_uri) as conn:
        queue(conn.channel()).declare()
    store = cluster.dispatch_store
    payloads = [envelope("dispatch", "test.relayed", {"n": n}) for n in range(40)]
    with store.engine.begin() as conn:
        conn.execute(store.outbox.insert(), [
            {"event_id": p["event_id"], "event_type": p["event_type"], "payload": json.dumps(p),
             "created_at": utcnow() - timedelta(minutes=1)} for p in payloads])

    def all_marked():
        with store.engine.connect() as conn:
            return not conn.execute(select(func.count()).select_from(store.outbox).where(
                store.outbox.c.event_type == "test.relayed", store.outbox.c.published_at.is_(None))).scalar()

    support.wait_for(all_marked, timeout=30, interval=0.5, message="both relays to publish")
    got = [m.payload["event_id"] for m in support.get_messages(cluster.amqp_uri, queue.name, limit=200)]
    assert set(got) == {p["event_id"] for p in payloads}


def test_a_quarter_closes_once_and_roster_imports_run_one_after_the_other(cluster):
    district, staff = login(cluster, "district"), login(cluster, "staff1")
    period = period_of(utcnow())
    closes = [cluster.scoring.close_quarter.call_async(district, {"period": period}) for _ in range(4)]
    results = outcomes(closes)
    assert len([r for r in results if isinstance(r, dict)]) == 1, results
    assert {r.code for r in results if isinstance(r, Conflict)} <= {"PERIOD_ALREADY_CLOSED", "PERIOD_CLOSING"}

    rows = [{"row": n + 2, "name": f"并发导入{n}", "phone": f"1352222{n:04d}",
             "id_number": demo.demo_id_number(500 + n), "community": "东风社区", "grid": "第一网格", "skills": "法律"}
            for n in range(150)]
    try:
        results = [r.result() for r in [cluster.registration.import_roster.call_async(staff, {"rows": rows})
                                        for _ in range(2)]]
    except RemoteError as err:  # an interleaved import fails on the unique ID-number hash
        pytest.fail(f"concurrent imports interleaved: {err}")
    assert sorted((r["created"], r["unchanged"]) for r in results) == [(0, 150), (150, 0)]
