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

import argparse
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import percentiles, print_summary, raw_request_reply  # noqa: E402
from common.config import ROOT, SERVICES  # noqa: E402
from tests import support  # noqa: E402

STEPS = ("submit", "offer", "claim", "complete", "confirm")
SKILLS = ["法律", "医疗", "维修", "IT", "教学", "助老", "调解", "心理", "电工", "保洁"]
BENCH_SKILL = "基准服务"
BENCH_MEMBERS = 8  # members of 东风社区 with the benchmark item's skill: the offers rotate among them


def descendants_peak_mb(root_pid: int) -> dict:
    """VmHWM of the platform's own service processes (other platforms may run on this machine)."""
    parents, names = {}, {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                parents[int(pid)] = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
            if b"cli.serve" in cmd:
                names[int(pid)] = cmd[cmd.index(b"cli.serve") + 1].decode()
        except (OSError, ValueError, IndexError):
            continue
    found = {}
    for pid, name in names.items():
        p = pid
        while p in parents and p != root_pid and p > 1:
            p = parents[p]
        if p != root_pid:
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        found[name] = round(int(line.split()[1]) / 1024, 1)
        except OSError:
            pass
    return found


def load_members(url: str, total: int, communities: int) -> dict:
    """Bulk-insert members (and the communities they need) into registration's database."""
    from sqlalchemy import func, insert, select

    from common.db import Store
    from services.registration import usecases
    from services.registration.models import Base, Member, MemberSkill, OrgUnit, User

    store = Store(Base.metadata, "registration", url, "memory://")
    password = usecases.hash_password("demo1234")
    with store.sessionmaker() as s:
        street = s.scalar(select(OrgUnit).where(OrgUnit.kind == "street"))
        district_id = street.parent_id
        existing = s.scalars(select(OrgUnit).where(OrgUnit.kind == "community").order_by(OrgUnit.id)).all()
        places = []  # (community_id, grid_id, building_id)
        for c in existing:
            grid = s.scalar(select(OrgUnit).where(OrgUnit.parent_id == c.id, OrgUnit.kind == "grid"))
            building = s.scalar(select(OrgUnit).where(OrgUnit.parent_id == grid.id))
            places.append((c.id, grid.id, building.id if building else None))
        for n in range(len(existing), communities):
            c = OrgUnit(kind="community", name=f"基准社区{n + 1}", parent_id=street.id)
            s.add(c)
            s.flush()
            g = OrgUnit(kind="grid", name="第一网格", parent_id=c.id)
            s.add(g)
            s.flush()
            b = OrgUnit(kind="building", name="1栋", parent_id=g.id)
            s.add(b)
            s.flush()
            places.append((c.id, g.id, b.id))
        next_id = (s.scalar(select(func.max(User.id))) or 0) + 1
        users, members, skills = [], [], []
        bench_ids, dongfeng_ids = [], []
        for i in range(total):
            community_id, grid_id, building_id = places[i % len(places)]
            uid = next_id + i
            phone = f"15{i:09d}"
            mine = [SKILLS[i % len(SKILLS)], SKILLS[(i // 7) % len(SKILLS)]]
            if community_id == places[0][0]:
                dongfeng_ids.append(uid)
                if len(bench_ids) < BENCH_MEMBERS:
                    mine.append(BENCH_SKILL)
                    bench_ids.append(uid)
            mine = list(dict.fromkeys(mine))
            users.append({"id": uid, "username": phone, "password_hash": password, "role": "member",
                          "name": f"党员{i}", "phone": phone, "org_unit_id": building_id or grid_id,
                          "district_id": district_id, "street_id": street.id, "community_id": community_id,
                          "grid_id": grid_id})
            members.append({"id": uid, "name": f"党员{i}", "phone": phone,
                            "id_number_hash": hashlib.sha256(f"bench-{i}".encode()).hexdigest(),
                            "community_id": community_id, "grid_id": grid_id, "building_id": building_id,
                            "skills": mine, "status": "accepted"})
            skills += [{"member_id": uid, "skill": k, "community_id": community_id} for k in mine]
        for table, rows in ((User, users), (Member, members), (MemberSkill, skills)):
            for start in range(0, len(rows), 2000):
                s.execute(insert(table), rows[start:start + 2000])
        s.commit()
    store.dispose()
    return {"community_id": places[0][0], "grid_id": places[0][1], "street_id": street.id,
            "district_id": district_id, "bench_ids": bench_ids, "dongfeng_ids": dongfeng_ids,
            "communities": len(places), "members": total}


def start_platform(workdir: str, vhost: str, args):
    from cli import demo
    from common.migrations import upgrade

    port = support.free_port()
    urls = {name: f"sqlite:///{workdir}/{name}.db" for name in SERVICES}
    amqp = support.amqp_uri_for(vhost)
    env = dict(os.environ, AMQP_URI=amqp, GATEWAY_PORT=str(port), BAODAO_DATA_DIR=workdir, PYTHONUNBUFFERED="1",
               **{f"{name.upper()}_DATABASE_URL": url for name, url in urls.items()})
    for name in SERVICES:
        upgrade(name, urls[name])
    demo.seed(urls, amqp)
    started = time.perf_counter()
    loaded = load_members(urls["registration"], args.members, args.communities)
    print(f"loaded {loaded['members']} members in {loaded['communities']} communities "
          f"in {time.perf_counter() - started:.1f}s")
    log_path = os.path.join(workdir, "platform.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "cli.main", "run"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    support.wait_for(lambda: "按 Ctrl-C 停止全部服务" in open(log_path).read() or proc.poll() is not None,
                     timeout=180, interval=0.5, message="the platform to start")
    if proc.poll() is not None:
        sys.exit(open(log_path).read()[-3000:])
    return proc, f"http://127.0.0.1:{port}", loaded, amqp


def session_for(base, token):
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64)
    s.mount("http://", adapter)
    return s


def login(base, username):
    resp = requests.post(f"{base}/api/auth/login", json={"username": username, "password": "demo1234"}, timeout=30)
    resp.raise_for_status()
    return session_for(base, resp.json()["token"]), resp.json()["user"]


def member_token(member_id, loaded):
    from gateway import tokens

    token, _ = tokens.issue({"user_id": member_id, "role": "member", "name": f"党员{member_id}",
                             "district_id": loaded["district_id"], "street_id": loaded["street_id"],
                             "community_id": loaded["community_id"], "grid_id": loaded["grid_id"],
                             "work_unit_id": None, "e_branch_id": None})
    return token


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
    members = {m: session_for(base, member_token(m, loaded)) for m in loaded["bench_ids"]}
    timings = {step: [] for step in STEPS}
    errors = []
    lock = threading.Lock()

    def timed(step, fn):
        started = time.perf_counter()
        resp = fn()
        elapsed = time.perf_counter() - started
        if resp.status_code >= 300:
            raise RuntimeError(f"{step}: {resp.status_code} {resp.text[:200]}")
        with lock:
            timings[step].append(elapsed)
        return resp.json()

    def flow(n):
        try:
            req = timed("submit", lambda: resident.post(f"{base}/api/requests", timeout=30,
                                                        json={"menu_item_id": item_id, "description": f"第{n}单"}))
            rid = req["id"]
            offered = timed("offer", lambda: staff.post(f"{base}/api/requests/{rid}/accept", json={}, timeout=30))
            member = members[offered["offered_to"][0]]
            timed("claim", lambda: member.post(f"{base}/api/requests/{rid}/claim", timeout=30))
            timed("complete", lambda: member.post(f"{base}/api/requests/{rid}/complete", json={}, timeout=30))
            timed("confirm", lambda: resident.post(f"{base}/api/requests/{rid}/confirm", json={"rating": 5},
                                                   timeout=30))
        except Exception as exc:  # counted and shown, the run goes on
            with lock:
                errors.append(str(exc))

    started = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(flow, range(args.flows)))
    elapsed = time.perf_counter() - started
    done = args.flows - len(errors)
    return {"flows": args.flows, "completed": done, "errors": len(errors), "first_error": errors[0] if errors else None,
            "seconds": round(elapsed, 3), "flows_per_s": round(done / elapsed, 2),
            "steps": {step: percentiles(timings[step]) for step in STEPS}}


def claim_storm(base, loaded, size):
    staff, _ = login(base, "staff1")
    need = staff.post(f"{base}/api/communities/{loaded['community_id']}/needs", timeout=30,
                      json={"title": "基准抢单", "members_needed": 1}).json()
    claimers = [session_for(base, member_token(m, loaded)) for m in loaded["dongfeng_ids"][:size]]
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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flows", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--members", type=int, default=9741)
    parser.add_argument("--communities", type=int, default=39)
    parser.add_argument("--storm", type=int, default=200)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="bench-dispatch-")
    vhost = f"baodao-bench-{os.getpid()}"
    support.create_vhost(vhost)
    proc = None
    try:
        proc, base, loaded, amqp = start_platform(workdir, vhost, args)
        print(f"platform up at {base}; flows: {args.flows}, concurrency: {args.concurrency}")
        ours = run_flows(base, args, loaded)
        print(f"platform: {ours['flows_per_s']} flows/s ({ours['completed']} flows in {ours['seconds']}s, "
              f"{ours['errors']} errors)")
        for step in STEPS:
            s = ours["steps"][step]
            print(f"  {step:<9} p50 {s['p50_ms']} ms   p95 {s['p95_ms']} ms")
        if ours["first_error"]:
            print(f"  first error: {ours['first_error']}")
        messages = max(ours["completed"] * len(STEPS), 1)
        raw = raw_request_reply(amqp, messages, args.concurrency)
        print(f"raw kombu request/reply: {raw['round_trips_per_s']} round trips/s "
              f"(p50 {raw['p50_ms']} ms, p95 {raw['p95_ms']} ms)")
        step_rate = messages / ours["seconds"] if ours["seconds"] else 0
        ratio = round(step_rate / raw["round_trips_per_s"], 3) if raw["round_trips_per_s"] else None
        print(f"ratio (platform steps/s ÷ raw round trips/s): {ratio}")
        storm = claim_storm(base, loaded, args.storm)
        print(f"claim storm: {storm['claimers']} members, {storm['winners']} won, {storm['conflicts']} got 409 "
              f"({', '.join(storm['codes'])}), {storm['other']} other, in {storm['seconds']}s; "
              f"exactly one winner: {storm['exactly_one_winner']}")
        memory = descendants_peak_mb(proc.pid)
        print("peak resident memory (MB): " + ", ".join(f"{k} {v}" for k, v in sorted(memory.items())))
        print_summary({"bench": "dispatch", "members_loaded": loaded["members"],
                       "communities": loaded["communities"], "platform": ours, "raw_kombu": raw,
                       "ratio_steps_vs_raw": ratio, "claim_storm": storm, "peak_rss_mb": memory})
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        support.delete_vhost(vhost)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
