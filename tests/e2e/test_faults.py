"""The fault suite: resident flows keep running while the platform is hurt, and afterwards every
flow's effects are there exactly once — the request closed, one ledger credit, its notices and
inbox messages — and every process serves again without being touched.

One platform of the test's own (its processes, a RabbitMQ node and a PostgreSQL instance the test
starts on their own ports and data directories; the machine's shared broker and database are not
used), three phases, each with flows in flight:

1. kill -9 each process in turn (every service and the gateway), restarting it a moment later;
2. restart the RabbitMQ node;
3. stop PostgreSQL for 10 s.

Bounded: flows start on six clients for as long as a phase's fault lasts, and at least
``FAULT_FLOWS`` per kill (default 3) / ``FAULT_PHASE_FLOWS`` (default 8) in the other phases
(``FAULT_FLOWS=143`` gives about 1,000 flows through the kills, by hand).
The figures are printed (run with ``-s``) and asserted: 0 lost, 0 doubled, all reconnected.
"""

import os
import shutil
import time

import pytest

from tests import support
from tests.faults import PROCESSES, Flows, Postgres, Processes, RabbitNode, count_effects, verdict

pytestmark = pytest.mark.slow

PER_KILL = int(os.environ.get("FAULT_FLOWS", "3"))
PHASE_FLOWS = int(os.environ.get("FAULT_PHASE_FLOWS", "8"))
CONCURRENCY = 6
PG_OUTAGE_SECONDS = 10


def _needs(*programs):
    missing = [p for p in programs if not (shutil.which(p) or os.path.exists(p))]
    if missing or os.geteuid() != 0:
        pytest.skip(f"fault suite needs root and {missing or programs}")


@pytest.fixture
def hurt_platform(tmp_path):
    _needs("runuser", "/usr/lib/rabbitmq/bin/rabbitmq-server")
    node, pg, procs = RabbitNode(), Postgres(), None
    try:
        node.start()
        pg.start()
        urls = {name: pg.create_database(name) for name in PROCESSES if name != "gateway"}
        procs = Processes(node.uri, urls, tmp_path)
        begun = time.monotonic()
        procs.prepare()
        procs.start_all()
        print(f"\nfault suite: platform of its own ready in {time.monotonic() - begun:.0f} s")
        yield node, pg, procs
    finally:
        if procs:
            procs.stop_all()
        pg.close()
        node.close()


def _settle(node, procs, flows, expected, timeout=120):
    """Wait for the queues to drain and the effects to be complete (or the time to run out)."""
    deadline = time.monotonic() + timeout
    result = None
    while time.monotonic() < deadline:
        if node.queue_depth() == 0:
            result = verdict(count_effects(procs.urls, flows.tag), flows, *expected)
            if result["missing"] == 0:
                break
        time.sleep(0.5)
    time.sleep(1)  # anything late would show up as a double
    return verdict(count_effects(procs.urls, flows.tag), flows, *expected) if result is not None else {
        "lost": -1, "doubled": -1, "problems": ["the queues never drained"]}


def _phase(name, node, procs, at_least, fault, expected):
    flows = Flows(procs.base, f"fault-{name.split()[0]}-{int(time.time())}")
    started = time.monotonic()
    count = flows.run_while(fault, CONCURRENCY, at_least)
    took = time.monotonic() - started
    settle_from = time.monotonic()
    result = _settle(node, procs, flows, expected)
    settled = time.monotonic() - settle_from
    procs.wait_healthy(timeout=60)  # everyone serves again, reconnected on their own
    figures = {"phase": name, "flows": count, "completed": len(flows.ids), "lost": result["lost"],
               "doubled": result["doubled"], "server_errors": sum(flows.server_errors.values()),
               "client_retries": flows.retries, "seconds": round(took, 1), "settled_in": round(settled, 1),
               "alive": len(procs.alive()), "processes": len(PROCESSES)}
    print(f"\nfault suite [{name}]: {figures}")
    for problem in result["problems"][:20]:
        print("   ", problem)
    return figures


def test_no_lost_or_doubled_effects_through_kills_broker_restart_and_database_outage(hurt_platform):
    node, pg, procs = hurt_platform
    # a calm flow first: how many notices and inbox messages one flow makes
    calm = Flows(procs.base, f"fault-calm-{int(time.time())}")
    calm.one(0)
    assert calm.ids, calm.failures
    support.wait_for(lambda: node.queue_depth() == 0, timeout=60, message="the calm flow's events consumed")
    time.sleep(1)
    effects = count_effects(procs.urls, calm.tag)
    rid = calm.ids[0]
    expected = (effects["notices"][rid], effects["messages"][rid])
    assert expected[0] > 0 and expected[1] > 0 and effects["credits"][rid] == 1, effects

    def kill_each():
        for name in PROCESSES:
            time.sleep(0.8)
            procs.kill9(name)
            time.sleep(0.5)
            procs.restart(name)
        time.sleep(1)

    def restart_broker():
        time.sleep(2)
        node.stop()
        time.sleep(1)
        node.start()
        time.sleep(2)

    def stop_database():
        time.sleep(2)
        pg.stop()
        time.sleep(PG_OUTAGE_SECONDS)
        pg.start()
        time.sleep(2)

    results = [
        _phase("kill -9 each process", node, procs, PER_KILL * len(PROCESSES), kill_each, expected),
        _phase("RabbitMQ restart", node, procs, PHASE_FLOWS, restart_broker, expected),
        _phase(f"PostgreSQL down {PG_OUTAGE_SECONDS} s", node, procs, PHASE_FLOWS, stop_database, expected),
    ]
    total = {k: sum(r[k] for r in results) for k in ("flows", "lost", "doubled", "server_errors")}
    print(f"\nfault suite total: {total}; restarts by kill -9: {dict(procs.restarts)}; "
          f"dead letters: {node.dead_letters()}")
    for r in results:
        assert r["lost"] == 0 and r["doubled"] == 0, r
        assert r["alive"] == r["processes"], r
    assert node.dead_letters() == 0, node.dead_letter_reasons()
