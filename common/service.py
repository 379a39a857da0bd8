"""What every service shares at its entrypoints: ``rpc``, a health ping and the outbox relay."""

import functools
import inspect

from nameko.exceptions import IncorrectSignature
from nameko.rpc import rpc as nameko_rpc
from nameko.timer import timer
from sqlalchemy import text
from sqlalchemy.exc import DataError

from common.errors import AppError, ValidationFailed
from common.timers import fire_due


def rpc(fn):
    """nameko's ``@rpc``; our own errors are expected answers, logged as warnings, not crashes.

    A value the database refuses (too long for its column, out of its range) is the caller's
    bad input that a schema missed: a 400 with a reason, never a 500.
    """
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def entrypoint(self, *args, **kwargs):
        try:
            signature.bind(self, *args, **kwargs)
        except TypeError as exc:
            raise IncorrectSignature(str(exc)) from None
        try:
            return fn(self, *args, **kwargs)
        except (DataError, OverflowError):
            raise ValidationFailed(code="VALUE_OUT_OF_RANGE",
                                   message="提交的数据超出允许的长度或范围，请精简后重试") from None

    return nameko_rpc(expected_exceptions=(AppError,))(entrypoint)


class ServiceBase:
    """Mixed into each service class; expects a ``db`` (:class:`common.db.Database`)."""

    @rpc
    def ping(self) -> dict:
        with self.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"service": self.name, "database": self.db.engine.dialect.name}

    @timer(interval=5)
    def relay_outbox(self):
        self.db.relay_pending()

    def timer_handlers(self) -> dict:
        """Durable timer kind → ``handler(uow, timer)``; services with deadlines override this."""
        return {}

    @timer(interval=1)
    def fire_timers(self):
        handlers = self.timer_handlers()
        if handlers:
            fire_due(self.db, handlers)
