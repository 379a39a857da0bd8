"""Persistence at the edge of every service: engines, a unit of work, and the transactional outbox.

A service's business transaction and the events it raises are written in one commit (the
``outbox`` table); the events are published after that commit, and a periodic relay republishes
any that a crash left behind. Incoming events are recorded in the ``inbox`` table in the same
commit as their effect, so a redelivered event takes effect once.
"""

import functools
import json
import logging
import os
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from kombu import Exchange
from nameko.amqp.publish import Publisher
from nameko.extensions import DependencyProvider
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from common import config, contracts
from common.errors import Conflict
from common.logs import current_request_id

log = logging.getLogger(__name__)

# the relay leaves younger rows alone: they were just published and await a batched mark
RELAY_GRACE_SECONDS = 15.0

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


# a version check that failed means another instance changed the row since we read it:
# the whole unit of work runs again on fresh rows, this many times at most
CONFLICT_ATTEMPTS = 5


def version_id(column) -> dict:
    """``__mapper_args__`` making every ORM UPDATE of a row check and bump its ``version``.

    This is the concurrency control of a row's transitions: it holds on SQLite (where
    ``with_for_update`` does nothing) and on PostgreSQL alike, with any number of instances,
    whatever the scheduler does. A stale write raises ``StaleDataError``: see :func:`retry_on_conflict`.
    """
    return {"version_id_col": column}


def retry_on_conflict(fn, attempts: int = CONFLICT_ATTEMPTS):
    """Run ``fn`` (one whole unit of work: read, decide, write, commit) again when a version
    check failed, so the rules see the row as the other instance left it; a 409 if it keeps losing."""
    for attempt in range(attempts):
        try:
            return fn()
        except StaleDataError:
            log.info("version conflict, attempt %d of %d", attempt + 1, attempts)
    raise Conflict(code="CONCURRENT_UPDATE", message="该记录刚被同时修改，请刷新后重试")


def retried_on_conflict(fn):
    """:func:`retry_on_conflict` as a decorator, for a use case that is one unit of work."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return retry_on_conflict(lambda: fn(*args, **kwargs))

    return wrapper


@contextmanager
def exclusive(store: "Store", table: Table, name: str, busy: Conflict, *, lease_seconds: float = 900.0,
              wait_seconds: float = 120.0):
    """Run a job as the only one named ``name`` across every instance of the service.

    A lease on the job's row in ``table`` (``name``, ``holder``, ``held_until``) is taken by a
    conditional UPDATE in a short transaction of its own — no row or SQLite write lock is held
    while the job runs and yields — waited for while another instance holds it (``busy`` after
    ``wait_seconds``), and released at the end; a crashed holder's lease lapses.
    """
    token = uuid.uuid4().hex
    deadline = time.monotonic() + wait_seconds
    while True:
        now = utcnow()
        with store.engine.begin() as conn:
            won = conn.execute(update(table).where(
                table.c.name == name, or_(table.c.held_until.is_(None), table.c.held_until < now))
                .values(holder=token, held_until=now + timedelta(seconds=lease_seconds))).rowcount
        if won:
            break
        if time.monotonic() > deadline:
            raise busy
        time.sleep(0.2)  # green under eventlet: the other instance's job runs meanwhile
    try:
        yield
    finally:
        with store.engine.begin() as conn:
            conn.execute(update(table).where(table.c.name == name, table.c.holder == token)
                         .values(holder=None, held_until=None))


def new_metadata() -> MetaData:
    """Every service's metadata: constraint names fixed for Alembic, plus outbox and inbox."""
    metadata = MetaData(naming_convention=NAMING)
    Table(
        "outbox",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(80), nullable=False),
        Column("payload", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, index=True),
        Column("published_at", DateTime(timezone=True), index=True),
    )
    Table(
        "inbox",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("message_id", String(80), nullable=False),
        Column("handler", String(120), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
        UniqueConstraint("message_id", "handler", name="uq_inbox_message_handler"),
    )
    return metadata


def pool_sizes() -> tuple[int, int]:
    """A service process's PostgreSQL pool: ``DB_POOL_SIZE`` kept open (default 10, nameko's
    ``max_workers``: a worker holds one connection at a time) and ``DB_POOL_OVERFLOW`` more under a
    burst (default 10). Every process of every instance has its own pool: the server's
    ``max_connections`` must cover them all (docs/operations.md, "Connections")."""
    return int(os.environ.get("DB_POOL_SIZE") or 10), int(os.environ.get("DB_POOL_OVERFLOW") or 10)


def make_engine(url: str, *, monitor=False):
    """A service's engine; ``monitor=True``: the small one its health probe and metrics share."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            # WAL lets the CLI and benchmarks read while the service writes
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if monitor:  # probes and scrapes take turns on one connection (a second under a burst)
        return create_engine(url, pool_size=1, max_overflow=1, pool_timeout=5, pool_pre_ping=True)
    size, overflow = pool_sizes()
    return create_engine(url, pool_size=size, max_overflow=overflow, pool_pre_ping=True)


def upsert(session_or_conn, table):
    """``insert(table)`` of the connection's dialect, with ``on_conflict_do_nothing/do_update``
    (SQLite and PostgreSQL have the same ON CONFLICT clause)."""
    bind = session_or_conn.get_bind() if hasattr(session_or_conn, "get_bind") else session_or_conn
    return (pg_insert if bind.dialect.name == "postgresql" else sqlite_insert)(table)


def envelope(source: str, event_type: str, data: dict, event_id: str | None = None) -> dict:
    """The one shape of every event on the wire (see ``common/contracts.py``)."""
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "event_type": event_type,
        "version": 1,
        "source": source,
        "occurred_at": utcnow().isoformat(),
        "data": data,
        **({"request_id": request_id} if (request_id := current_request_id()) else {}),  # follow a request
    }


class EventPublisher:
    """Publishes envelopes to ``<source>.events``, the topic exchange nameko's handlers bind to."""

    def __init__(self, amqp_uri: str, source: str):
        self.source = source
        self.exchange = Exchange(f"{source}.events", type="topic", durable=True)
        self._publisher = Publisher(amqp_uri, serializer="json")

    def publish(self, payload: dict):
        self._publisher.publish(
            payload,
            exchange=self.exchange,
            routing_key=payload["event_type"],
            declare=[self.exchange],
            message_id=payload["event_id"],
        )


class UnitOfWork:
    """One business transaction: a session, the events it raises, the messages it consumed."""

    def __init__(self, store: "Store"):
        self._store = store
        self.session = store.sessionmaker()
        self._pending: list[dict] = []
        self._committed = False

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self._committed:
            self.session.rollback()
        self.session.close()
        return False

    def emit(self, event_type: str, data: dict) -> dict:
        """Record an event in the outbox, in this transaction; it is published after commit."""
        return self.emit_many(event_type, [data])[0]

    def emit_many(self, event_type: str, items: list[dict]) -> list[dict]:
        """``emit`` for a batch (a roster import): one multi-row outbox insert."""
        payloads = [envelope(self._store.source, event_type, data)
                    for data in contracts.dump_events(event_type, items)]
        if payloads:
            now = utcnow()
            self.session.execute(insert(self._store.outbox), [
                {"event_id": p["event_id"], "event_type": event_type, "created_at": now,
                 "payload": json.dumps(p, ensure_ascii=False)} for p in payloads])
        self._pending.extend(payloads)
        return payloads

    def claim_message(self, message_id: str, handler: str) -> bool:
        """Record that ``handler`` is consuming ``message_id``; False if it already did.

        One statement (INSERT … ON CONFLICT DO NOTHING on the unique key), not a look-up and an
        insert: every consumed event passes here. A concurrent duplicate waits for the first
        copy's transaction and then inserts nothing (PostgreSQL), or runs after it (SQLite).
        """
        stmt = self._store.statement("inbox.claim", lambda: upsert(self.session, self._store.inbox)
                                     .on_conflict_do_nothing(index_elements=["message_id", "handler"]))
        return self.session.execute(stmt, {"message_id": message_id, "handler": handler,
                                           "processed_at": utcnow()}).rowcount == 1

    def commit(self):
        self.session.commit()
        self._committed = True
        if self._pending:
            self._store.publish_committed(self._pending)
            self._pending = []


class Store:
    """A service's database and outbox, usable inside or outside nameko (CLI, tests, benches)."""

    def __init__(self, metadata: MetaData, source: str, url: str, amqp_uri: str):
        self.metadata = metadata
        self.source = source
        self.url = url
        self.amqp_uri = amqp_uri
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.outbox = metadata.tables["outbox"]
        self.inbox = metadata.tables["inbox"]
        self._publisher = None
        self._statements: dict = {}
        self._published_ids: list[str] = []
        self._published_lock = threading.Lock()

    @property
    def publisher(self) -> EventPublisher:
        if self._publisher is None:
            self._publisher = EventPublisher(self.amqp_uri, self.source)
        return self._publisher

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self)

    def statement(self, key: str, build):
        """A hot statement built once for this store (its dialect known), run with parameters:
        building a statement costs SQLAlchemy about twice what running its cached compilation does."""
        stmt = self._statements.get(key)
        if stmt is None:
            stmt = self._statements[key] = build()
        return stmt

    def publish_committed(self, payloads: list[dict]):
        """Best effort right after commit; what fails here the relay sends later.

        Rows are marked published in batches (``flush_published``), not in a second
        transaction per command: the relay only looks at rows older than its grace period.
        """
        try:
            for payload in payloads:
                self.publisher.publish(payload)
        except Exception:  # broker hiccup: the rows stay pending, nothing is lost
            log.warning("outbox: publish after commit failed; relay will retry", exc_info=True)
            return
        with self._published_lock:
            self._published_ids.extend(p["event_id"] for p in payloads)

    def flush_published(self):
        with self._published_lock:
            ids, self._published_ids = self._published_ids, []
        for start in range(0, len(ids), 500):
            with self.engine.begin() as conn:
                conn.execute(update(self.outbox).where(self.outbox.c.event_id.in_(ids[start:start + 500]))
                             .values(published_at=utcnow()))

    def relay_pending(self, older_than_seconds: float = RELAY_GRACE_SECONDS, limit: int = 500) -> int:
        """Publish events committed but never published (a crash between commit and publish).

        Rows are locked with SKIP LOCKED on PostgreSQL so several instances share the work;
        a rare double publish is harmless because every consumer deduplicates on event_id.
        Everything is published first and marked in one UPDATE at the end: on SQLite the read
        takes no lock, so the write lock is never held while waiting on the broker (it would
        stall every other writer of the process, eventlet or not).
        """
        self.flush_published()
        cutoff = utcnow() - timedelta(seconds=older_than_seconds)
        sent: list[int] = []
        with self.sessionmaker() as session:
            query = (
                select(self.outbox.c.id, self.outbox.c.payload)
                .where(self.outbox.c.published_at.is_(None), self.outbox.c.created_at < cutoff)
                .order_by(self.outbox.c.id)
                .limit(limit)
            )
            if self.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = session.execute(query).all()
            try:
                for row in rows:
                    self.publisher.publish(json.loads(row.payload))
                    sent.append(row.id)
            finally:  # what went out is marked, even if the broker failed half way
                if sent:
                    session.execute(update(self.outbox).where(self.outbox.c.id.in_(sent))
                                    .values(published_at=utcnow()))
                session.commit()
        return len(sent)

    def dispose(self):
        try:
            self.flush_published()
        finally:
            self.engine.dispose()


class Database(DependencyProvider):
    """nameko dependency giving each worker the service's :class:`Store`.

    Workers open a unit of work and commit it themselves, inside the entrypoint: nameko sends
    an RPC reply (and acks an event) before ``worker_teardown``, so committing later would let
    a caller see a result that is not yet durable.
    """

    def __init__(self, metadata: MetaData):
        self.metadata = metadata
        self.store = None

    def setup(self):
        name = self.container.service_name
        url = self.container.config.get("DATABASE_URL") or config.database_url(name)
        self.store = Store(self.metadata, name, url, self.container.config["AMQP_URI"])

    def stop(self):
        if self.store:
            self.store.dispose()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self.store


__all__ = ["Database", "IntegrityError", "StaleDataError", "Store", "UnitOfWork", "envelope", "new_metadata",
           "exclusive", "retried_on_conflict", "retry_on_conflict", "upsert", "utcnow", "version_id"]
