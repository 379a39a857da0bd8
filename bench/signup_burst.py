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

import argparse
import bisect
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import percentiles, print_summary  # noqa: E402
from common.config import ROOT, SERVICES  # noqa: E402
from tests import support  # noqa: E402

READY = "按 Ctrl-C 停止全部服务"


def start_platform(tmp: str):
    vhost = f"baodao-bench-{uuid.uuid4().hex[:8]}"
    support.create_vhost(vhost)
    port = support.free_port()
    urls = {name: f"sqlite:///{tmp}/{name}.db" for name in SERVICES}
    env = dict(os.environ, AMQP_URI=support.amqp_uri_for(vhost), GATEWAY_PORT=str(port), BAODAO_DATA_DIR=tmp,
               PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING",
               **{f"{name.upper()}_DATABASE_URL": url for name, url in urls.items()})
    log_path = os.path.join(tmp, "platform.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "cli.main", "run"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        text = open(log_path, errors="replace").read()
        if READY in text:
            return proc, vhost, f"http://127.0.0.1:{port}", urls, env
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    stop_platform(proc, vhost)
    sys.exit("平台未能启动：\n" + open(log_path, errors="replace").read()[-3000:])


def stop_platform(proc, vhost):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    support.delete_vhost(vhost)


def load_members(url: str, community: dict, count: int) -> list[dict]:
    """Users + members rows straight into registration's database; returns their principals."""
    from sqlalchemy import JSON, Boolean, DateTime, Integer, MetaData, create_engine, func, select

    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine, only=["users", "members"])
    users, members = meta.tables["users"], meta.tables["members"]
    now = datetime.now(UTC)
    place = {k: community.get(k) for k in ("district_id", "street_id", "community_id", "grid_id")}

    def complete(table, row):
        # whatever else the table requires (registration's schema grows), a neutral value
        for col in table.columns:
            if col.name in row or col.nullable or col.server_default is not None or col.primary_key:
                continue
            kind = col.type
            row[col.name] = (now if isinstance(kind, DateTime) else [] if isinstance(kind, JSON)
                             else True if isinstance(kind, Boolean) else 0 if isinstance(kind, Integer) else "")
        return {k: v for k, v in row.items() if k in table.c}

    with engine.begin() as conn:
        start = (conn.execute(select(func.max(users.c.id))).scalar() or 0) + 1
        user_rows, member_rows, principals = [], [], []
        for n in range(count):
            uid, phone, name = start + n, f"1770{n:07d}", f"压测党员{n}"
            user_rows.append(complete(users, {"id": uid, "username": phone, "password_hash": None, "role": "member",
                                              "name": name, "phone": phone, "org_unit_id": community["grid_id"],
                                              "created_at": now, "active": True, **place}))
            member_rows.append(complete(members, {
                "id": uid, "name": name, "phone": phone,
                "id_number_hash": hashlib.sha256(f"bench-{uid}-{uuid.uuid4()}".encode()).hexdigest(),
                "community_id": community["community_id"], "grid_id": community["grid_id"], "skills": [],
                "status": "accepted", "registered_at": now, "source": "staff"}))
            principals.append({"user_id": uid, "role": "member", "name": name, "work_unit_id": None,
                               "e_branch_id": None, **place})
        conn.execute(users.insert(), user_rows)
        conn.execute(members.insert(), member_rows)
    engine.dispose()
    return principals


def process_tree_peak_mb(root_pid: int) -> dict:
    """VmHWM of our platform's service processes (not other platforms running on this machine)."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid != root_pid:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
            name = cmd[cmd.index(b"cli.serve") + 1].decode()
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        found[name] = round(int(line.split()[1]) / 1024, 1)
        except (OSError, ValueError, IndexError):
            continue
    return found


def own_peak_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def publish(base, staff_headers, title, places, starts):
    resp = requests.post(f"{base}/api/activities", headers=staff_headers, timeout=30, json={
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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--places", type=int, default=120)
    parser.add_argument("--single", type=int, default=30, help="sequential sign-ups for the single latency")
    args = parser.parse_args()

    from gateway import tokens

    tmp = tempfile.mkdtemp(prefix="baodao-bench-")
    proc, vhost, base, urls, _ = start_platform(tmp)
    try:
        login = requests.post(f"{base}/api/auth/login", json={"username": "staff1", "password": "demo1234"},
                              timeout=30).json()
        staff = login["user"]
        staff_headers = {"Authorization": f"Bearer {login['token']}"}
        grid = requests.post(f"{base}/api/auth/login", json={"username": "grid1", "password": "demo1234"},
                             timeout=30).json()["user"]
        community = {**{k: staff.get(k) for k in ("district_id", "street_id", "community_id")},
                     "grid_id": grid["grid_id"]}
        started = time.perf_counter()
        principals = load_members(urls["registration"], community, args.members + args.single)
        load_seconds = time.perf_counter() - started
        headers = [{"Authorization": f"Bearer {tokens.issue(p)[0]}"} for p in principals]
        print(f"platform at {base}; {len(principals)} members loaded in {load_seconds:.1f}s")

        # a single sign-up, one at a time, on its own activity (the same day, far from the burst's)
        starts = datetime.now(UTC) + timedelta(days=2)
        single_activity = publish(base, staff_headers, "单次报名延迟", args.single, starts)
        single = []
        with requests.Session() as session:
            for h in headers[args.members:]:
                t0 = time.perf_counter()
                resp = session.post(f"{base}/api/activities/{single_activity['id']}/signup", headers=h, timeout=30)
                single.append(time.perf_counter() - t0)
                assert resp.status_code == 201, resp.text
        single_stats = percentiles(single)
        print(f"single sign-up: p50 {single_stats['p50_ms']} ms, p95 {single_stats['p95_ms']} ms (n={len(single)})")

        activity = publish(base, staff_headers, "登革热防控清洁日（120人）", args.places, starts + timedelta(hours=5))
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
        roster = requests.get(f"{base}/api/activities/{activity['id']}/signups", headers=staff_headers,
                              timeout=60).json()
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
        memory = process_tree_peak_mb(proc.pid)
        print("peak resident memory (MB): " + ", ".join(f"{k} {v}" for k, v in sorted(memory.items()))
              + f"; this client {own_peak_mb()}")
        print_summary({
            "bench": "signup_burst", "members": args.members, "places": args.places,
            "burst_seconds": round(burst_seconds, 3), "burst_signups_per_s": round(args.members / burst_seconds, 1),
            "burst_latency": burst_stats, "single_signup": single_stats,
            "ratio_burst_p50_vs_single_p50": round(burst_stats["p50_ms"] / single_stats["p50_ms"], 1)
            if burst_stats["p50_ms"] and single_stats["p50_ms"] else None,
            "confirmed": len(confirmed), "waitlisted": len(waiting), "errors": len(errors),
            "arrival_order_violations": violations, "checks_passed": all(checks.values()), "checks": checks,
            "peak_rss_mb": memory, "client_peak_rss_mb": own_peak_mb(), "database": "sqlite"})
        return 0 if all(checks.values()) else 1
    finally:
        stop_platform(proc, vhost)


if __name__ == "__main__":
    sys.exit(main())
