"""Dispatch under load, on a platform this benchmark starts itself (own vhost, free port, own databases:
temporary SQLite files, or PostgreSQL databases of its own with --database postgresql).

1. Loads 9,741 members in 39 communities (Shiwan) straight into registration's database
   (--members 97410 --communities 390: ten times that, a city's worth of streets).
2. The same request flows over HTTP at concurrency 1, then at 8, each: resident submits → staff
   accept and the engine offers to the top-ranked members → an offered member claims → completes
   → the resident confirms; flows/s, p50/p95 of each step, and the CPU every process of the
   platform spent (per flow), beside plain kombu request/reply round trips for the same number of
   messages at the same concurrency in the same run: ratio_steps_vs_raw, speedup_c8_vs_c1.
3. A claim storm: 200 members claim one request at once; exactly one must win.
4. The candidates query dispatch asks registration for: p50/p95, and whether its plan is indexed.
Last line: the figures as one JSON object.

    python bench/dispatch.py [--database sqlite|postgresql] [--members N --communities M] [--scale dispatch=2]
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
    cpu_seconds,
    cpu_used,
    databases,
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


def setup_flows(base, loaded) -> dict:
    """The benchmark's menu item in 东风社区, offered by hand (staff accept) to its top 3 matches."""
    resident, _ = login(base, "resident1")
    staff, _ = login(base, "staff1")
    community = loaded["community_id"]
    staff.put(f"{base}/api/communities/{community}/dispatch-policy", timeout=30,
              json={"auto_accept": False, "offer_top_k": 3, "open_after_minutes": 600}).raise_for_status()
    resp = staff.post(f"{base}/api/communities/{community}/menu", timeout=30, json={
        "title": "基准服务", "category": "公益服务", "skills": [BENCH_SKILL], "points": 10})
    resp.raise_for_status()
    return {"resident": resident, "staff": staff, "item_id": resp.json()["id"],
            "members": {m["user_id"]: member_session(m) for m in loaded["bench"]}}


def run_flows(base, ctx, count: int, concurrency: int):
    resident, staff, item_id, members = ctx["resident"], ctx["staff"], ctx["item_id"], ctx["members"]
    flows = Flows(base, STEPS)

    def flow(n):
        req = flows.step("submit", lambda: resident.post(f"{base}/api/requests", timeout=30,
                                                          json={"menu_item_id": item_id, "description": f"第{n}单"}))
        rid = req["id"]
        offered = flows.step("offer", lambda: staff.post(f"{base}/api/requests/{rid}/accept", json={}, timeout=30))
        flows.finish(rid, members[offered["offered_to"][0]], resident)

    ours = flows.run(flow, count, concurrency)
    return flows, {**ours, "first_error": flows.errors[0] if flows.errors else None}


def measured(p, base, ctx, count: int, concurrency: int):
    """Flows at one concurrency, with the CPU every process of the platform spent on them."""
    before = cpu_seconds(p.processes)
    flows, ours = run_flows(base, ctx, count, concurrency)
    cpu = cpu_used(before, cpu_seconds(p.processes))
    total = sum(cpu.values())
    ours["cpu_s"] = cpu
    ours["cpu_ms_per_flow"] = round(1000 * total / max(ours["completed"], 1), 1)
    ours["cores_busy"] = round(total / ours["seconds"], 2) if ours["seconds"] else None
    print(f"C={concurrency}: {ours['flows_per_s']} flows/s ({ours['completed']} flows in {ours['seconds']:.1f}s, "
          f"{ours['errors']} errors); {ours['cpu_ms_per_flow']} CPU-ms a flow "
          f"({', '.join(f'{k} {v:.2f}s' for k, v in cpu.items())}); {ours['cores_busy']} cores busy")
    for step in STEPS:
        st = ours["steps"][step]
        print(f"  {step:<9} p50 {st['p50_ms']} ms   p95 {st['p95_ms']} ms")
    return flows, ours


def candidates_query(url: str, loaded: dict, queries: int) -> dict:
    """The matching query dispatch asks registration for (skills + place), timed straight on its
    database, and whether its plan reads through indexes (no full scan of a members table)."""
    from sqlalchemy import event, text

    from common.db import Store
    from services.registration.models import Base
    from services.registration.usecases import lookups

    store = Store(Base.metadata, "registration", url, "memory://")
    query = {"community_id": loaded["community_id"], "skills": [SKILLS[0], SKILLS[3]], "grid_id": loaded["grid_id"],
             "limit": 50}
    seen = []

    def capture(conn, cursor, statement, params, context, executemany):
        seen.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", capture)
    lookups.find_candidates(store, query)
    event.remove(store.engine, "before_cursor_execute", capture)
    statement, params = max(seen, key=lambda s: len(s[0]))
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            plan = [str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)]
            scans = [line for line in plan if line.startswith("SCAN") and "USING" not in line
                     and any(t in line for t in ("members", "member_skills", "users"))]
        else:
            conn.execute(text("ANALYZE"))
            plan = [r[0] for r in conn.exec_driver_sql(f"EXPLAIN {statement}", params)]
            scans = [line for line in plan if "Seq Scan on members" in line or "Seq Scan on member_skills" in line]
    samples = []
    for _ in range(queries):
        started = time.perf_counter()
        lookups.find_candidates(store, query)
        samples.append(time.perf_counter() - started)
    store.dispose()
    return {**percentiles(samples), "indexed": not scans, "plan": plan}


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
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--flows", type=int, default=200, help="flows at concurrency 8")
    parser.add_argument("--flows-c1", type=int, default=60, help="flows at concurrency 1")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--members", type=int, default=9741)
    parser.add_argument("--communities", type=int, default=39)
    parser.add_argument("--storm", type=int, default=200)
    parser.add_argument("--queries", type=int, default=200, help="timed candidate queries")
    parser.add_argument("--scale", default=None, help="passed to `baodao run --scale` (default: 1 of each)")
    args = parser.parse_args()

    loaded = {}

    def prepare(p):  # before the start, as a real street's registry would be
        started = time.perf_counter()
        loaded.update(load(p, args.members, args.communities))
        print(f"loaded {loaded['members']} members in {loaded['communities']} communities "
              f"in {time.perf_counter() - started:.1f}s")

    with tempfile.TemporaryDirectory(prefix="bench-dispatch-") as workdir, \
            databases(args.database, workdir) as urls, \
            platform(workdir, urls=urls, prepare=prepare, scale=args.scale) as p:
        base = p.base_url
        print(f"platform up at {base} on {args.database}; flows: {args.flows_c1} at C=1, "
              f"{args.flows} at C={args.concurrency}")
        ctx = setup_flows(base, loaded)
        run_flows(base, ctx, 10, 2)  # warm: first-call imports, caches, connections
        _, one = measured(p, base, ctx, args.flows_c1, 1)
        flows, ours = measured(p, base, ctx, args.flows, args.concurrency)
        raw, ratio = flows.compare(ours, p.amqp_uri, args.concurrency)
        speedup = round(ours["flows_per_s"] / one["flows_per_s"], 2) if one["flows_per_s"] else None
        print(f"speedup C={args.concurrency} vs C=1: {speedup}")
        storm = claim_storm(base, loaded, args.storm)
        print(f"claim storm: {storm['claimers']} members, {storm['winners']} won, {storm['conflicts']} got 409 "
              f"({', '.join(storm['codes'])}), {storm['other']} other, in {storm['seconds']}s; "
              f"exactly one winner: {storm['exactly_one_winner']}")
        cands = candidates_query(p.urls["registration"], loaded, args.queries)
        print(f"candidates query ({loaded['members'] // loaded['communities']} members a community): "
              f"p50 {cands['p50_ms']} ms, p95 {cands['p95_ms']} ms; indexed: {cands['indexed']}")
        memory, _ = peak_memory_mb(p.processes)
        print("peak resident memory (MB): " + ", ".join(f"{k} {v}" for k, v in sorted(memory.items())))
        steps = {s: ours["steps"][s] for s in STEPS}
        print_summary({
            "bench": "dispatch", "database": args.database, "scale": args.scale or "1 each",
            "members_loaded": loaded["members"], "communities": loaded["communities"],
            "ratio_steps_vs_raw": ratio, "speedup_c8_vs_c1": speedup,
            "cpu_ms_per_flow": ours["cpu_ms_per_flow"], "cpu_ms_per_flow_c1": one["cpu_ms_per_flow"],
            "flows_per_s": {"c1": one["flows_per_s"], f"c{args.concurrency}": ours["flows_per_s"]},
            "step_p95_ms_max": max(st["p95_ms"] or 0 for st in steps.values()),
            "steps": steps, "steps_c1": one["steps"], "c1": one, "platform": ours, "raw_kombu": raw,
            "claim_storm": storm, "candidates_query": {k: v for k, v in cands.items() if k != "plan"},
            "peak_rss_mb": memory, "peak_rss_mb_max": max(memory.values()) if memory else None})


if __name__ == "__main__":
    main()
