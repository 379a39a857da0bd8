"""Roster import at Shiwan's scale, beside a raw SQLAlchemy Core bulk insert, then the candidates query.

Generates 10,000 members in 39 communities (Shiwan street: 9,741 members in 39 villages and
communities), imports them through registration's use case (validation, ID hashing, place
resolution, skills/posts/free-time rows, history, one member.accepted event each through the
outbox), re-imports the same rows (idempotence), and times a raw Core ``executemany`` of the
same users + members + skills rows into a second fresh database in the same run. Then the
candidates query that dispatch calls (skill + place + availability) p50/p95. Needs RabbitMQ with
its management plugin (events go to a throwaway vhost); SQLite in a temp dir unless --postgres.

    python bench/roster_import.py --members 10000 --communities 39 --queries 300
"""

import os
import random
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import warnings  # noqa: E402

warnings.filterwarnings("ignore")

from sqlalchemy import insert  # noqa: E402

from bench.common import argparser, peak_memory_mb, percentiles, print_summary, vhost  # noqa: E402
from common.db import Store, utcnow  # noqa: E402
from common.migrations import upgrade  # noqa: E402
from services.registration import domain  # noqa: E402
from services.registration.models import Base, Member, MemberSkill, OrgUnit, User  # noqa: E402
from services.registration.usecases import lookups, members, posts, roster_import  # noqa: E402
from tests import support  # noqa: E402

SKILLS = ["法律", "医疗", "教学", "IT", "维修", "助老", "调解", "心理", "文艺", "摄影", "驾驶", "财会"]
POSTS = ["政策宣传", "文明示范", "文明健身", "就业信息", "卫生监督", "安全信息", "医疗保健", "扶贫帮困", "法律服务",
         "公益服务"]
FREE = ["工作日晚上", "周末白天", "周末晚上", "周末全天", "工作日午间"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def make_tree(store, communities: int, grids: int) -> list[tuple[str, list[str]]]:
    names = []
    with store.uow() as uow:
        s = uow.session
        district = OrgUnit(kind="district", name="禅城区")
        s.add(district)
        s.flush()
        street = OrgUnit(kind="street", name="石湾镇街道", parent_id=district.id)
        s.add(street)
        s.flush()
        for c in range(communities):
            community = OrgUnit(kind="community", name=f"第{c + 1}社区", parent_id=street.id)
            s.add(community)
            s.flush()
            posts._seed_posts(s, community.id)
            grid_names = [f"第{g + 1}网格" for g in range(grids)]
            for g in grid_names:
                s.add(OrgUnit(kind="grid", name=g, parent_id=community.id))
            names.append((community.name, grid_names))
        uow.commit()
    return names


def make_rows(n: int, tree, rng: random.Random) -> list[dict]:
    rows = []
    for i in range(n):
        community, grids = tree[i % len(tree)]
        # area code, birth date, sequence: unique for every i below a million
        first17 = f"44{i // 1000:04d}{1960 + i % 40}{i % 12 + 1:02d}{i % 28 + 1:02d}{i % 1000:03d}"
        rows.append({
            "row": i + 2, "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            "phone": f"13{i:09d}", "id_number": first17 + domain.id_number_check_char(first17),
            "community": community, "grid": rng.choice(grids), "work_unit": f"石湾单位{i % 130 + 1}",
            "skills": "、".join(rng.sample(SKILLS, rng.randint(1, 3))),
            "posts": "、".join(rng.sample(POSTS, rng.randint(1, 2))),
            "free_time": "、".join(rng.sample(FREE, rng.randint(1, 2))),
        })
    return rows


def raw_bulk_insert(store, rows, tree_ids) -> float:
    """The floor: the same rows straight in with Core executemany, no checks, no events."""
    key = members.id_hash_key()
    started = time.perf_counter()
    now = utcnow()
    with store.engine.begin() as conn:
        user_ids = conn.execute(insert(User).returning(User.id, sort_by_parameter_order=True), [{
            "username": r["phone"], "password_hash": None, "role": "member", "name": r["name"], "phone": r["phone"],
            "org_unit_id": tree_ids[r["community"]], "created_at": now, "active": True,
            "community_id": tree_ids[r["community"]]} for r in rows]).scalars().all()
        conn.execute(insert(Member), [{
            "id": uid, "name": r["name"], "phone": r["phone"],
            "id_number_hash": domain.hash_id_number(r["id_number"], key), "community_id": tree_ids[r["community"]],
            "skills": r["skills"].split("、"), "status": "accepted", "registered_at": now, "source": "import"}
            for uid, r in zip(user_ids, rows, strict=True)])
        conn.execute(insert(MemberSkill), [{"member_id": uid, "skill": s, "community_id": tree_ids[r["community"]]}
                                           for uid, r in zip(user_ids, rows, strict=True)
                                           for s in r["skills"].split("、")])
    return time.perf_counter() - started


def main():
    parser = argparser(__doc__)
    parser.add_argument("--members", type=int, default=10000)
    parser.add_argument("--communities", type=int, default=39)
    parser.add_argument("--grids", type=int, default=3)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--postgres", action="store_true",
                        help="run on two fresh PostgreSQL databases (TEST_PG_DSN) instead of SQLite")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-roster-") as tmp, vhost() as events:
        amqp, made = support.amqp_uri_for(events), []  # the import's events go to a throwaway vhost

        def new_db(name):
            if args.postgres:
                url = support.create_pg_database(f"bench_{name}_{uuid.uuid4().hex[:8]}")
                made.append(url)
                return url
            return f"sqlite:///{tmp}/{name}.db"

        try:
            ours_url, raw_url = new_db("ours"), new_db("raw")
            for url in (ours_url, raw_url):
                upgrade("registration", url)
            ours, raw = (Store(Base.metadata, "registration", url, amqp) for url in (ours_url, raw_url))
            tree = make_tree(ours, args.communities, args.grids)
            make_tree(raw, args.communities, args.grids)
            rng = random.Random(42)
            rows = make_rows(args.members, tree, rng)
            system = {"user_id": None, "role": "system"}
            print(f"roster: {len(rows)} members in {args.communities} communities ({ours.engine.dialect.name})")

            publishing = []
            publish = ours.publish_committed

            def timed_publish(payloads):  # how much of the import is publishing the events after commit
                t0 = time.perf_counter()
                publish(payloads)
                publishing.append(time.perf_counter() - t0)

            ours.publish_committed = timed_publish
            started = time.perf_counter()
            result = roster_import.import_roster(ours, system, {"rows": rows, "source": "bench"})
            import_s = time.perf_counter() - started
            publish_s = sum(publishing)
            assert result["created"] == len(rows) and not result["errors"], result["errors"][:3]
            started = time.perf_counter()
            again = roster_import.import_roster(ours, system, {"rows": rows, "source": "bench"})
            reimport_s = time.perf_counter() - started
            assert again["unchanged"] == len(rows), again

            with raw.uow() as uow:
                tree_ids = {u.name: u.id for u in uow.session.query(OrgUnit).filter(OrgUnit.kind == "community")}
            raw_s = raw_bulk_insert(raw, rows, tree_ids)
            ours_rate, raw_rate = len(rows) / import_s, len(rows) / raw_s
            print(f"import (checks, hashing, skills/posts/free time, history, {len(rows)} events): "
                  f"{import_s:.2f}s = {ours_rate:,.0f} rows/s (of which publishing the events after commit, "
                  f"one broker confirm each: {publish_s:.2f}s)")
            print(f"re-import of the same file (nothing changes): {reimport_s:.2f}s = "
                  f"{len(rows) / reimport_s:,.0f} rows/s")
            print(f"raw Core bulk insert (users + members + skills): {raw_s:.2f}s = {raw_rate:,.0f} rows/s")
            ratio = round(ours_rate / raw_rate, 3)
            print(f"ratio (import rows/s ÷ raw rows/s): {ratio}")

            with ours.uow() as uow:
                community_ids = [u.id for u in uow.session.query(OrgUnit).filter(OrgUnit.kind == "community")]
            samples = []
            for _ in range(args.queries):
                query = {"community_id": rng.choice(community_ids), "skills": rng.sample(SKILLS, 2),
                         "at": f"2026-11-{rng.randint(21, 27)}T{rng.randint(8, 21):02d}:30:00+08:00",
                         "limit": 20}
                t0 = time.perf_counter()
                found = lookups.find_candidates(ours, query)
                samples.append(time.perf_counter() - t0)
                assert found
            candidates = percentiles(samples)
            print(f"candidates query ({len(rows) // args.communities} members a community, skills + availability, "
                  f"top 20): p50 {candidates['p50_ms']} ms, p95 {candidates['p95_ms']} ms")
            peak = peak_memory_mb()[1]
            print(f"peak resident memory of this process: {peak} MB")
            print_summary({"bench": "roster_import", "database": ours.engine.dialect.name, "members": len(rows),
                           "communities": args.communities, "import_seconds": round(import_s, 3),
                           "import_rows_per_s": round(ours_rate, 1), "import_publish_seconds": round(publish_s, 3),
                           "reimport_seconds": round(reimport_s, 3),
                           "raw_core_seconds": round(raw_s, 3), "raw_core_rows_per_s": round(raw_rate, 1),
                           "ratio_import_vs_raw": ratio, "candidates": candidates, "peak_rss_mb": peak})
            ours.dispose()
            raw.dispose()
        finally:
            for url in made:
                support.drop_pg_database(url)


if __name__ == "__main__":
    main()
