"""The thin flow N times with C concurrent clients against a running platform (`make run`).

Each flow: resident submits → member claims → member completes → resident confirms, over HTTP.
Beside it, in the same run, the raw ceiling: plain kombu request/reply round trips on the same
broker for the same number of messages (one per step). Last line: the figures as JSON.

    python bench/flow.py --flows 200 --concurrency 8
"""

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import peak_memory_mb, percentiles, print_summary, raw_request_reply  # noqa: E402
from common.config import amqp_uri  # noqa: E402

STEPS = ("submit", "claim", "complete", "confirm")


def login(base, username, password="demo1234"):
    resp = requests.post(f"{base}/api/auth/login", json={"username": username, "password": password}, timeout=30)
    resp.raise_for_status()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {resp.json()['token']}"
    return session, resp.json()["user"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=f"http://127.0.0.1:{os.environ.get('GATEWAY_PORT', '8000')}")
    parser.add_argument("--flows", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    try:
        requests.get(f"{args.base}/health", timeout=5).raise_for_status()
    except requests.RequestException as exc:
        sys.exit(f"平台未运行或不健康（{args.base}）：{exc}\n请先在另一个终端运行 make run")

    _, resident_user = login(args.base, "resident1")
    menu = requests.get(f"{args.base}/api/communities/{resident_user['community_id']}/menu",
                        headers={"Authorization": login(args.base, "resident1")[0].headers["Authorization"]},
                        timeout=10).json()
    item = next(i for i in menu if i["title"] == "法律咨询")
    local = threading.local()
    timings = {step: [] for step in STEPS}
    errors = []
    lock = threading.Lock()

    def sessions():
        if not hasattr(local, "resident"):
            local.resident, _ = login(args.base, "resident1")
            local.member, _ = login(args.base, "13800000001")  # 张伟, 法律: always offered
        return local.resident, local.member

    def timed(step, fn):
        started = time.perf_counter()
        resp = fn()
        elapsed = time.perf_counter() - started
        if resp.status_code >= 300:
            raise RuntimeError(f"{step}: {resp.status_code} {resp.text[:200]}")
        with lock:
            timings[step].append(elapsed)
        return resp.json()

    def flow(_):
        resident, member = sessions()
        try:
            req = timed("submit", lambda: resident.post(f"{args.base}/api/requests", timeout=30, json={
                "menu_item_id": item["id"], "fields": {"topic": "family"}}))
            rid = req["id"]
            timed("claim", lambda: member.post(f"{args.base}/api/requests/{rid}/claim", timeout=30))
            timed("complete", lambda: member.post(f"{args.base}/api/requests/{rid}/complete", json={}, timeout=30))
            timed("confirm", lambda: resident.post(f"{args.base}/api/requests/{rid}/confirm",
                                                   json={"rating": 5}, timeout=30))
        except Exception as exc:  # counted and shown, the run goes on
            with lock:
                errors.append(str(exc))

    print(f"flows: {args.flows}, concurrency: {args.concurrency}, against {args.base}")
    started = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(flow, range(args.flows)))
    elapsed = time.perf_counter() - started
    done = args.flows - len(errors)
    ours = {"flows": args.flows, "completed": done, "errors": len(errors), "seconds": round(elapsed, 3),
            "flows_per_s": round(done / elapsed, 2),
            "steps": {step: percentiles(timings[step]) for step in STEPS}}
    print(f"platform: {ours['flows_per_s']} flows/s ({done} flows in {elapsed:.1f}s, {len(errors)} errors)")
    for step in STEPS:
        s = ours["steps"][step]
        print(f"  {step:<9} p50 {s['p50_ms']} ms   p95 {s['p95_ms']} ms")
    if errors:
        print(f"  first error: {errors[0]}")

    messages = done * len(STEPS)
    raw = raw_request_reply(amqp_uri(), max(messages, 1), args.concurrency)
    print(f"raw kombu request/reply: {raw['round_trips_per_s']} round trips/s "
          f"(p50 {raw['p50_ms']} ms, p95 {raw['p95_ms']} ms)")
    step_rate = messages / elapsed if elapsed else 0
    ratio = round(step_rate / raw["round_trips_per_s"], 3) if raw["round_trips_per_s"] else None
    print(f"ratio (platform steps/s ÷ raw round trips/s): {ratio}")
    memory = peak_memory_mb()
    print("peak resident memory (MB): " + ", ".join(f"{k} {v}" for k, v in sorted(memory.items())))
    print_summary({"bench": "flow", "platform": ours, "raw_kombu": raw, "ratio_steps_vs_raw": ratio,
                   "peak_rss_mb": memory})


if __name__ == "__main__":
    main()
