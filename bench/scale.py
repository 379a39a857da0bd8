"""One instance, then two, of dispatch, scoring and the gateway: still exact, and not slower.

Two platforms are started side by side, one with 1 instance of everything, one with `baodao run
--scale dispatch=2,scoring=2,gateway=2`, each on its own vhost and own PostgreSQL databases (by
default), Shiwan's 9,741 members loaded into each; then:

1. request flows at concurrency 8 (submit → staff accept → claim → complete → confirm), in
   rounds alternating between the two platforms (the machine is shared: whatever else runs weighs
   on both alike): flows/s, step p50/p95, CPU per flow;
2. a claim storm: 200 members claim one request at once — exactly one may win;
3. durable timers: requests offered by a policy that opens them to all after ~1 s — each must be
   opened exactly once (one "open" transition each), whichever instance's timer fired;
4. the ledger: scoring must hold exactly one service entry per confirmed flow, with the flow's
   points (10 + 5 for a top rating), however many scoring instances consumed the events.

Last line: ``{"instances": 2, "exact": true|false, "flows_per_s": {"1": …, "2": …}, …}``.

    python bench/scale.py [--database postgresql|sqlite] [--flows 240 --rounds 3]
"""

import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import argparser, databases, peak_memory_mb, platform, print_summary  # noqa: E402
from bench.dispatch import STEPS, claim_storm, load, measured, run_flows, setup_flows  # noqa: E402
from tests import support  # noqa: E402

POINTS_PER_FLOW = 15  # the benchmark item's 10 points, +50% for the resident's 5 stars


def timers_fire_once(base, ctx, count: int) -> dict:
    """Requests whose open-to-all timer comes due in about a second; each opened exactly once."""
    staff, resident = ctx["staff"], ctx["resident"]
    community = ctx["community_id"]
    staff.put(f"{base}/api/communities/{community}/dispatch-policy", timeout=30,
              json={"auto_accept": True, "offer_top_k": 3, "open_after_minutes": 0.02}).raise_for_status()
    ids = []
    for n in range(count):
        resp = resident.post(f"{base}/api/requests", timeout=30,
                             json={"menu_item_id": ctx["item_id"], "description": f"定时{n}"})
        resp.raise_for_status()
        ids.append(resp.json()["id"])
    staff.put(f"{base}/api/communities/{community}/dispatch-policy", timeout=30,
              json={"auto_accept": False, "offer_top_k": 3, "open_after_minutes": 600}).raise_for_status()

    def views():
        return [staff.get(f"{base}/api/requests/{rid}", timeout=30).json() for rid in ids]

    started = time.perf_counter()
    try:
        found = support.wait_for(lambda: (v := views()) and all(r["open_to_all"] for r in v) and v,
                                 timeout=60, interval=1, message="the open-to-all timers")
    except AssertionError:
        found = views()
    opens = [sum(1 for h in r["history"] if h["action"] == "open") for r in found]
    return {"requests": count, "opened": sum(1 for r in found if r["open_to_all"]),
            "opened_once": sum(1 for n in opens if n == 1), "opened_twice_or_more": sum(1 for n in opens if n > 1),
            "seconds": round(time.perf_counter() - started, 1), "exact": all(n == 1 for n in opens)}


def ledger_matches(p, ctx, confirmed: int, timeout: float = 120) -> dict:
    """Scoring's entries for the benchmark's members: one per confirmed flow, its points each.

    The members were loaded into registration before scoring ran, so scoring first parks their
    credits (UNKNOWN_MEMBER), asks registration about them (every 30 s) and then books them: wait
    for that, then count."""
    from sqlalchemy import create_engine, text

    engine = create_engine(p.urls["scoring"])
    ids = ",".join(str(int(i)) for i in ctx["members"])

    def counts():
        with engine.connect() as conn:
            entries, points = conn.execute(text(
                f"SELECT count(*), coalesce(sum(points), 0) FROM ledger WHERE kind = 'service' AND member_id IN ({ids})"
            )).one()
            twice = conn.execute(text(
                "SELECT count(*) FROM (SELECT source_event_id FROM ledger WHERE kind = 'service' "
                "GROUP BY source_event_id, member_id HAVING count(*) > 1) AS d")).scalar()
        return int(entries), int(points), int(twice)

    started = time.perf_counter()
    while counts()[0] < confirmed and time.perf_counter() - started < timeout:
        time.sleep(1)
    support.wait_queues_idle(p.vhost, timeout=60)
    entries, points, twice = counts()
    engine.dispose()
    return {"confirmed_flows": confirmed, "entries": entries, "points": points,
            "expected_points": confirmed * POINTS_PER_FLOW, "duplicates": twice,
            "seconds_to_book": round(time.perf_counter() - started, 1),
            "exact": entries == confirmed and points == confirmed * POINTS_PER_FLOW and not twice}


def start(stack, args, instances: int, workdir: str):
    """A platform with ``instances`` of dispatch, scoring and gateway (1 of everything else)."""
    scale = None if instances == 1 else f"dispatch={instances},scoring={instances},gateway={instances}"
    loaded = {}

    def prepare(p):
        loaded.update(load(p, args.members, args.communities))

    os.makedirs(workdir)
    urls = stack.enter_context(databases(args.database, workdir))
    # two platforms (8 and 11 processes) share one PostgreSQL: with the default pools (10 + 10 a
    # process) they pass its max_connections (100 here) under load; 4 + 2 each keeps them within it
    # and is what an operator would set for N instances (docs/operations.md, "Connections")
    pools = {"DB_POOL_SIZE": "4", "DB_POOL_OVERFLOW": "2"} if args.database == "postgresql" else {}
    p = stack.enter_context(platform(workdir, urls=urls, prepare=prepare, scale=scale, extra_env=pools))
    ctx = {**setup_flows(p.base_url, loaded), "community_id": loaded["community_id"]}
    warm, _ = run_flows(p.base_url, ctx, 10, 2)
    return {"p": p, "ctx": ctx, "loaded": loaded, "confirmed": len(warm.timings["confirm"]), "rounds": []}


def finish(args, run: dict) -> dict:
    p, ctx, loaded = run["p"], run["ctx"], run["loaded"]
    rounds = run["rounds"]
    completed = sum(r["completed"] for r in rounds)
    seconds = sum(r["seconds"] for r in rounds)
    cpu = sum(sum(r["cpu_s"].values()) for r in rounds)
    steps = {s: {"p50_ms": round(statistics.median(r["steps"][s]["p50_ms"] for r in rounds), 2),
                 "p95_ms": max(r["steps"][s]["p95_ms"] for r in rounds)} for s in STEPS}
    storm = claim_storm(p.base_url, loaded, args.storm)
    timers = timers_fire_once(p.base_url, ctx, args.timers)
    ledger = ledger_matches(p, ctx, run["confirmed"] + completed)
    memory, _ = peak_memory_mb(p.processes)
    errors = sum(r["errors"] for r in rounds)
    return {"flows_per_s": round(completed / seconds, 2) if seconds else None,
            "flows_per_s_by_round": [r["flows_per_s"] for r in rounds],
            "cpu_ms_per_flow": round(1000 * cpu / max(completed, 1), 1), "steps": steps, "errors": errors,
            "first_error": next((r["first_error"] for r in rounds if r["first_error"]), None),
            "claim_storm": storm, "timers": timers, "ledger": ledger, "peak_rss_mb": memory,
            "exact": storm["exactly_one_winner"] and timers["exact"] and ledger["exact"] and not errors}


def main():
    parser = argparser(__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--flows", type=int, default=240, help="flows on each platform, over the rounds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--members", type=int, default=9741)
    parser.add_argument("--communities", type=int, default=39)
    parser.add_argument("--storm", type=int, default=200)
    parser.add_argument("--timers", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as workdir, ExitStack() as stack:
        # both platforms up at once, their flows in alternating rounds: whatever else the machine
        # runs meanwhile weighs on both alike
        runs = {n: start(stack, args, n, os.path.join(workdir, str(n))) for n in (1, 2)}
        for r in range(args.rounds):
            for n, run in runs.items():
                print(f"\n== round {r + 1}: {n} instance(s) of dispatch, scoring, gateway on {args.database} ==")
                _, ours = measured(run["p"], run["p"].base_url, run["ctx"], args.flows // args.rounds,
                                   args.concurrency)
                run["rounds"].append(ours)
        results = {}
        for n, run in runs.items():
            results[n] = res = finish(args, run)
            print(f"\n{n} instance(s): {res['flows_per_s']} flows/s, {res['cpu_ms_per_flow']} CPU-ms a flow; "
                  f"claim storm {res['claim_storm']['winners']} winner(s) of {res['claim_storm']['claimers']}; "
                  f"timers {res['timers']['opened_once']}/{res['timers']['requests']} opened once; ledger "
                  f"{res['ledger']['entries']} entries, {res['ledger']['points']} points for "
                  f"{res['ledger']['confirmed_flows']} flows; exact: {res['exact']}")
    rates = {str(n): r["flows_per_s"] for n, r in results.items()}
    ratio = round(rates["2"] / rates["1"], 2) if rates["1"] else None
    exact = all(r["exact"] for r in results.values())
    print(f"\nflows/s: 1 instance {rates['1']}, 2 instances {rates['2']} (×{ratio}); exact: {exact}")
    print_summary({"bench": "scale", "database": args.database, "instances": 2, "exact": exact,
                   "flows_per_s": rates, "speedup_2_vs_1": ratio,
                   # within 5%: the machine is shared, a run's figures move by about that much
                   "not_slower": bool(ratio and ratio >= 0.95),
                   "cpu_ms_per_flow": {str(n): r["cpu_ms_per_flow"] for n, r in results.items()},
                   "runs": {str(n): r for n, r in results.items()}})


if __name__ == "__main__":
    main()
