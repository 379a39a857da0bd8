"""Scoring's two heavy paths, each beside a baseline measured in the same run.

1. Close a quarter for --members members and --entries ledger entries (set-based SQL in chunks):
   time beside a raw ``SELECT member_id, SUM(points) … GROUP BY member_id`` of the same table,
   and the ratio.
2. Ingest --events activity.attended events, --duplicates of them sent twice (half the very same
   message, half a new message with the same content), through RabbitMQ into a scoring service
   this script starts itself (own vhost, temp database): entries/s, and every balance checked.

    python bench/quarter_close.py                       # 10,000 members, 200,000 entries, 50,000 events
    python bench/quarter_close.py --events 10000        # a shorter ingest
    python bench/quarter_close.py --database-url postgresql+psycopg2://postgres@127.0.0.1:5432/bench

Needs RabbitMQ with its management plugin (for the vhost). Last line: the figures as JSON.
"""

import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import eventlet  # noqa: E402

eventlet.monkey_patch()

from sqlalchemy import text  # noqa: E402

from bench.common import argparser, peak_memory_mb, platform, print_summary  # noqa: E402
from common.db import EventPublisher, Store, envelope  # noqa: E402
from common.migrations import upgrade  # noqa: E402
from services.scoring import quarters  # noqa: E402
from services.scoring.models import Base, LedgerEntry, MemberView  # noqa: E402
from tests import support  # noqa: E402

PERIOD = "2026Q2"


def load_ledger(store: Store, members: int, entries: int):
    now = datetime.now(UTC)
    rng = random.Random(7)
    with store.engine.begin() as conn:
        conn.execute(MemberView.__table__.insert(), [
            {"member_id": m, "name": f"党员{m}", "community_id": 1 + m % 39, "grid_id": 100 + m % 400,
             "work_unit_id": 1000 + m % 130, "e_branch_id": 5000 + m % 60, "status": "active", "updated_at": now}
            for m in range(1, members + 1)])
    batch = 20000
    for start in range(0, entries, batch):
        rows = [{"entry_key": f"bench:{i}", "member_id": 1 + rng.randrange(members), "community_id": 1,
                 "points": rng.randint(-3, 15), "kind": "service", "reason": "bench", "period": PERIOD,
                 "content_hash": "", "hours": 1.0, "rating": rng.randint(1, 5), "created_at": now}
                for i in range(start, min(entries, start + batch))]
        with store.engine.begin() as conn:
            conn.execute(LedgerEntry.__table__.insert(), rows)


def bench_close(url: str, members: int, entries: int) -> dict:
    upgrade("scoring", url)
    store = Store(Base.metadata, "scoring", url, "amqp://unused/")
    started = time.perf_counter()
    load_ledger(store, members, entries)
    load_s = time.perf_counter() - started
    with store.engine.connect() as conn:  # warm the cache for both contenders alike
        conn.execute(text("SELECT COUNT(*), SUM(points) FROM ledger")).one()
    started = time.perf_counter()
    with store.engine.connect() as conn:
        raw = conn.execute(text("SELECT member_id, SUM(points), COUNT(*) FROM ledger WHERE period = :p "
                                "GROUP BY member_id"), {"p": PERIOD}).all()
    raw_s = time.perf_counter() - started
    started = time.perf_counter()
    totals = quarters.build_snapshot(store, PERIOD)
    close_s = time.perf_counter() - started
    raw_total = sum(r[1] for r in raw)
    assert totals["total_points"] == raw_total, (totals, raw_total)
    store.dispose()
    return {"members": members, "entries": entries, "load_s": round(load_s, 2), "raw_aggregate_s": round(raw_s, 3),
            "close_s": round(close_s, 3), "close_vs_raw_ratio": round(close_s / raw_s, 1),
            "snapshot_members": totals["members"], "totals_match_raw": totals["total_points"] == raw_total}


def bench_ingest(url: str, events: int, duplicates: float, members: int, tmp: str) -> dict:
    with platform(tmp, services=["scoring"], urls={"scoring": url}, extra_env={"LOG_LEVEL": "WARNING"}) as p:
        store = Store(Base.metadata, "scoring", url, p.amqp_uri)
        try:
            return _ingest(p, store, events, duplicates, members)
        finally:
            store.dispose()


def _ingest(p, store: Store, events: int, duplicates: float, members: int) -> dict:
    registration = EventPublisher(p.amqp_uri, "registration")
    for m in range(1, members + 1):
        registration.publish(envelope("registration", "member.accepted",
                                      {"member_id": m, "name": f"党员{m}", "community_id": 1 + m % 9}))
    support.wait_for(lambda: _count(store, "members") == members, timeout=120, message="members known")
    publisher = EventPublisher(p.amqp_uri, "activities")
    rng = random.Random(11)
    expected: dict[int, int] = {}
    sent, repeats = [], int(events * duplicates)
    started = time.perf_counter()
    for i in range(events - repeats):
        member = 1 + i % members
        hours = rng.choice((1, 2, 3))
        event = envelope("activities", "activity.attended", {
            "activity_id": i + 1, "community_id": 1, "title": "巡逻", "starts_at": "2026-11-01T09:00:00+08:00",
            "ends_at": "2026-11-01T12:00:00+08:00", "member_id": member, "hours": hours})
        publisher.publish(event)
        sent.append(event)
        expected[member] = expected.get(member, 0) + hours * 2
    for j in range(repeats):
        event = sent[rng.randrange(len(sent))]
        # half the very same message (inbox), half the same fact in a new message (ledger key)
        publisher.publish(event if j % 2 else {**event, "event_id": str(uuid.uuid4())})
    publish_s = time.perf_counter() - started
    unique = len(sent)
    support.wait_for(lambda: _count(store, "ledger") >= unique, timeout=3600, interval=0.5,
                     message="every entry on the ledger")
    support.wait_queues_idle(p.vhost, timeout=600)
    elapsed = time.perf_counter() - started
    with store.engine.connect() as conn:
        balances = dict(conn.execute(text("SELECT member_id, SUM(points) FROM ledger GROUP BY member_id")).all())
        entries = conn.execute(text("SELECT COUNT(*) FROM ledger")).scalar()
    wrong = sum(1 for m, pts in expected.items() if balances.get(m) != pts)
    memory, _ = peak_memory_mb(p.processes)
    return {"events": events, "duplicates": repeats, "unique": unique, "ledger_entries": entries,
            "publish_s": round(publish_s, 2), "ingest_s": round(elapsed, 2),
            "entries_per_s": round(unique / elapsed, 1), "messages_per_s": round(events / elapsed, 1),
            "balances_checked": len(expected), "balances_wrong": wrong,
            "scoring_peak_mb": memory.get("scoring")}


def _count(store: Store, table: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()


def _fresh_url(base: str | None, tmp: str, name: str) -> str:
    if not base:
        return f"sqlite:///{tmp}/{name}.db"
    return support.create_pg_database(f"bench_{name}_{uuid.uuid4().hex[:8]}")


def main():
    parser = argparser(__doc__)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--duplicates", type=float, default=0.10)
    parser.add_argument("--ingest-members", type=int, default=1_000)
    parser.add_argument("--database-url", default=None,
                        help="use PostgreSQL (any URL: fresh databases are made on the test server) instead of SQLite")
    args = parser.parse_args()
    figures = {"database": "postgresql" if args.database_url else "sqlite", "period": PERIOD}
    with tempfile.TemporaryDirectory() as tmp:
        made = []
        try:
            url = _fresh_url(args.database_url, tmp, "close")
            made.append(url)
            close = bench_close(url, args.members, args.entries)
            print(f"close {close['members']} members / {close['entries']} entries: {close['close_s']} s "
                  f"(raw aggregate {close['raw_aggregate_s']} s, ratio {close['close_vs_raw_ratio']}×)")
            figures["close"] = close
            if args.events:
                url = _fresh_url(args.database_url, tmp, "ingest")
                made.append(url)
                ingest = bench_ingest(url, args.events, args.duplicates, args.ingest_members, tmp)
                print(f"ingest {ingest['events']} events ({ingest['duplicates']} duplicates): "
                      f"{ingest['entries_per_s']} entries/s, {ingest['ledger_entries']} entries, "
                      f"balances wrong: {ingest['balances_wrong']}, scoring peak {ingest['scoring_peak_mb']} MB")
                figures["ingest"] = ingest
        finally:
            for url in made:
                if url.startswith("postgresql"):
                    support.drop_pg_database(url)
    figures["bench_peak_mb"] = peak_memory_mb()[1]
    print_summary(figures)


if __name__ == "__main__":
    main()
