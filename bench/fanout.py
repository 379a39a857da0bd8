"""Fan-out benchmark: one notice to N members through the in-app channel, then webhooks to a slow
receiver while other deliveries keep flowing. Starts what it needs itself: its own RabbitMQ vhost,
SQLite databases in a temp dir, and the real registration and notify services as processes.

    python bench/fanout.py --members 10000 --events 100 --slow-seconds 1.0

Beside the fan-out, in the same run: a raw kombu publish (and consume) of the same number of
messages on the same broker, and the ratio. Last line: the figures as one JSON object.
"""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from contextlib import contextmanager  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kombu import Connection, Exchange, Queue  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from bench.common import argparser, peak_memory_mb, percentiles, platform, print_summary  # noqa: E402
from common import assertions  # noqa: E402
from common.config import nameko_config  # noqa: E402
from common.db import EventPublisher, Store, envelope  # noqa: E402
from services.registration import demo as registration_demo  # noqa: E402
from services.registration.domain import id_number_check_char  # noqa: E402
from services.registration.models import Base as RegistrationBase  # noqa: E402
from services.registration.usecases import roster_import  # noqa: E402
from tests import support  # noqa: E402

SYSTEM = {"user_id": None, "role": "system"}
NOTICE = {"title": "关于参加周末环境整治的通知", "body": "请本街道在职党员周六上午到社区报到。"}


def seed_members(url: str, amqp_uri: str, members: int) -> dict:
    store = Store(RegistrationBase.metadata, "registration", url, amqp_uri)
    context: dict = {}
    try:
        registration_demo.seed(store, context)
        communities = context["community_ids"]
        rows = []
        for i in range(members):
            first17 = f"4406041991{i:07d}"
            rows.append({"name": f"党员{i}", "phone": f"15{i:09d}",
                         "id_number": first17 + id_number_check_char(first17),
                         "community_id": communities[i % len(communities)]})
        result = roster_import.import_roster(store, SYSTEM, {"rows": rows, "source": "bench"})
        if result["errors"]:
            sys.exit(f"导入名册失败：{result['errors'][:3]}")
    finally:
        store.dispose()
    return context


RECEIVER = """
import sys, time, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
delay, out = float(sys.argv[1]), open(sys.argv[2], "a", buffering=1)
lock = threading.Lock()
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.startswith("/slow"):
            time.sleep(delay)
        with lock:
            out.write(self.path.strip("/") + "\\n")
        data = b'{"errcode": 0, "errmsg": "ok"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a):
        pass
server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[3])), H)
server.daemon_threads = True
server.serve_forever(poll_interval=0.05)
"""


@contextmanager
def receiver(delay: float, tmp: str):
    """A slow (/slow) and a fast (/fast) webhook receiver in their own plain-threaded process."""
    port, hits = support.free_port(), os.path.join(tmp, "hits.txt")
    open(hits, "w").close()
    proc = subprocess.Popen([sys.executable, "-c", RECEIVER, str(delay), hits, str(port)])

    def count(path):
        with open(hits) as f:
            return sum(1 for line in f if line.strip() == path)

    try:
        yield f"http://127.0.0.1:{port}", count
    finally:
        proc.terminate()
        proc.wait()


def raw_publish(amqp_uri: str, count: int) -> dict:
    """The ceiling: persistent kombu messages into a durable queue, then drained by one consumer."""
    exchange = Exchange("bench-fanout-raw", type="direct", durable=True)
    queue = Queue(f"bench-fanout-raw-{uuid.uuid4().hex[:6]}", exchange, routing_key="raw", durable=True)
    body = {"recipient_id": 0, "kind": "staff_notice", "title": NOTICE["title"], "body": NOTICE["body"]}
    with Connection(amqp_uri) as conn:
        queue(conn.channel()).declare()
        producer = conn.Producer(serializer="json")
        started = time.perf_counter()
        for i in range(count):
            producer.publish({**body, "recipient_id": i}, exchange=exchange, routing_key="raw", delivery_mode=2)
        published = time.perf_counter() - started
        got = 0
        with conn.SimpleQueue(queue) as q:
            while got < count:
                q.get(timeout=10).ack()
                got += 1
        total = time.perf_counter() - started
    return {"messages": count, "publish_s": round(published, 3), "publish_per_s": round(count / published, 1),
            "publish_consume_s": round(total, 3), "publish_consume_per_s": round(count / total, 1)}


def main():
    parser = argparser(__doc__)
    parser.add_argument("--members", type=int, default=10000)
    parser.add_argument("--events", type=int, default=100, help="new needs posted to two receivers")
    parser.add_argument("--slow-seconds", type=float, default=1.0)
    args = parser.parse_args()

    figures = {"members": args.members}
    context = {}

    def prepare(p):  # the roster before the services start: they begin with its events queued
        started = time.perf_counter()
        context.update(seed_members(p.urls["registration"], p.amqp_uri, args.members))
        figures["roster_import_s"] = round(time.perf_counter() - started, 2)

    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp, \
            platform(tmp, services=("registration", "notify"), prepare=prepare,
                     extra_env={"LOG_LEVEL": "WARNING", "NOTIFY_HTTP_TIMEOUT": "5"}) as p:
        amqp_uri = p.amqp_uri
        config = nameko_config(AMQP_URI=amqp_uri)
        with ClusterRpcProxy(config) as rpc:
            # 1. one notice to every member of the street, through the in-app channel
            latencies, stop = [], threading.Event()

            def probe():  # other work keeps being answered during the fan-out
                with ClusterRpcProxy(config) as own:
                    while not stop.is_set():
                        t = time.perf_counter()
                        own.notify.preferences({"user_id": 1, "role": "member"})
                        latencies.append(time.perf_counter() - t)
                        time.sleep(0.05)

            prober = threading.Thread(target=probe, daemon=True)
            prober.start()
            started = time.perf_counter()
            notice = rpc.notify.broadcast(assertions.system("bench"), {**NOTICE, "audience": {"roles": ["member"],
                                                                          "street_id": context["street_id"]}})
            accepted = time.perf_counter() - started
            done = support.wait_for(lambda: (n := rpc.notify.get_notice(assertions.system("bench"), notice["id"]))[
                "status"] == "done" and n, timeout=600, interval=0.2, message="the fan-out")
            elapsed = time.perf_counter() - started
            stop.set()
            prober.join(5)
            figures["fanout"] = {"recipients": done["recipients"], "inbox_messages": done["inbox"],
                                 "broadcast_answer_ms": round(accepted * 1000, 1), "seconds": round(elapsed, 2),
                                 "messages_per_s": round(done["inbox"] / elapsed, 1),
                                 "rpc_during_fanout": percentiles(latencies)}
            print(f"fan-out: {done['inbox']} 条站内信 / {elapsed:.2f} s = {done['inbox'] / elapsed:.0f} 条/秒；"
                  f"期间其他 RPC p50 {figures['fanout']['rpc_during_fanout']['p50_ms']} ms, "
                  f"p95 {figures['fanout']['rpc_during_fanout']['p95_ms']} ms")

            # 2. the ceiling on the same broker, same run
            raw = raw_publish(amqp_uri, done["inbox"])
            figures["raw_kombu"] = raw
            rate = figures["fanout"]["messages_per_s"]
            figures["ratio_fanout_to_raw_publish"] = round(rate / raw["publish_per_s"], 3)
            figures["ratio_fanout_to_raw_publish_consume"] = round(
                figures["fanout"]["messages_per_s"] / raw["publish_consume_per_s"], 3)
            print(f"raw kombu: publish {raw['publish_per_s']}/s, publish+consume {raw['publish_consume_per_s']}/s; "
                  f"ratio {figures['ratio_fanout_to_raw_publish']} / {figures['ratio_fanout_to_raw_publish_consume']}")

            # 3. webhooks: one receiver slow, one fast; the fast one must not wait for the slow one
            with receiver(args.slow_seconds, tmp) as (base, count):
                community = context["community_ids"][0]
                rpc.notify.set_channel(assertions.system("bench"), {"community_id": community, "channel": "wecom",
                                                "config": {"url": f"{base}/slow"}})
                rpc.notify.set_channel(assertions.system("bench"), {"community_id": community, "channel": "webhook",
                                                "config": {"url": f"{base}/fast", "secret": "bench"}})
                publisher = EventPublisher(amqp_uri, "dispatch")
                started = time.monotonic()
                for i in range(args.events):
                    publisher.publish(envelope("dispatch", "request.submitted", {
                        "request_id": i + 1, "community_id": community, "menu_item_id": 1, "title": "法律咨询",
                        "state": "submitted"}))
                support.wait_for(lambda: count("fast") >= args.events, timeout=600, interval=0.1, message="fast hooks")
                fast_done = time.monotonic() - started
                slow_at_fast_done = count("slow")
                support.wait_for(lambda: count("slow") >= args.events, timeout=900, interval=0.2, message="slow hooks")
                slow_done = time.monotonic() - started
                engine = create_engine(p.urls["notify"])
                with engine.connect() as conn:
                    statuses = dict(conn.execute(text("SELECT status, count(*) FROM deliveries GROUP BY status")).all())
                engine.dispose()
                figures["webhooks"] = {"events": args.events, "slow_receiver_s": args.slow_seconds,
                                       "fast_all_sent_s": round(fast_done, 2), "slow_all_sent_s": round(slow_done, 2),
                                       "slow_sent_when_fast_done": slow_at_fast_done,
                                       "fast_per_s": round(args.events / fast_done, 1), "delivery_statuses": statuses}
                print(f"webhooks: {args.events} 条到快接收方用时 {fast_done:.2f} s"
                      f"（此时慢接收方仅收到 {slow_at_fast_done} 条）；"
                      f"慢接收方（每条 {args.slow_seconds}s）全部收到用时 {slow_done:.2f} s；状态 {statuses}")
        services, own = peak_memory_mb(p.processes)
        figures["peak_memory_mb"] = {**services, "bench": own}
        print(f"峰值内存（MB）：{figures['peak_memory_mb']}")
    print_summary(figures)


if __name__ == "__main__":
    main()
