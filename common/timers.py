"""Durable timers: deadlines and reminders kept in the service's database, not in memory.

A service that needs them adds the table to its metadata (``add_timers_table(Base.metadata)``),
schedules inside its unit of work (so a timer exists exactly when the change that needs it
commits), and lists its handlers in ``timer_handlers`` (see ``common.service.ServiceBase``).

Each due timer fires once even with several instances running: an instance first takes a
short lease with a conditional UPDATE, then runs the handler in a unit of work that also marks
the timer fired — if the process dies in between, the lease lapses and another instance takes
it; if two ever race past the lease, only one can flip ``fired_at`` and the other rolls back.
"""

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    select,
    update,
)

from common.db import Store, UnitOfWork, retry_on_conflict, upsert, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def add_timers_table(metadata: MetaData) -> Table:
    return Table(
        "timers",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("kind", String(40), nullable=False),
        Column("ref", String(80), nullable=False),
        Column("due_at", DateTime(timezone=True), nullable=False, index=True),
        Column("payload", Text, nullable=False, default="{}"),
        Column("lease_until", DateTime(timezone=True)),
        Column("fired_at", DateTime(timezone=True), index=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text),
        Column("created_at", DateTime(timezone=True), nullable=False),
        UniqueConstraint("kind", "ref", name="uq_timers_kind_ref"),
    )


def _table(store_or_uow) -> Table:
    store = store_or_uow._store if isinstance(store_or_uow, UnitOfWork) else store_or_uow
    return store.metadata.tables["timers"]


def schedule(uow: UnitOfWork, kind: str, ref, due_at: datetime, payload: dict | None = None):
    """(Re)set the ``kind`` timer of ``ref`` (e.g. "claim_deadline", request id) to ``due_at``.

    One upsert on (kind, ref): a timer that fired or failed before is armed afresh."""
    fresh = {"due_at": due_at, "payload": json.dumps(payload or {}, ensure_ascii=False), "attempts": 0,
             "created_at": utcnow(), "lease_until": None, "fired_at": None, "last_error": None}
    uow.session.execute(uow._store.statement("timers.schedule", lambda: _schedule_statement(uow)),
                        {"kind": kind, "ref": str(ref), **fresh})


def _schedule_statement(uow: UnitOfWork):
    """The upsert of :func:`schedule`, built once per store: the conflicting row takes the new values."""
    stmt = upsert(uow.session, _table(uow))
    return stmt.on_conflict_do_update(index_elements=["kind", "ref"], set_={
        c: stmt.excluded[c] for c in ("due_at", "payload", "attempts", "created_at", "lease_until",
                                      "fired_at", "last_error")})


def cancel(uow: UnitOfWork, kind: str, ref):
    timers = _table(uow)
    uow.session.execute(delete(timers).where(timers.c.kind == kind, timers.c.ref == str(ref),
                                             timers.c.fired_at.is_(None)))


def pending(store: Store, kind: str | None = None) -> list[dict]:
    timers = _table(store)
    query = select(timers).where(timers.c.fired_at.is_(None)).order_by(timers.c.due_at)
    if kind:
        query = query.where(timers.c.kind == kind)
    with store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def fire_due(store: Store, handlers: dict[str, Callable[[UnitOfWork, dict], None]],
             limit: int = 100, lease_seconds: float = 60.0, now: datetime | None = None) -> int:
    """Run the handlers of due timers; returns how many fired. Call it from a @timer entrypoint."""
    timers = _table(store)
    now = now or utcnow()
    with store.engine.connect() as conn:
        due = conn.execute(
            select(timers.c.id).where(
                timers.c.fired_at.is_(None), timers.c.due_at <= now, timers.c.kind.in_(list(handlers)),
                (timers.c.lease_until.is_(None)) | (timers.c.lease_until < now))
            .order_by(timers.c.due_at).limit(limit)).scalars().all()
    fired = 0
    for timer_id in due:
        if _take_lease(store, timer_id, now, lease_seconds):
            fired += _run(store, timer_id, handlers)
    return fired


def _take_lease(store: Store, timer_id: int, now: datetime, lease_seconds: float) -> bool:
    timers = _table(store)
    with store.engine.begin() as conn:
        return conn.execute(
            update(timers)
            .where(timers.c.id == timer_id, timers.c.fired_at.is_(None),
                   (timers.c.lease_until.is_(None)) | (timers.c.lease_until < now))
            .values(lease_until=now + timedelta(seconds=lease_seconds), attempts=timers.c.attempts + 1)
        ).rowcount == 1


def _run(store: Store, timer_id: int, handlers) -> int:
    timers = _table(store)
    try:
        # a handler's row changed by a command meanwhile (its version check failed): run it again
        return retry_on_conflict(lambda: _run_once(store, timer_id, handlers))
    except Exception as exc:  # keep the timer; it retries when the lease lapses, up to a limit
        log.exception("timer %s failed", timer_id)
        with store.engine.begin() as conn:
            attempts = conn.execute(select(timers.c.attempts).where(timers.c.id == timer_id)).scalar() or 0
            values = {"last_error": repr(exc)[:2000]}
            if attempts >= MAX_ATTEMPTS:
                values["fired_at"] = utcnow()  # given up: visible to operators by last_error
            conn.execute(update(timers).where(timers.c.id == timer_id).values(**values))
        return 0


def _run_once(store: Store, timer_id: int, handlers) -> int:
    timers = _table(store)
    with store.uow() as uow:
        now = utcnow()
        # still due and unfired: cancelled (gone), fired elsewhere, or rescheduled meanwhile (the
        # upsert keeps its id but moves due_at) it is not ours to run
        flipped = uow.session.execute(
            update(timers).where(timers.c.id == timer_id, timers.c.fired_at.is_(None), timers.c.due_at <= now)
            .values(fired_at=now)).rowcount
        if flipped != 1:
            return 0
        row = uow.session.execute(select(timers).where(timers.c.id == timer_id)).mappings().first()
        timer = {**row, "payload": json.loads(row["payload"] or "{}")}
        handlers[row["kind"]](uow, timer)
        uow.commit()
        return 1
