"""Helpers for tests that use the real broker and databases (never mocks)."""

import os
import socket
import time
from urllib.parse import quote

import psycopg2
import requests
from kombu import Connection

RABBIT_HOST = os.environ.get("RABBIT_HOST", "127.0.0.1")
MANAGEMENT = os.environ.get("RABBIT_MANAGEMENT", f"http://{RABBIT_HOST}:15672")
AUTH = ("guest", "guest")
PG_DSN = os.environ.get("TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432")


def create_vhost(name: str):
    try:
        requests.get(f"{MANAGEMENT}/api/overview", auth=AUTH, timeout=5).raise_for_status()
    except requests.RequestException as exc:
        raise RuntimeError(
            f"RabbitMQ management API not reachable at {MANAGEMENT} ({exc}). Start the broker with "
            "`rabbitmq-server -detached` and enable `rabbitmq-plugins enable rabbitmq_management`, "
            "or run .ci/run, which does both.") from None
    requests.put(f"{MANAGEMENT}/api/vhosts/{quote(name, safe='')}", auth=AUTH, timeout=10).raise_for_status()
    requests.put(f"{MANAGEMENT}/api/permissions/{quote(name, safe='')}/guest", auth=AUTH, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()


def delete_vhost(name: str):
    requests.delete(f"{MANAGEMENT}/api/vhosts/{quote(name, safe='')}", auth=AUTH, timeout=10)


def amqp_uri_for(vhost: str, user: str = "guest", password: str = "guest") -> str:
    return f"amqp://{quote(user, safe='')}:{quote(password, safe='')}@{RABBIT_HOST}:5672/{quote(vhost, safe='')}"


def broker_user(name: str, vhost: str) -> str:
    """A RabbitMQ account for an outside system (as compose's definitions give each one), allowed
    on ``vhost``; returns its AMQP URI. Users are broker-wide: made idempotently, never deleted
    (the permission goes with the test's vhost)."""
    password = f"{name}-test-password"
    requests.put(f"{MANAGEMENT}/api/users/{quote(name, safe='')}", auth=AUTH, timeout=10,
                 json={"password": password, "tags": ""}).raise_for_status()
    requests.put(f"{MANAGEMENT}/api/permissions/{quote(vhost, safe='')}/{quote(name, safe='')}", auth=AUTH,
                 timeout=10, json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    return amqp_uri_for(vhost, name, password)


def queue_info(vhost: str, queue: str) -> dict:
    resp = requests.get(f"{MANAGEMENT}/api/queues/{quote(vhost, safe='')}/{quote(queue, safe='')}",
                        auth=AUTH, timeout=10)
    return resp.json() if resp.status_code == 200 else {}


def queues(vhost: str) -> list[dict]:
    return requests.get(f"{MANAGEMENT}/api/queues/{quote(vhost, safe='')}", auth=AUTH, timeout=10).json()


def get_messages(amqp_uri: str, queue: str, limit: int = 100) -> list:
    """Drain up to ``limit`` messages from a queue (acking them) for inspection."""
    got = []
    with Connection(amqp_uri) as conn:
        q = conn.SimpleQueue(queue)
        try:
            while len(got) < limit:
                try:
                    msg = q.get(timeout=0.5)
                except q.Empty:
                    break
                got.append(msg)
                msg.ack()
        finally:
            q.close()
    return got


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.1, message="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(interval)


def wait_queues_idle(vhost: str, timeout: float = 15.0):
    """Until every queue in the vhost has no ready or unacked message (stats lag ~1s)."""
    def idle():
        qs = queues(vhost)
        # dead letters are parked for a person on purpose; reply queues belong to live callers
        busy = [q for q in qs if not q["name"].startswith("rpc.reply") and q["name"] != "baodao.dead-letters"]
        return qs and all(q.get("messages", 1) == 0 for q in busy)
    time.sleep(1.5)  # management stats refresh interval
    wait_for(idle, timeout, 0.5, "queues to drain")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _admin():
    conn = psycopg2.connect(f"{PG_DSN}/postgres")
    conn.autocommit = True
    return conn


def create_pg_database(name: str) -> str:
    conn = _admin()
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    return f"postgresql+psycopg2://{PG_DSN.split('://', 1)[1]}/{name}"


def drop_pg_database(url: str):
    name = url.rsplit("/", 1)[1]
    conn = _admin()
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()


# ---- actors, the way production makes them -------------------------------------------------

DEMO_PASSWORD = "demo1234"


def sign_in(rpc, username: str, password: str = DEMO_PASSWORD) -> dict:
    """The ``actor`` for RPCs as the gateway makes it: the registration service checks the password
    (the path behind ``POST /api/auth/login``) and the principal is signed as the gateway signs it
    for each request (``common/assertions.py``). ``rpc``: a proxy that reaches registration."""
    from common import assertions

    principal = rpc.registration.authenticate({"username": username, "password": password})
    return assertions.attach(principal, "gateway")


def service_actor(name: str = "cli") -> dict:
    """A service or operator command acting as ``system`` (what ``baodao`` commands and timers sign)."""
    from common import assertions

    return assertions.system(name)


def actors_of(registration_url: str, user_ids) -> list[dict]:
    """Signed actors for accounts that exist in registration's database, each principal made by the
    login path's own ``principal_of`` (the password round left out: for storms of hundreds)."""
    from common import assertions
    from common.db import Store
    from services.registration.models import Base, User
    from services.registration.usecases.accounts import principal_of

    store = Store(Base.metadata, "registration", registration_url, "memory://")
    try:
        with store.sessionmaker() as session:
            return [assertions.attach(principal_of(session, session.get(User, i)), "gateway") for i in user_ids]
    finally:
        store.dispose()


def _test_id(n: int) -> str:
    from services.registration.domain import id_number_check_char

    first17 = f"440604199{n:08d}"
    return first17 + id_number_check_char(first17)


def register_members(registration_url: str, community_id: int, numbers, *, amqp_uri: str = "memory://",
                     **fields) -> list:
    """Accepted members of a community, entered as staff would (in-process, no passwords), one per
    number (phone and ID number derive from it); returns their ids."""
    from common.db import Store
    from services.registration.models import Base
    from services.registration.usecases import members

    store = Store(Base.metadata, "registration", registration_url, amqp_uri)
    try:
        return [members.register_member(store, service_actor(), {
            "name": f"党员{n}", "phone": f"139{n:08d}", "id_number": _test_id(n), "community_id": community_id,
            **fields})["id"] for n in numbers]
    finally:
        store.dispose()


def session_from(source_ip: str):
    """A requests session whose connections come from another loopback address (127.0.0.x): another
    client, as far as per-client limits can tell."""
    from requests.adapters import HTTPAdapter

    class SourceAdapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            kwargs["source_address"] = (source_ip, 0)
            super().init_poolmanager(*args, **kwargs)

    session = requests.Session()
    session.mount("http://", SourceAdapter())
    return session


def personal_data_in_log(text: str) -> list[str]:
    """Lines the platform's processes wrote (``[service] …``) holding an ID number, phone or token.

    The launcher's own banner (the demo logins, whose usernames are demo phones) is not a log line.
    """
    import re

    from common.redaction import ID_NUMBER, PHONE

    token = re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]+|bd_demo_hotline")
    found = []
    for line in text.splitlines():
        if line.startswith("[") or line.startswith("{"):
            if ID_NUMBER.search(line) or PHONE.search(line) or token.search(line):
                found.append(line[:300])
    return found
