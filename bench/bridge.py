"""The bridge under load: AMQP commands in, outcomes out; resends; Open311 POSTs and queries.

Starts what it needs by itself (registration, dispatch, bridge and the gateway as their own
``cli.serve`` processes, a fresh RabbitMQ vhost, SQLite in a temp dir) so it does not depend on a
running ``make run``. Last line: the figures as JSON.

    python bench/bridge.py --commands 300 --posts 200 --concurrency 8
"""

import json
import os
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote

import requests
from kombu import Connection, Exchange, Queue

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import argparser, login, peak_memory_mb, percentiles, platform, print_summary  # noqa: E402
from cli import demo  # noqa: E402
from services.bridge.demo import DEMO_API_KEY, DEMO_SYSTEM  # noqa: E402
from tests import support

PROCESSES = ("registration", "dispatch", "bridge", "gateway")


def run_commands(amqp_uri, community, item_id, count, tag, prefix) -> dict:
    """Publish ``count`` request.place commands and wait for every answer on baodao.public."""
    queue = Queue(f"bench-{uuid.uuid4().hex[:6]}", Exchange("baodao.public", type="topic", durable=True),
                  routing_key="command.*", auto_delete=True)
    sent_at, latencies, answered = {}, [], set()
    vhost = unquote(amqp_uri.rsplit("/", 1)[1])
    # the hotline on its own broker account: the platform knows a sender by RabbitMQ's user_id
    with Connection(amqp_uri) as conn, Connection(support.broker_user(DEMO_SYSTEM, vhost)) as hotline:
        channel = conn.channel()
        bound = queue(channel)
        bound.declare()
        producer = hotline.Producer()
        started = time.perf_counter()
        for n in range(count):
            command_id = f"{prefix}-{n}"
            sent_at[command_id] = time.perf_counter()
            producer.publish({"command_id": command_id, "command_type": "request.place", "version": 1,
                              "source": DEMO_SYSTEM, "data": {
                                  "community_id": community, "menu_item_id": item_id, "fields": {"topic": "family"},
                                  "caller": {"name": "压测来电", "phone": f"139{n:08d}"}}},
                             exchange="baodao.commands", routing_key="request.place", serializer="json",
                             delivery_mode=2, user_id=DEMO_SYSTEM)
        deadline = time.monotonic() + 300
        while len(answered) < count and time.monotonic() < deadline:
            message = bound.get(no_ack=True)
            if message is None:
                time.sleep(0.01)
                continue
            data = json.loads(message.body)["data"]
            if data["command_id"] in sent_at and data["command_id"] not in answered:
                answered.add(data["command_id"])
                latencies.append(time.perf_counter() - sent_at[data["command_id"]])
        elapsed = time.perf_counter() - started
    return {f"{tag}_count": len(answered), f"{tag}_seconds": round(elapsed, 2),
            f"{tag}_per_s": round(len(answered) / elapsed, 1),
            **{f"{tag}_{k}": v for k, v in percentiles(latencies).items() if k != "n"}}


def run_posts(base, community, item_id, count, concurrency) -> dict:
    latencies, errors, lock = [], [], threading.Lock()

    def post(n):
        started = time.perf_counter()
        resp = requests.post(f"{base}/open311/v2/requests.json", timeout=30, data={
            "api_key": DEMO_API_KEY, "jurisdiction_id": community, "service_code": item_id, "last_name": "压",
            "first_name": "测", "phone": f"137{n:08d}", "attribute[topic]": "family"})
        with lock:
            (latencies if resp.status_code == 201 else errors).append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(post, range(count)))
    elapsed = time.perf_counter() - started
    return {"open311_posts": count, "open311_post_errors": len(errors),
            "open311_posts_per_s": round(count / elapsed, 1),
            **{f"open311_post_{k}": v for k, v in percentiles(latencies).items() if k != "n"}}


def main():
    parser = argparser(__doc__)
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="baodao-bench-bridge-") as tmp, \
            platform(tmp, services=PROCESSES, prepare=lambda p: demo.seed(p.urls, p.amqp_uri)) as p:
        base, amqp_uri = p.base_url, p.amqp_uri
        community = login(base, "staff1")[1]["community_id"]
        services = requests.get(f"{base}/open311/v2/services.json", params={"jurisdiction_id": community},
                                timeout=10).json()
        item_id = int(next(s for s in services if s["service_name"] == "法律咨询")["service_code"])
        figures = {"commands": args.commands, "posts": args.posts, "concurrency": args.concurrency}
        figures.update(run_commands(amqp_uri, community, item_id, args.commands, "command", "bench"))
        print(f"命令（request.place）：{figures['command_per_s']} 条/秒，p50 {figures['command_p50_ms']} ms，"
              f"p95 {figures['command_p95_ms']} ms（自发送到收到结果，含排队）")
        figures.update(run_commands(amqp_uri, community, item_id, args.commands, "resend", "bench"))
        print(f"重发（幂等，什么也不做）：{figures['resend_per_s']} 条/秒")
        figures.update(run_posts(base, community, item_id, args.posts, args.concurrency))
        print(f"Open311 POST：{figures['open311_posts_per_s']} 个/秒，p50 {figures['open311_post_p50_ms']} ms，"
              f"p95 {figures['open311_post_p95_ms']} ms，错误 {figures['open311_post_errors']}")
        started = time.perf_counter()
        listed = requests.get(f"{base}/open311/v2/requests.json", timeout=60,
                              params={"api_key": DEMO_API_KEY, "jurisdiction_id": community}).json()
        figures["open311_list_ms"] = round((time.perf_counter() - started) * 1000, 1)
        figures["open311_list_count"] = len(listed)
        print(f"Open311 GET requests.json：{len(listed)} 条，用时 {figures['open311_list_ms']} ms")
        figures["peak_memory_mb"] = peak_memory_mb(p.processes)[0]
        print(f"各进程内存峰值（MB）：{figures['peak_memory_mb']}")
        print_summary(figures)


if __name__ == "__main__":
    main()
