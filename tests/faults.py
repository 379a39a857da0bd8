"""The fault suite's own infrastructure: a RabbitMQ node, a PostgreSQL instance and the platform's
processes, each started by the test on its own ports and data directories (never the shared
broker or database), plus the resident flow driven over HTTP and the effects counted in the
services' databases.

Everything talks to 127.0.0.1 only. Children get SIGKILL if the test process dies.
"""

import glob
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from common.config import ROOT, SERVICES
from tests import support

PROCESSES = (*SERVICES, "gateway")
RABBIT_BIN = "/usr/lib/rabbitmq/bin"


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _die_with_parent():
    from cli.process import set_parent_death_signal

    set_parent_death_signal(signal.SIGKILL)


def _port_open(port) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class RabbitNode:
    """A RabbitMQ node of the test's own: own node name, ports, mnesia and log directories."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="bd-fault-rabbit-"))
        os.chown(self.dir, _uid("rabbitmq"), -1)
        (self.dir / "enabled_plugins").write_text("[].\n")
        self.port, self.dist_port = _free_ports(2)
        self.node = f"bdfault{uuid.uuid4().hex[:8]}@localhost"
        self.env = {"HOME": "/var/lib/rabbitmq", "RABBITMQ_NODENAME": self.node,
                    "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "RABBITMQ_NODE_PORT": str(self.port),
                    "RABBITMQ_DIST_PORT": str(self.dist_port), "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
                    "RABBITMQ_LOG_BASE": str(self.dir / "log"),
                    "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
                    "RABBITMQ_PID_FILE": str(self.dir / "node.pid"), "RABBITMQ_CONFIG_FILE": str(self.dir / "none")}
        self.proc = None
        self.uri = f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def _as_rabbitmq(self, program, *args):
        env = [f"{k}={v}" for k, v in self.env.items()]
        return ["runuser", "-u", "rabbitmq", "--", "env", *env, f"{RABBIT_BIN}/{program}", *args]

    def start(self, timeout=60):
        log = open(self.dir / "server.out", "a")  # noqa: SIM115 - lives as long as the node
        self.proc = subprocess.Popen(self._as_rabbitmq("rabbitmq-server"), stdout=log, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)
        support.wait_for(lambda: _port_open(self.port), timeout=timeout, interval=0.2, message="RabbitMQ node up")

    def stop(self):
        if self.proc is None:
            return
        subprocess.run(self._as_rabbitmq("rabbitmqctl", "-n", self.node, "shutdown"), capture_output=True,
                       timeout=60)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def _queues(self) -> list[str]:
        out = subprocess.run(self._as_rabbitmq("rabbitmqctl", "-n", self.node, "list_queues", "-q",
                                               "--no-table-headers", "name", "messages"),
                             capture_output=True, text=True, timeout=60)
        return out.stdout.splitlines()

    def queue_depth(self) -> int:
        """Messages waiting in the services' event queues and the command queue (a passive
        declare each: milliseconds, where rabbitmqctl takes a second)."""
        from kombu import Connection

        from common.topology import COMMANDS_QUEUE, event_queues, service_class

        names = [q.name for name in SERVICES for q in event_queues(service_class(name))] + [COMMANDS_QUEUE.name]
        try:
            with Connection(self.uri, connect_timeout=3) as conn:
                channel = conn.channel()
                return sum(channel.queue_declare(queue=name, passive=True).message_count for name in names)
        except Exception:  # the node is restarting: not drained
            return -1

    def dead_letters(self) -> int:
        for line in self._queues():
            parts = line.split()
            if parts and parts[0] == "baodao.dead-letters":
                return int(parts[-1])
        return 0

    def dead_letter_reasons(self) -> list[str]:
        """What parked each dead letter (its handler and ``x-reason``), for a failure's message."""
        return [f"{m.headers.get('x-handler')} ({m.delivery_info.get('routing_key')}): {m.headers.get('x-reason')}"
                for m in support.get_messages(self.uri, "baodao.dead-letters")]

    def close(self):
        self.stop()
        subprocess.run(["rm", "-rf", str(self.dir)], check=False)


def _uid(user):
    import pwd

    return pwd.getpwnam(user).pw_uid


class Postgres:
    """A PostgreSQL instance of the test's own (initdb refuses root: run as ``postgres``)."""

    def __init__(self):
        self.bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
        self.dir = Path(tempfile.mkdtemp(prefix="bd-fault-pg-"))
        os.chmod(self.dir, 0o755)
        os.chown(self.dir, _uid("postgres"), -1)
        self.data = self.dir / "data"
        (self.port,) = _free_ports(1)
        self._pg("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def _pg(self, program, *args, check=True):
        return subprocess.run(["runuser", "-u", "postgres", "--", f"{self.bin}/{program}", *args], check=check,
                              capture_output=True, text=True, timeout=120)

    def start(self):
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "pg.log"), "-w", "-o",
                 f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                 "-c synchronous_commit=off -c max_connections=200", "start")

    def stop(self):
        self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def url(self, name):
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{name}"

    def create_database(self, name):
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        conn.autocommit = True
        conn.cursor().execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return self.url(name)

    def close(self):
        self.stop()
        subprocess.run(["rm", "-rf", str(self.dir)], check=False)


class Processes:
    """The platform as separate processes (``python -m cli.serve <name>``) the test may kill -9."""

    def __init__(self, amqp_uri, urls, workdir):
        self.port = _free_ports(1)[0]
        self.workdir = Path(workdir)
        self.env = dict(os.environ, AMQP_URI=amqp_uri, GATEWAY_PORT=str(self.port), BAODAO_DATA_DIR=str(workdir),
                        PYTHONUNBUFFERED="1", RPC_TIMEOUT="8", LOG_LEVEL="WARNING",
                        # notify's own retry waits and the lease a killed sender leaves behind shortened, as its
        # tests do (30 s and 120 s by default): the suite then settles in seconds
                        NOTIFY_RETRY_BASE_SECONDS="1", NOTIFY_LEASE_SECONDS="10",
                        **{f"{n.upper()}_DATABASE_URL": u for n, u in urls.items()})
        self.env.pop("BAODAO_LAUNCHER_PID", None)
        self.urls = urls
        self.procs: dict[str, subprocess.Popen] = {}
        self.base = f"http://127.0.0.1:{self.port}"
        self.restarts = Counter()

    def cli(self, *args):
        done = subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr

    def prepare(self):
        # the six migrations side by side: the slowest part of starting on PostgreSQL
        migrations = [subprocess.Popen([sys.executable, "-m", "cli.main", "migrate", name], cwd=ROOT, env=self.env,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                      for name in self.urls]
        for proc in migrations:
            out, _ = proc.communicate(timeout=300)
            assert proc.returncode == 0, out
        self.cli("declare-queues")
        self.cli("seed-demo")

    def start(self, name):
        log = open(self.workdir / f"{name}.log", "a")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen([sys.executable, "-m", "cli.serve", name], cwd=ROOT, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)

    def start_all(self):
        for name in PROCESSES:
            self.start(name)
        self.wait_healthy()

    def wait_healthy(self, timeout=90):
        def healthy():
            try:
                return requests.get(self.base + "/health", timeout=3).status_code == 200
            except requests.RequestException:
                return False

        support.wait_for(healthy, timeout=timeout, interval=0.3, message="the platform healthy")

    def kill9(self, name):
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def restart(self, name):
        self.start(name)
        self.restarts[name] += 1

    def alive(self) -> list[str]:
        return [n for n, p in self.procs.items() if p.poll() is None]

    def stop_all(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- the flow and its effects ----------------------------------------------------------------

MEMBERS = ("13800000001", "13800000002", "13800000003", "13800000004")  # 东风社区 (community 3)


class Flows:
    """Residents order, members claim and complete, residents confirm — retried like a real client
    (same Idempotency-Key for a retried step) through whatever the faults do to the platform."""

    def __init__(self, base, tag, step_deadline=120.0):
        self.base, self.tag, self.step_deadline = base, tag, step_deadline
        self.resident = self._login("resident1")
        self.members = [self._login(m) for m in MEMBERS]
        # open to every member of the community at once, so each flow's member may claim
        staff = self._login("staff1")
        resp = staff.put(self.base + "/api/communities/3/dispatch-policy", timeout=20,
                         json={"auto_accept": True, "offer_top_k": 0, "open_after_minutes": 60})
        assert resp.status_code == 200, resp.text
        self.ids: dict[int, int] = {}
        self.server_errors = Counter()
        self.retries = 0
        self.failures: list[str] = []
        self.lock = threading.Lock()

    def _login(self, username):
        session = requests.Session()
        for _ in range(100):
            try:
                resp = session.post(self.base + "/api/auth/login", json={"username": username, "password": "demo1234"},
                                    timeout=10)
                if resp.status_code == 200:
                    session.headers["Authorization"] = f"Bearer {resp.json()['token']}"
                    return session
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise AssertionError(f"cannot log in as {username}")

    def _call(self, session, path, body, key, ok):
        deadline = time.monotonic() + self.step_deadline
        while time.monotonic() < deadline:
            try:
                resp = session.post(self.base + path, json=body, timeout=20, headers={"Idempotency-Key": key})
            except requests.RequestException:
                resp = None
            if resp is not None and resp.status_code in ok:
                return resp.json()
            with self.lock:
                self.retries += 1
                if resp is not None and resp.status_code >= 500 and resp.status_code != 503:
                    self.server_errors[f"{resp.status_code} {path.split('/')[-1]}"] += 1
            if resp is not None and 400 <= resp.status_code < 500:
                raise AssertionError(f"{path} → {resp.status_code} {resp.text[:300]}")
            time.sleep(0.3)
        raise AssertionError(f"{path} did not succeed within {self.step_deadline:.0f} s")

    def one(self, n):
        key = f"{self.tag}-{n}"
        try:
            made = self._call(self.resident, "/api/requests", {"menu_item_id": 1, "fields": {"topic": "family"},
                                                               "description": key}, f"{key}-submit", (201,))
            rid = made["id"]
            member = self.members[n % len(self.members)]
            self._call(member, f"/api/requests/{rid}/claim", {}, f"{key}-claim", (200,))
            self._call(member, f"/api/requests/{rid}/complete", {"reason": "已完成"}, f"{key}-complete", (200,))
            self._call(self.resident, f"/api/requests/{rid}/confirm", {"rating": 5}, f"{key}-confirm", (200,))
            with self.lock:
                self.ids[n] = rid
        except AssertionError as err:
            with self.lock:
                self.failures.append(f"flow {n}: {err}")

    def run_while(self, fault, concurrency, at_least):
        """Start flows on ``concurrency`` clients until ``fault`` has finished and ``at_least``
        have started: flows are in flight throughout the fault. Returns the number started."""
        started = [0]
        lock = threading.Lock()
        done = threading.Event()

        def worker():
            while True:
                with lock:
                    if done.is_set() and started[0] >= at_least:
                        return
                    n = started[0]
                    started[0] += 1
                self.one(n)

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        try:
            fault()
        finally:
            done.set()
        for thread in threads:
            thread.join(300)
        return started[0]


def count_effects(urls: dict, tag: str) -> dict:
    """Per flow (its description is its tag): requests made, final states, ledger credits, notices
    and inbox messages — read from each service's own database."""
    effects = {}
    dispatch = create_engine(urls["dispatch"])
    with dispatch.connect() as conn:
        rows = conn.execute(text("SELECT id, description, state FROM requests WHERE description LIKE :t"),
                            {"t": f"{tag}-%"}).all()
    dispatch.dispose()
    by_flow: dict[str, list] = {}
    for rid, description, state in rows:
        by_flow.setdefault(description, []).append((rid, state))
    ids = {rid for rid, _, _ in rows}
    scoring = create_engine(urls["scoring"])
    with scoring.connect() as conn:
        credits = Counter(int(key.split(":")[1]) for (key,) in conn.execute(
            text("SELECT entry_key FROM ledger WHERE entry_key LIKE 'request:%'")) if int(key.split(":")[1]) in ids)
    scoring.dispose()
    notify = create_engine(urls["notify"])
    with notify.connect() as conn:
        notices = {}
        for notice_id, data in conn.execute(text("SELECT id, data FROM notices")):
            data = json.loads(data) if isinstance(data, str) else (data or {})
            if data.get("request_id") in ids:
                notices[notice_id] = data["request_id"]
        messages = Counter(notices[nid] for (nid,) in conn.execute(text("SELECT notice_id FROM messages"))
                           if nid in notices)
    notify.dispose()
    effects["flows"] = by_flow
    effects["credits"] = credits
    effects["notices"] = Counter(notices.values())
    effects["messages"] = messages
    return effects


def verdict(effects: dict, flows: Flows, expected_notices: int, expected_messages: int) -> dict:
    """Lost and doubled effects over every flow the driver completed (a flow the driver could not
    complete counts as lost too)."""
    lost = doubled = 0
    problems = []
    for n, rid in sorted(flows.ids.items()):
        made = effects["flows"].get(f"{flows.tag}-{n}", [])
        checks = {
            "request": (len(made), 1),
            "closed": (sum(1 for _, s in made if s == "closed"), 1),
            "credit": (effects["credits"].get(rid, 0), 1),
            "notices": (effects["notices"].get(rid, 0), expected_notices),
            "messages": (effects["messages"].get(rid, 0), expected_messages),
        }
        for what, (got, want) in checks.items():
            if got < want:
                lost += 1
                problems.append(f"flow {n} (request {rid}): {what} {got} < {want}")
            elif got > want:
                doubled += 1
                problems.append(f"flow {n} (request {rid}): {what} {got} > {want}")
    return {"lost": lost + len(flows.failures), "missing": lost, "doubled": doubled,
            "problems": problems + flows.failures}
