"""Idempotency keys: a command retried with the same key returns its first result without acting twice.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from common.db import IntegrityError, Store, UnitOfWork, retry_on_conflict, utcnow
from common.errors import Conflict
from services.dispatch.models import IdempotencyKey

# ---- idempotency -------------------------------------------------------------------------

@dataclass
class Idem:
    """A command's Idempotency-Key, scoped to its caller."""

    scope: str
    key: str | None
    command: str

    @classmethod
    def of(cls, actor: dict, command: str, key: str | None) -> "Idem":
        return cls(f"{actor['role']}:{actor.get('user_id')}", (key or "").strip()[:100] or None, command)

    def replay(self, store: Store) -> dict | list | None:
        if not self.key:
            return None
        with store.sessionmaker() as session:
            row = session.scalar(select(IdempotencyKey).where(
                IdempotencyKey.scope == self.scope, IdempotencyKey.key == self.key))
        if row is None:
            return None
        if row.command != self.command:
            raise Conflict(code="IDEMPOTENCY_KEY_REUSED",
                           message="该幂等键已用于另一项操作，请为新的操作换一个键",
                           details={"command": row.command})
        return row.result

    def save(self, uow: UnitOfWork, result):
        if self.key:
            uow.session.add(IdempotencyKey(scope=self.scope, key=self.key, command=self.command,
                                           result=result, created_at=utcnow()))


def idempotent(store: Store, idem: Idem, fn: Callable[[], dict]):
    """Run ``fn`` once per key: a retry returns the stored first result; a concurrent duplicate
    loses on the key's unique constraint, rolls back, and returns the winner's result.

    ``fn`` is one unit of work; when another instance changed its request (or wish, opinion) in
    between, the version check fails and ``fn`` runs again on the fresh row."""
    done = idem.replay(store)
    if done is not None:
        return done
    try:
        return retry_on_conflict(fn)
    except (IntegrityError, Conflict) as err:
        # a concurrent twin with the same key (a client's retry racing its first attempt, both
        # redelivered after a crash) may have won: its result is this command's result too
        done = idem.replay(store)
        if done is not None:
            return done
        if isinstance(err, Conflict):
            raise
        # a concurrent twin of this command (e.g. the same member claiming twice at once) won
        raise Conflict(code="CONCURRENT_UPDATE", message="该记录刚被同时修改，请刷新后重试") from None


def finish(uow: UnitOfWork, idem: Idem, result):
    idem.save(uow, result)
    uow.commit()
    return result
