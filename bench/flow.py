"""The thin flow N times with C concurrent clients against a running platform (`make run`).

Each flow: resident submits → member claims → member completes → resident confirms, over HTTP.
Beside it, in the same run, the raw ceiling: plain kombu request/reply round trips on the same
broker for the same number of messages (one per step). Last line: the figures as JSON.

    python bench/flow.py --flows 200 --concurrency 8
"""

import os
import sys
import threading

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import Flows, argparser, login, peak_memory_mb, platform_root, print_summary  # noqa: E402
from common.config import amqp_uri  # noqa: E402

STEPS = ("submit", "claim", "complete", "confirm")


def main():
    parser = argparser(__doc__)
    parser.add_argument("--base", default=f"http://127.0.0.1:{os.environ.get('GATEWAY_PORT', '8000')}")
    parser.add_argument("--flows", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    try:
        requests.get(f"{args.base}/health", timeout=5).raise_for_status()
    except requests.RequestException as exc:
        sys.exit(f"平台未运行或不健康（{args.base}）：{exc}\n请先在另一个终端运行 make run")

    resident, resident_user = login(args.base, "resident1")
    menu = resident.get(f"{args.base}/api/communities/{resident_user['community_id']}/menu", timeout=10).json()
    item = next(i for i in menu if i["title"] == "法律咨询")
    local = threading.local()
    flows = Flows(args.base, STEPS)

    def flow(_):
        if not hasattr(local, "resident"):  # each thread its own pair of sessions
            local.resident, _ = login(args.base, "resident1")
            local.member, _ = login(args.base, "13800000001")  # 张伟, 法律: always offered
        req = flows.step("submit", lambda: local.resident.post(f"{args.base}/api/requests", timeout=30, json={
            "menu_item_id": item["id"], "fields": {"topic": "family"}}))
        flows.finish(req["id"], local.member, local.resident)

    print(f"flows: {args.flows}, concurrency: {args.concurrency}, against {args.base}")
    ours = flows.run(flow, args.flows, args.concurrency)
    raw, ratio = flows.compare(ours, amqp_uri(), args.concurrency)
    memory, _ = peak_memory_mb(platform_root(args.base))
    print("peak resident memory (MB): " + ", ".join(f"{k} {v}" for k, v in sorted(memory.items())))
    print_summary({"bench": "flow", "platform": ours, "raw_kombu": raw, "ratio_steps_vs_raw": ratio,
                   "peak_rss_mb": memory})


if __name__ == "__main__":
    main()
