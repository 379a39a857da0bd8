"""Shared by the benchmarks: timing summaries, peak memory of the platform's processes, a raw
kombu request/reply ceiling to compare against in the same run."""

import json
import os
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from kombu import Connection, Consumer, Exchange, Producer, Queue


def percentiles(samples: list[float]) -> dict:
    if not samples:
        return {"p50_ms": None, "p95_ms": None, "n": 0}
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p95_ms": round(p95 * 1000, 2),
            "n": len(ordered)}


def peak_memory_mb() -> dict:
    """VmHWM (peak resident set) of every running ``cli.serve`` process, by service name."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
            if b"cli.serve" not in cmd:
                continue
            name = cmd[cmd.index(b"cli.serve") + 1].decode()
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        found[name] = round(int(line.split()[1]) / 1024, 1)
        except (OSError, ValueError, IndexError):
            continue
    return found


def raw_request_reply(amqp_uri: str, messages: int, concurrency: int) -> dict:
    """The ceiling: plain kombu request/reply round trips with a trivial echo consumer."""
    exchange = Exchange("bench-raw", type="direct", auto_delete=True)
    request_q = Queue(f"bench-raw-{uuid.uuid4().hex[:6]}", exchange, routing_key="echo", auto_delete=True)
    stop = threading.Event()
    ready = threading.Event()

    def echo_server():
        with Connection(amqp_uri) as conn:
            producer = Producer(conn.channel())

            def on_message(body, message):
                producer.publish(body, routing_key=message.properties["reply_to"],
                                 correlation_id=message.properties["correlation_id"], serializer="json")
                message.ack()

            with Consumer(conn, [request_q], callbacks=[on_message], accept=["json"]):
                ready.set()
                while not stop.is_set():
                    try:
                        conn.drain_events(timeout=0.2)
                    except TimeoutError:
                        pass

    server = threading.Thread(target=echo_server, daemon=True)
    server.start()
    ready.wait(10)
    latencies = []
    lock = threading.Lock()

    def client(count):
        with Connection(amqp_uri) as conn:
            reply_q = Queue(f"bench-reply-{uuid.uuid4().hex[:8]}", exclusive=True, auto_delete=True)
            producer = Producer(conn.channel())
            got = {}

            def on_reply(body, message):
                got[message.properties["correlation_id"]] = body
                message.ack()

            with Consumer(conn, [reply_q], callbacks=[on_reply], accept=["json"]):
                for _ in range(count):
                    cid = uuid.uuid4().hex
                    started = time.perf_counter()
                    producer.publish({"n": 1}, exchange=exchange, routing_key="echo", reply_to=reply_q.name,
                                     correlation_id=cid, serializer="json", declare=[exchange])
                    while cid not in got:
                        conn.drain_events(timeout=10)
                    with lock:
                        latencies.append(time.perf_counter() - started)

    per_client = [messages // concurrency + (1 if i < messages % concurrency else 0) for i in range(concurrency)]
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(client, per_client))
    elapsed = time.perf_counter() - started
    stop.set()
    server.join(5)
    return {"round_trips": messages, "seconds": round(elapsed, 3),
            "round_trips_per_s": round(messages / elapsed, 1), **percentiles(latencies)}


def print_summary(figures: dict):
    """The last line of every benchmark: all its figures as one JSON object."""
    print(json.dumps(figures, ensure_ascii=False, sort_keys=True))
