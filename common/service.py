"""What every service shares at its entrypoints: ``rpc``, a health ping and the outbox relay."""

import functools
import inspect
import logging

from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.exceptions import IncorrectSignature
from nameko.rpc import Responder, Rpc, RpcConsumer, get_rpc_exchange
from nameko.timer import timer
from sqlalchemy import text
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError

from common import assertions
from common.errors import AppError, Conflict, Forbidden, Unavailable, ValidationFailed
from common.logs import RequestContext
from common.messaging import BrokerError, RecoverableConnectionError
from common.metrics import outbox_lag
from common.timers import fire_due

log = logging.getLogger(__name__)


class _Responder(Responder):
    """Sends a reply without waiting for a publisher confirm (nameko waits for one per reply).

    The reply goes to the caller's own transient reply queue; a confirm only proves the broker
    took it, and a reply lost with a dropped connection is the caller's timeout either way (and
    commands are idempotent by key). The round trip it saves is on every call.
    """

    publisher_cls = functools.partial(Publisher, use_confirms=False)


class _RpcConsumer(RpcConsumer):
    def handle_result(self, message, result, exc_info):  # nameko's, with _Responder
        config = self.container.config
        responder = _Responder(config[AMQP_URI_CONFIG_KEY], get_rpc_exchange(config),
                               config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
                               ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY))
        try:
            result, exc_info = responder.send_response(result, exc_info)
        except (BrokerError, RecoverableConnectionError, ConnectionError) as exc:
            # the broker went away: nameko would let this kill the whole container. Leave the
            # request unacked — it is redelivered once we reconnect, and commands are idempotent.
            log.warning("reply to %s not sent, broker unreachable (%s); left for redelivery",
                        message.properties.get("reply_to"), exc)
            return result, exc_info
        self.queue_consumer.ack_message(message)
        return result, exc_info


class _Rpc(Rpc):
    rpc_consumer = _RpcConsumer()


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
        except (OperationalError, InterfaceError, PoolTimeout):  # the database unreachable, or its pool busy, for now
            raise Unavailable(code="DATABASE_UNAVAILABLE", message="数据库暂时不可用，请稍后重试") from None
        except StaleDataError:  # another instance changed the row, and the use case did not retry
            raise Conflict(code="CONCURRENT_UPDATE", message="该记录刚被同时修改，请刷新后重试") from None

    return _Rpc.decorator(expected_exceptions=(AppError,))(entrypoint)


class ServiceBase:
    """Mixed into each service class; expects a ``db`` (:class:`common.db.Database`)."""

    request_context = RequestContext()  # the request id on every log line; RPC latency

    @rpc
    def ping(self) -> dict:
        with self.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"service": self.name, "database": self.db.engine.dialect.name,
                "outbox": outbox_lag(self.db.engine)}

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
