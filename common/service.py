"""What every service shares at its entrypoints: ``rpc``, a health ping and the outbox relay."""

import functools
import inspect

from nameko.exceptions import IncorrectSignature
from nameko.rpc import rpc as nameko_rpc
from nameko.timer import timer
from sqlalchemy import text
from sqlalchemy.exc import DataError

from common import assertions
from common.errors import AppError, Forbidden, ValidationFailed
from common.timers import fire_due


def rpc(fn=None, *, public=False, internal=False):
    """nameko's ``@rpc``; our own errors are expected answers, logged as warnings, not crashes.

    Callers are verified here, the one place: an RPC with an ``actor`` parameter runs only with a
    valid signed assertion in it (``common/assertions.py``) and gets the signed claims in its place;
    ``internal=True`` additionally requires a service acting as ``system`` (lookups for other
    services). An RPC without ``actor`` must say ``public=True`` (the org tree, sign-in, sign-up).

    A value the database refuses (too long for its column, out of its range) is the caller's
    bad input that a schema missed: a 400 with a reason, never a 500.
    """
    if fn is None:
        return functools.partial(rpc, public=public, internal=internal)
    signature = inspect.signature(fn)
    takes_actor = "actor" in signature.parameters
    if not takes_actor and not public and fn.__name__ != "ping":
        raise TypeError(f"rpc {fn.__name__}: takes no actor — add one, or declare @rpc(public=True)")

    @functools.wraps(fn)
    def entrypoint(self, *args, **kwargs):
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError as exc:
            raise IncorrectSignature(str(exc)) from None
        if takes_actor:
            actor = assertions.verify(bound.arguments["actor"])
            if internal and actor.get("role") != "system":
                raise Forbidden(code="INTERNAL_ONLY", message="该接口只供平台内部服务调用")
            bound.arguments["actor"] = actor
        try:
            return fn(*bound.args, **bound.kwargs)
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
