"""Shared by the benchmarks: a platform of their own to run against, logins, timed request flows,
members loaded straight into registration's database, peak memory of the platform's processes,
and a raw kombu request/reply ceiling to compare against in the same run."""

import argparse
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
from kombu import Connection, Consumer, Exchange, Producer, Queue
from requests.adapters import HTTPAdapter

from common.config import ROOT, SERVICES
from tests import support

READY = "按 Ctrl-C 停止全部服务"  # what `cli.main run` prints once every process answers /health
PASSWORD = "demo1234"  # every demo account's


def argparser(doc: str) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def percentiles(samples: list[float]) -> dict:
    if not samples:
        return {"p50_ms": None, "p95_ms": None, "n": 0}
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p95_ms": round(p95 * 1000, 2),
            "n": len(ordered)}


# --- a platform of the benchmark's own --------------------------------------------------------------

@contextmanager
def vhost():
    """A RabbitMQ vhost of this run's own (never "/": tests and other people share the broker)."""
    name = f"baodao-bench-{uuid.uuid4().hex[:8]}"
    support.create_vhost(name)
    try:
        yield name
    finally:
        support.delete_vhost(name)


@dataclass
class Platform:
    base_url: str
    amqp_uri: str
    vhost: str
    env: dict  # what every process was started with
    urls: dict  # service → database URL, for the services started
    log_path: str
    processes: list = field(default_factory=list)  # `cli.main run`, or one `cli.serve` per service


@contextmanager
def databases(kind: str, workdir, names=SERVICES):
    """One empty database per service: SQLite files in ``workdir``, or PostgreSQL databases of this
    run's own (dropped at the end). ``kind``: "sqlite" or "postgresql"."""
    if kind == "sqlite":
        yield {n: f"sqlite:///{workdir}/{n}.db" for n in names}
        return
    run = uuid.uuid4().hex[:8]
    urls = {}
    try:
        for n in names:
            urls[n] = support.create_pg_database(f"bd_bench_{n[:4]}_{run}")
        yield urls
    finally:
        for url in urls.values():
            support.drop_pg_database(url)


@contextmanager
def platform(workdir, services=None, extra_env=None, urls=None, prepare=None, scale=None):
    """Start a platform on an own vhost and a free gateway port, databases in ``workdir`` (or ``urls``).

    ``services=None``: the whole platform as ``make run`` starts it (it seeds the demo when
    registration's database is empty), with ``scale`` passed as ``--scale`` ("dispatch=2,…");
    else only those processes (``"gateway"`` among them if wanted), one ``cli.serve`` each.
    ``prepare(platform)`` loads data after the migration, before any process starts. Yields the
    :class:`Platform` once it answers; on exit stops every process (SIGTERM, then kill) and deletes
    the vhost.
    """
    names = [s for s in (services or SERVICES) if s != "gateway"]
    urls = {n: (urls or {}).get(n) or f"sqlite:///{workdir}/{n}.db" for n in names}
    port = support.free_port()
    from common import secrets

    # as `baodao run` does: random secrets (here, into the environment this process and every
    # platform it starts share, so its own tokens and the demo's hashes match theirs)
    secrets.ensure_generated(workdir)
    with vhost() as name:
        amqp = support.amqp_uri_for(name)
        # the benchmarks' receivers listen on loopback: allow-listed (see common/outbound.py)
        env = {"OUTBOUND_ALLOW": "127.0.0.1", **os.environ,
               "AMQP_URI": amqp, "GATEWAY_PORT": str(port), "BAODAO_DATA_DIR": str(workdir),
               "PYTHONUNBUFFERED": "1", **{f"{n.upper()}_DATABASE_URL": u for n, u in urls.items()},
               **(extra_env or {})}
        p = Platform(f"http://127.0.0.1:{port}", amqp, name, env, urls, os.path.join(workdir, "platform.log"))
        try:
            with open(p.log_path, "w") as log:
                def start(*args, **kw):
                    return subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, **kw)

                if start("cli.main", "migrate", *names).wait():
                    raise RuntimeError(f"migration failed:\n{_log(p)[-3000:]}")
                if services is not None:
                    # only the started services' queues (`declare-queues` makes every service's, and events
                    # for one that is not running would pile up); nameko imported only where needed
                    from common.topology import declare_all

                    declare_all(amqp, names=names)
                if prepare:
                    prepare(p)
                if services is None:
                    p.processes.append(start("cli.main", "run", *(["--scale", scale] if scale else [])))
                else:  # own session: a Ctrl-C reaches only this script, which stops them in order
                    p.processes += [start("cli.serve", s, start_new_session=True) for s in services]
            ready = (lambda: READY in _log(p)) if services is None else (lambda: _serving(p, services))
            support.wait_for(lambda: any(proc.poll() is not None for proc in p.processes) or ready(),
                             timeout=180, interval=0.5, message="the platform to start")
            if any(proc.poll() is not None for proc in p.processes):
                raise RuntimeError(f"the platform did not start:\n{_log(p)[-3000:]}")
            yield p
        finally:
            _stop(p.processes)


def _log(p: Platform) -> str:
    with open(p.log_path, errors="replace") as f:
        return f.read()


def _serving(p: Platform, services) -> bool:
    """Every service consumes its RPC queue and the gateway, if started, reaches them all."""
    try:
        with Connection(p.amqp_uri) as conn:
            for name in services:
                if name != "gateway" and not conn.channel().queue_declare(f"rpc-{name}", passive=True).consumer_count:
                    return False
        if "gateway" in services:
            checks = requests.get(f"{p.base_url}/health", timeout=10).json()["checks"]
            return all(checks.get(n) == "ok" for n in p.urls)
        return True
    except Exception:  # a queue not declared yet, the gateway not listening yet
        return False


def _stop(processes, timeout: float = 30):
    tree = _tree(processes)  # `cli.main run`'s children too, in case it must be killed
    for proc in reversed(processes):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in processes:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for pid in tree:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            proc.wait()


# --- peak memory ---------------------------------------------------------------------------------

def _tree(roots) -> dict[int, list[str]]:
    """The processes descended from ``roots`` (pids or Popen objects), themselves included: pid → argv."""
    roots = {getattr(r, "pid", r) for r in ([roots] if isinstance(roots, int) else roots)}
    parents, argv = {}, {}
    for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
        try:
            with open(f"/proc/{pid}/stat") as f:
                parents[pid] = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv[pid] = f.read().decode(errors="replace").split("\0")
        except (OSError, ValueError, IndexError):
            continue
    found = {}
    for pid, cmd in argv.items():
        up = pid
        while up not in roots and up > 1:
            up = parents.get(up, 0)
        if up in roots:
            found[pid] = cmd
    return found


def _vm_hwm_mb(pid) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(round(int(line.split()[1]) / 1024, 1) for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return None


def peak_memory_mb(roots=()) -> tuple[dict, float]:
    """Peak resident memory (VmHWM, MB) of the ``cli.serve <name>`` processes among ``roots`` (a pid, or
    the Popen objects a benchmark started) and their descendants, by name — not other platforms on this
    machine — and of this benchmark's own process."""
    found = {}
    for pid, cmd in _tree(roots).items():
        if "cli.serve" in cmd and (mb := _vm_hwm_mb(pid)) is not None:
            found[cmd[cmd.index("cli.serve") + 1]] = mb
    return found, _vm_hwm_mb(os.getpid())


def cpu_seconds(roots) -> dict[str, float]:
    """CPU time so far (user + system, seconds) of the processes descended from ``roots``: each
    ``cli.serve <name>`` summed per name (N instances count together), everything else (the
    launcher, which also relays every child's log lines) as "launcher"."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[str, float] = {}
    for pid, cmd in _tree(roots).items():
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = cmd[cmd.index("cli.serve") + 1] if "cli.serve" in cmd else "launcher"
        found[name] = found.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return found


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    return {k: round(after[k] - before.get(k, 0.0), 3) for k in sorted(after)}


def platform_root(base_url: str) -> list[int]:
    """For a platform we did not start: the parent of the process listening on its gateway's port,
    that is the `cli.main run` all its processes descend from ([] if not on this machine)."""
    port = urlsplit(base_url).port
    sockets = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                    sockets.add(f"socket:[{cols[9]}]")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in sockets for fd in os.listdir(f"/proc/{pid}/fd")):
                with open(f"/proc/{pid}/stat") as f:
                    return [int(f.read().rsplit(")", 1)[1].split()[1])]
        except OSError:
            continue
    return []


# --- clients -------------------------------------------------------------------------------------

def session(token: str) -> requests.Session:
    """A signed-in session; its pool lets the threads that share it each keep a connection."""
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    s.mount("http://", HTTPAdapter(pool_connections=4, pool_maxsize=64))
    return s


def login(base: str, username: str, password: str = PASSWORD) -> tuple[requests.Session, dict]:
    resp = requests.post(f"{base}/api/auth/login", json={"username": username, "password": password}, timeout=30)
    resp.raise_for_status()
    return session(resp.json()["token"]), resp.json()["user"]


class Flows:
    """Request flows from a thread pool, every step timed; a failed step ends its flow as an error."""

    def __init__(self, base: str, steps: tuple[str, ...]):
        self.base, self.steps = base, steps
        self.timings = {step: [] for step in steps}
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def step(self, name: str, call):
        started = time.perf_counter()
        resp = call()
        elapsed = time.perf_counter() - started
        if resp.status_code >= 300:
            raise RuntimeError(f"{name}: {resp.status_code} {resp.text[:200]}")
        with self.lock:
            self.timings[name].append(elapsed)
        return resp.json()

    def finish(self, rid: int, member, resident):
        """The steps every flow ends with: the member claims and completes, the resident confirms."""
        url = f"{self.base}/api/requests/{rid}"
        self.step("claim", lambda: member.post(f"{url}/claim", timeout=30))
        self.step("complete", lambda: member.post(f"{url}/complete", json={}, timeout=30))
        self.step("confirm", lambda: resident.post(f"{url}/confirm", json={"rating": 5}, timeout=30))

    def run(self, flow, count: int, concurrency: int) -> dict:
        def guarded(n):
            try:
                flow(n)
            except Exception as exc:  # counted and shown, the run goes on
                with self.lock:
                    self.errors.append(str(exc))

        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(guarded, range(count)))
        elapsed = time.perf_counter() - started
        done = count - len(self.errors)
        return {"flows": count, "completed": done, "errors": len(self.errors), "seconds": round(elapsed, 3),
                "flows_per_s": round(done / elapsed, 2),
                "steps": {step: percentiles(self.timings[step]) for step in self.steps}}

    def compare(self, ours: dict, amqp_uri: str, concurrency: int) -> tuple[dict, float | None]:
        """Print the flows' figures beside raw kombu round trips for as many messages (one a step)."""
        print(f"platform: {ours['flows_per_s']} flows/s ({ours['completed']} flows in {ours['seconds']:.1f}s, "
              f"{ours['errors']} errors)")
        for step in self.steps:
            s = ours["steps"][step]
            print(f"  {step:<9} p50 {s['p50_ms']} ms   p95 {s['p95_ms']} ms")
        if self.errors:
            print(f"  first error: {self.errors[0]}")
        messages = max(ours["completed"] * len(self.steps), 1)
        raw = raw_request_reply(amqp_uri, messages, concurrency)
        print(f"raw kombu request/reply: {raw['round_trips_per_s']} round trips/s "
              f"(p50 {raw['p50_ms']} ms, p95 {raw['p95_ms']} ms)")
        step_rate = messages / ours["seconds"] if ours["seconds"] else 0
        ratio = round(step_rate / raw["round_trips_per_s"], 3) if raw["round_trips_per_s"] else None
        print(f"ratio (platform steps/s ÷ raw round trips/s): {ratio}")
        return raw, ratio


# --- data ----------------------------------------------------------------------------------------

def load_members(url: str, places: list[dict], count: int, skills=lambda i: []) -> list[dict]:
    """``count`` accepted members straight into registration's database, member i in
    ``places[i % len(places)]`` (district/street/community/grid ids, a building_id if any) with
    ``skills(i)``: no use case, no events, no password (their tokens are issued directly, so the
    benchmark measures what it is about). Returns each one's principal, in order.

    The tables are reflected, not imported: registration's models would bring nameko and eventlet
    into a client that reports its own memory."""
    from sqlalchemy import JSON, Boolean, DateTime, Integer, MetaData, create_engine, func, select

    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine, only=["users", "members", "member_skills"])
    users, members, member_skills = (meta.tables[t] for t in ("users", "members", "member_skills"))
    now = datetime.now(UTC)

    def complete(table, row):  # whatever else the table requires (registration's schema grows), a neutral value
        for col in table.columns:
            if col.name not in row and not (col.nullable or col.server_default is not None or col.primary_key):
                kind = col.type
                row[col.name] = (now if isinstance(kind, DateTime) else [] if isinstance(kind, JSON)
                                 else True if isinstance(kind, Boolean) else 0 if isinstance(kind, Integer) else "")
        return row

    with engine.begin() as conn:
        start = (conn.execute(select(func.max(users.c.id))).scalar() or 0) + 1
        rows = {users: [], members: [], member_skills: []}
        principals = []
        for i in range(count):
            place, uid, phone, name, mine = places[i % len(places)], start + i, f"177{i:08d}", f"压测党员{i}", skills(i)
            ids = {k: place.get(k) for k in ("district_id", "street_id", "community_id", "grid_id")}
            rows[users].append(complete(users, {
                "id": uid, "username": phone, "password_hash": None, "role": "member", "name": name, "phone": phone,
                "org_unit_id": place.get("building_id") or place["grid_id"], "created_at": now, "active": True,
                **ids}))
            rows[members].append(complete(members, {
                "id": uid, "name": name, "phone": phone,
                "id_number_hash": hashlib.sha256(f"bench-{uid}".encode()).hexdigest(),
                "community_id": place["community_id"], "grid_id": place["grid_id"],
                "building_id": place.get("building_id"), "skills": mine, "status": "accepted",
                "registered_at": now, "source": "staff"}))
            rows[member_skills] += [{"member_id": uid, "skill": k, "community_id": place["community_id"]}
                                    for k in mine]
            principals.append({"user_id": uid, "role": "member", "name": name, "work_unit_id": None,
                               "e_branch_id": None, **ids})
        for table, table_rows in rows.items():
            for at in range(0, len(table_rows), 2000):
                conn.execute(table.insert(), table_rows[at:at + 2000])
        if engine.dialect.name == "postgresql":  # explicit ids: move the sequence past them
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))")
    engine.dispose()
    return principals


# --- the ceiling ---------------------------------------------------------------------------------

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
