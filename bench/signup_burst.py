"""2,000 concurrent sign-ups through the gateway on a 120-place activity.

Starts its own platform (own RabbitMQ vhost, free port, temporary SQLite directory, as the e2e
tests do), loads the members straight into registration's database (no password hashing: their
tokens are issued directly), publishes the activity as 东风社区's staff, then:

- a single sign-up's latency: sequential sign-ups on another activity, one at a time;
- the burst: every member's sign-up released at once, each on its own connection.

It checks exactly ``places`` confirmed, the rest wait-listed in arrival order (arrival = the
service's commit order: sequence numbers 1..N, places to the first ``places``, wait-list
positions in sequence order, and no request that finished before another started ranked after
it), and no error. Last line: the figures as one JSON object.

    python bench/signup_burst.py [--members 2000] [--places 120] [--database-url-dir DIR]
"""

import bisect
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import (  # noqa: E402
    argparser,
    load_members,
    login,
    peak_memory_mb,
    percentiles,
    platform,
    print_summary,
)


def publish(base, staff, title, places, starts):
    resp = staff.post(f"{base}/api/activities", timeout=30, json={
        "title": title, "place": "东风社区文化广场", "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=3)).isoformat(), "places": places})
    resp.raise_for_status()
    return resp.json()


def arrival_order_violations(results) -> int:
    """Pairs where one request finished before another was sent, yet got a later sequence number."""
    done = sorted((r["ended"], r["seq"]) for r in results)
    ends = [e for e, _ in done]
    prefix_max, best = [], 0
    for _, seq in done:
        best = max(best, seq)
        prefix_max.append(best)
    violations = 0
    for r in results:
        i = bisect.bisect_left(ends, r["started"])  # requests ended strictly before this one started
        if i and prefix_max[i - 1] > r["seq"]:
            violations += 1
    return violations


def main():
    parser = argparser(__doc__)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--places", type=int, default=120)
    parser.add_argument("--single", type=int, default=30, help="sequential sign-ups for the single latency")
    args = parser.parse_args()

    from gateway import tokens

    with tempfile.TemporaryDirectory(prefix="baodao-bench-") as tmp, \
            platform(tmp, extra_env={"LOG_LEVEL": "WARNING"}) as p:
        base = p.base_url
        staff, staff_user = login(base, "staff1")
        _, grid = login(base, "grid1")
        community = {**{k: staff_user.get(k) for k in ("district_id", "street_id", "community_id")},
                     "grid_id": grid["grid_id"]}
        started = time.perf_counter()
        principals = load_members(p.urls["registration"], [community], args.members + args.single)
        load_seconds = time.perf_counter() - started
        headers = [{"Authorization": f"Bearer {tokens.issue(member)[0]}"} for member in principals]
        print(f"platform at {base}; {len(principals)} members loaded in {load_seconds:.1f}s")

        # a single sign-up, one at a time, on its own activity (the same day, far from the burst's)
        starts = datetime.now(UTC) + timedelta(days=2)
        single_activity = publish(base, staff, "单次报名延迟", args.single, starts)
        single = []
        with requests.Session() as session:
            for h in headers[args.members:]:
                t0 = time.perf_counter()
                resp = session.post(f"{base}/api/activities/{single_activity['id']}/signup", headers=h, timeout=30)
                single.append(time.perf_counter() - t0)
                assert resp.status_code == 201, resp.text
        single_stats = percentiles(single)
        print(f"single sign-up: p50 {single_stats['p50_ms']} ms, p95 {single_stats['p95_ms']} ms (n={len(single)})")

        activity = publish(base, staff, "登革热防控清洁日（120人）", args.places, starts + timedelta(hours=5))
        url = f"{base}/api/activities/{activity['id']}/signup"
        results, errors = [None] * args.members, []
        gate = threading.Event()
        ready = threading.Semaphore(0)

        def one(i):
            ready.release()
            gate.wait()
            t0 = time.perf_counter()
            try:
                resp = requests.post(url, headers=headers[i], timeout=300)
                t1 = time.perf_counter()
                if resp.status_code != 201:
                    errors.append(f"{resp.status_code} {resp.text[:200]}")
                    return
                body = resp.json()
                results[i] = {"started": t0, "ended": t1, "seq": body["seq"], "status": body["status"],
                              "position": body["position"], "member_id": body["member_id"]}
            except requests.RequestException as exc:
                errors.append(repr(exc))

        threading.stack_size(512 * 1024)
        threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(args.members)]
        for t in threads:
            t.start()
        for _ in threads:
            ready.acquire()
        burst_started = time.perf_counter()
        gate.set()
        for t in threads:
            t.join()
        burst_seconds = time.perf_counter() - burst_started
        done = [r for r in results if r is not None]
        latencies = [r["ended"] - r["started"] for r in done]

        confirmed = sorted(r["seq"] for r in done if r["status"] == "confirmed")
        waiting = sorted((r["seq"], r["position"]) for r in done if r["status"] == "waitlisted")
        seqs = sorted(r["seq"] for r in done)
        roster = staff.get(f"{base}/api/activities/{activity['id']}/signups", timeout=60).json()
        checks = {
            "no_error": not errors and len(done) == args.members,
            "exactly_places_confirmed": len(confirmed) == args.places,
            "rest_waitlisted": len(waiting) == args.members - args.places,
            "sequence_is_1_to_n": seqs == list(range(1, args.members + 1)),
            "places_went_to_the_first_arrivals": confirmed == list(range(1, args.places + 1)),
            "waitlist_positions_follow_arrival": [p for _, p in waiting] == list(range(1, len(waiting) + 1)),
            "roster_agrees": [s["member_id"] for s in roster] == [
                r["member_id"] for r in sorted(done, key=lambda r: r["seq"])],
        }
        violations = arrival_order_violations(done) if done else None
        checks["no_later_arrival_ranked_first"] = violations == 0
        burst_stats = percentiles(latencies)
        print(f"burst: {args.members} concurrent sign-ups on {args.places} places in {burst_seconds:.2f}s "
              f"({args.members / burst_seconds:.0f}/s); per request p50 {burst_stats['p50_ms']} ms, "
              f"p95 {burst_stats['p95_ms']} ms; errors {len(errors)}")
        if errors:
            print(f"  first error: {errors[0]}")
        print(f"  confirmed {len(confirmed)}, wait-listed {len(waiting)}, arrival-order violations {violations}")
        for name, ok in checks.items():
            print(f"  {'OK ' if ok else 'FAIL'} {name}")
        memory, client = peak_memory_mb(p.processes)
        print("peak resident memory (MB): " + ", ".join(f"{k} {v}" for k, v in sorted(memory.items()))
              + f"; this client {client}")
        print_summary({
            "bench": "signup_burst", "members": args.members, "places": args.places,
            "burst_seconds": round(burst_seconds, 3), "burst_signups_per_s": round(args.members / burst_seconds, 1),
            "burst_latency": burst_stats, "single_signup": single_stats,
            "ratio_burst_p50_vs_single_p50": round(burst_stats["p50_ms"] / single_stats["p50_ms"], 1)
            if burst_stats["p50_ms"] and single_stats["p50_ms"] else None,
            "confirmed": len(confirmed), "waitlisted": len(waiting), "errors": len(errors),
            "arrival_order_violations": violations, "checks_passed": all(checks.values()), "checks": checks,
            "peak_rss_mb": memory, "client_peak_rss_mb": client, "database": "sqlite"})
        return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
