"""Dispatch under load, on a platform this benchmark starts itself (own vhost, free port, temp SQLite).

1. Loads 9,741 members in 39 communities straight into registration's database.
2. Sustained request flows over HTTP, each: resident submits → staff accept and the engine offers
   to the top-ranked members → an offered member claims → completes → the resident confirms;
   flows/s and p50/p95 of each step, beside plain kombu request/reply round trips for the same
   number of messages in the same run, and the ratio.
3. A claim storm: 200 members claim one request at once; exactly one must win.
Last line: the figures as one JSON object.

    python bench/dispatch.py --flows 200 --concurrency 8
"""

import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import (  # noqa: E402
    Flows,
    argparser,
    load_members,
    login,
    peak_memory_mb,
    percentiles,
    platform,
    print_summary,
    session,
)
from gateway import tokens  # noqa: E402

STEPS = ("submit", "offer", "claim", "complete", "confirm")
SKILLS = ["法律", "医疗", "维修", "IT", "教学", "助老", "调解", "心理", "电工", "保洁"]
BENCH_SKILL = "基准服务"
BENCH_MEMBERS = 8  # members of 东风社区 with the benchmark item's skill: the offers rotate among them


def load(p, total: int, communities: int) -> dict:
    """The demo, communities up to ``communities`` (each with a grid and a building), the members."""
    from sqlalchemy import select

    from cli import demo
    from common.db import Store
    from services.registration.models import Base, OrgUnit

    demo.seed(p.urls, p.amqp_uri)
    store = Store(Base.metadata, "registration", p.urls["registration"], "memory://")
    with store.sessionmaker() as s:
        street = s.scalar(select(OrgUnit).where(OrgUnit.kind == "street"))
        existing = s.scalars(select(OrgUnit).where(OrgUnit.kind == "community").order_by(OrgUnit.id)).all()
        places = []
        for c in existing:
            grid = s.scalar(select(OrgUnit).where(OrgUnit.parent_id == c.id, OrgUnit.kind == "grid"))
            building = s.scalar(select(OrgUnit).where(OrgUnit.parent_id == grid.id))
            places.append({"community_id": c.id, "grid_id": grid.id, "building_id": building and building.id})
        for n in range(len(existing), communities):
            ids, parent = {}, street.id
            for kind, name in (("community", f"基准社区{n + 1}"), ("grid", "第一网格"), ("building", "1栋")):
                unit = OrgUnit(kind=kind, name=name, parent_id=parent)
                s.add(unit)
                s.flush()
                ids[f"{kind}_id"] = parent = unit.id
            places.append(ids)
        for place in places:
            place.update(district_id=street.parent_id, street_id=street.id)
        s.commit()
    store.dispose()
    n = len(places)

    def skills(i):  # members 0, n, 2n, … are 东风社区's (places[0]): the first of them get the item's skill
        return list(dict.fromkeys([SKILLS[i % len(SKILLS)], SKILLS[(i // 7) % len(SKILLS)]]
                                  + ([BENCH_SKILL] if i % n == 0 and i < BENCH_MEMBERS * n else [])))

    principals = load_members(p.urls["registration"], places, total, skills)
    dongfeng = principals[::n]
    return {**places[0], "bench": dongfeng[:BENCH_MEMBERS], "dongfeng": dongfeng, "communities": n,
            "members": total}


def member_session(principal):
    return session(tokens.issue(principal)[0])


def run_flows(base, args, loaded):
    resident, _ = login(base, "resident1")
    staff, _ = login(base, "staff1")
    community = loaded["community_id"]
    staff.put(f"{base}/api/communities/{community}/dispatch-policy", timeout=30,
              json={"auto_accept": False, "offer_top_k": 3, "open_after_minutes": 600}).raise_for_status()
    resp = staff.post(f"{base}/api/communities/{community}/menu", timeout=30, json={
        "title": "基准服务", "category": "公益服务", "skills": [BENCH_SKILL], "points": 10})
    resp.raise_for_status()
    item_id = resp.json()["id"]
    members = {m["user_id"]: member_session(m) for m in loaded["bench"]}
    flows = Flows(base, STEPS)

    def flow(n):
        req = flows.step("submit", lambda: resident.post(f"{base}/api/requests", timeout=30,
                                                          json={"menu_item_id": item_id, "description": f"第{n}单"}))
        rid = req["id"]
        offered = flows.step("offer", lambda: staff.post(f"{base}/api/requests/{rid}/accept", json={}, timeout=30))
        flows.finish(rid, members[offered["offered_to"][0]], resident)

    ours = flows.run(flow, args.flows, args.concurrency)
    return flows, {**ours, "first_error": flows.errors[0] if flows.errors else None}


def claim_storm(base, loaded, size):
    staff, _ = login(base, "staff1")
    need = staff.post(f"{base}/api/communities/{loaded['community_id']}/needs", timeout=30,
                      json={"title": "基准抢单", "members_needed": 1}).json()
    claimers = [member_session(m) for m in loaded["dongfeng"][:size]]
    barrier = threading.Barrier(len(claimers))
    outcomes = []
    lock = threading.Lock()

    def claim(session):
        barrier.wait()
        started = time.perf_counter()
        resp = session.post(f"{base}/api/requests/{need['id']}/claim", timeout=60)
        with lock:
            outcomes.append((resp.status_code, time.perf_counter() - started,
                             resp.json().get("error", {}).get("code") if resp.status_code >= 300 else None))

    started = time.perf_counter()
    with ThreadPoolExecutor(len(claimers)) as pool:
        list(pool.map(claim, claimers))
    elapsed = time.perf_counter() - started
    final = staff.get(f"{base}/api/requests/{need['id']}", timeout=30).json()
    statuses = [o[0] for o in outcomes]
    return {"claimers": len(claimers), "winners": statuses.count(200), "conflicts": statuses.count(409),
            "other": len(statuses) - statuses.count(200) - statuses.count(409),
            "codes": sorted({o[2] for o in outcomes if o[2]}), "seconds": round(elapsed, 3),
            "latency": percentiles([o[1] for o in outcomes]), "final_state": final["state"],
            "claimed_by": len(final["claimed_by"]), "exactly_one_winner": statuses.count(200) == 1
            and len(final["claimed_by"]) == 1}


def main():
    parser = argparser(__doc__)
    parser.add_argument("--flows", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--members", type=int, default=9741)
    parser.add_argument("--communities", type=int, default=39)
    parser.add_argument("--storm", type=int, default=200)
    args = parser.parse_args()

    loaded = {}

    def prepare(p):  # before the start, as a real street's registry would be
        started = time.perf_counter()
        loaded.update(load(p, args.members, args.communities))
        print(f"loaded {loaded['members']} members in {loaded['communities']} communities "
              f"in {time.perf_counter() - started:.1f}s")

    with tempfile.TemporaryDirectory(prefix="bench-dispatch-") as workdir, platform(workdir, prepare=prepare) as p:
        base = p.base_url
        print(f"platform up at {base}; flows: {args.flows}, concurrency: {args.concurrency}")
        flows, ours = run_flows(base, args, loaded)
        raw, ratio = flows.compare(ours, p.amqp_uri, args.concurrency)
        storm = claim_storm(base, loaded, args.storm)
        print(f"claim storm: {storm['claimers']} members, {storm['winners']} won, {storm['conflicts']} got 409 "
              f"({', '.join(storm['codes'])}), {storm['other']} other, in {storm['seconds']}s; "
              f"exactly one winner: {storm['exactly_one_winner']}")
        memory, _ = peak_memory_mb(p.processes)
        print("peak resident memory (MB): " + ", ".join(f"{k} {v}" for k, v in sorted(memory.items())))
        print_summary({"bench": "dispatch", "members_loaded": loaded["members"],
                       "communities": loaded["communities"], "platform": ours, "raw_kombu": raw,
                       "ratio_steps_vs_raw": ratio, "claim_storm": storm, "peak_rss_mb": memory})


if __name__ == "__main__":
    main()
