"""How every service consumes events: once, after commit, and never silently dropped.

``consumes(source, event_type)`` wraps nameko's ``event_handler``:
- the envelope and its data are validated against the shared contract;
- the handler runs in a unit of work whose inbox row makes a redelivery a no-op;
- only a repeated ``event_id`` is a duplicate: any other integrity failure gets one fresh attempt
  (a row made by a concurrent handler is then seen) and is then dead-lettered with its reason, as
  is a message that can never succeed (bad payload, a business rule);
- a passing fault (database or broker unreachable, a service not answering) is retried with
  backoff ``MAX_ATTEMPTS`` times in all, then dead-lettered as ``TRANSIENT_EXHAUSTED``. The bridge's
  command consumer follows the same rule (``retry_pause``, ``MAX_ATTEMPTS``, ``TRANSIENT``).

Dead letters and their ``x-reason`` carry no ID numbers or phones (``common.redaction``) and no
SQL text: a database error is named by its class and constraint only.
"""

import functools
import logging
import os

import eventlet
from amqp.exceptions import RecoverableConnectionError
from kombu import Exchange, Queue
from kombu.exceptions import OperationalError as BrokerError
from marshmallow import ValidationError
from nameko.amqp.publish import Publisher
from nameko.events import SERVICE_POOL, EventHandler
from nameko.exceptions import UnknownService
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError

from common import contracts, metrics
from common.config import durable_queue_arguments
from common.db import utcnow
from common.errors import AppError
from common.logs import handled_event, mark_outcome
from common.redaction import redact, redact_text

log = logging.getLogger(__name__)

DEAD_LETTER_EXCHANGE = Exchange("baodao.dead-letter", type="topic", durable=True)
DEAD_LETTER_QUEUE = Queue(
    "baodao.dead-letters", exchange=DEAD_LETTER_EXCHANGE, routing_key="#", durable=True,
    queue_arguments=durable_queue_arguments(),
)
# a passing fault: the database, the broker or a service is unreachable for now; or another
# instance changed the row meanwhile (StaleDataError) and a second attempt reads it fresh
TRANSIENT = (OperationalError, InterfaceError, PoolTimeout, ConnectionError, TimeoutError, BrokerError,
             RecoverableConnectionError, UnknownService, StaleDataError)
MAX_ATTEMPTS = int(os.environ.get("EVENT_MAX_ATTEMPTS", "8"))
INTEGRITY_ATTEMPTS = 2  # an integrity failure that is not a duplicate: once more, then dead-lettered
RETRY_BASE_SECONDS = float(os.environ.get("EVENT_RETRY_BASE_SECONDS", "1"))
RETRY_CAP_SECONDS = 30.0


def retry_pause(attempt: int, base: float | None = None) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based): 1, 2, 4 … capped at 30 s.

    Eight attempts span about 90 s: a database restart or a broker failover is ridden out, a
    fault that lasts longer reaches an operator as a dead letter instead of looping.
    """
    base = RETRY_BASE_SECONDS if base is None else base
    return min(base * 2 ** (attempt - 1), RETRY_CAP_SECONDS)


def describe_error(err: BaseException) -> str:
    """A failure as one line fit for a header: no SQL statement, no parameters, no PII."""
    if isinstance(err, DBAPIError):
        orig = err.orig
        constraint = getattr(getattr(orig, "diag", None), "constraint_name", None)
        first_line = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
        if constraint:
            return f"{type(orig).__name__} (constraint {constraint})"
        # SQLite names the column, never the value: "UNIQUE constraint failed: inbox.message_id"
        return f"{type(orig).__name__}: {redact_text(first_line)[:200]}"
    return redact_text(f"{type(err).__name__}: {err}")[:500]


def dead_letter(amqp_uri: str, body, reason: str, *, service: str, handler: str, routing_key: str,
                attempts: int = 0):
    """Park a message for an operator, with its reason; ID numbers and phones scrubbed from both."""
    Publisher(amqp_uri, serializer="json").publish(
        redact(body),
        exchange=DEAD_LETTER_EXCHANGE,
        routing_key=routing_key,
        declare=[DEAD_LETTER_QUEUE],
        headers={
            "x-reason": redact_text(reason)[:2000],
            "x-service": service,
            "x-handler": handler,
            "x-failed-at": utcnow().isoformat(),
            "x-attempts": attempts,
        },
    )
    log.warning("dead-lettered %s for %s: %s", routing_key, handler, redact_text(reason)[:200])
    code = reason.split(":", 1)[0][:40]
    metrics.DEAD_LETTERED.labels(service, code).inc()
    mark_outcome("error" if code in ("HANDLER_ERROR", "TRANSIENT_EXHAUSTED") else "rejected")


def _consumed(store, message_id: str, handler: str) -> bool:
    inbox = store.inbox
    with store.engine.connect() as conn:
        return conn.execute(select(inbox.c.id).where(
            inbox.c.message_id == message_id, inbox.c.handler == handler)).first() is not None


class DurableEventHandler(EventHandler):
    """nameko's event handler, its queue declared with the same arguments as ``baodao
    declare-queues`` gives it (quorum queues when ``QUORUM_QUEUES=1``; see ``common.config``)."""

    def setup(self):
        super().setup()  # builds self.queue; the queue consumer declares it only when it starts
        if self.handler_type is SERVICE_POOL:
            self.queue.queue_arguments = {**(self.queue.queue_arguments or {}), **durable_queue_arguments()}


def consumes(source: str, event_type: str):
    """Decorate ``def handler(self, uow, event)``; ``event`` is the validated envelope."""

    def decorator(fn):
        handler_name = fn.__qualname__

        @functools.wraps(fn)
        def observed(self, body):
            with handled_event(self.db.source, handler_name, body):
                wrapper(self, body)

        def wrapper(self, body):
            store = self.db

            def park(reason, attempts=0):
                dead_letter(store.amqp_uri, body, reason, service=store.source, handler=handler_name,
                            routing_key=event_type, attempts=attempts)

            try:
                event = contracts.load_event(body, expected_type=event_type)
            except ValidationError as err:
                park(f"INVALID_EVENT: {err.messages}")
                return
            attempt = 0
            while True:
                attempt += 1
                try:
                    with store.uow() as uow:
                        if not uow.claim_message(event["event_id"], handler_name):
                            mark_outcome("duplicate")
                            return
                        fn(self, uow, event)
                        uow.commit()
                    return
                except IntegrityError as err:
                    try:
                        duplicate = _consumed(store, event["event_id"], handler_name)
                    except TRANSIENT:
                        failure = err  # cannot tell yet: a passing fault, retried below
                    else:
                        if duplicate:  # a concurrent copy of the same event won the inbox row
                            log.info("duplicate %s %s ignored", event_type, event["event_id"])
                            mark_outcome("duplicate")
                            return
                        if attempt < INTEGRITY_ATTEMPTS:
                            # another event's handler may have made the same row at the same moment
                            # (the first sight of a member, say): a fresh attempt sees it and goes on
                            log.info("integrity failure on %s (%s); one fresh attempt", event_type,
                                     describe_error(err))
                            continue
                        park(f"INTEGRITY_ERROR: {describe_error(err)}")
                        return
                except AppError as err:
                    park(f"{err.code}: {err.message}")
                    return
                except TRANSIENT as err:
                    failure = err
                except Exception as err:  # a bug: keep the message for an operator, do not loop
                    log.exception("handler %s failed", handler_name)
                    park(f"HANDLER_ERROR: {describe_error(err)}")
                    return
                if attempt >= MAX_ATTEMPTS:
                    park(f"TRANSIENT_EXHAUSTED: {attempt} 次尝试均失败：{describe_error(failure)}", attempt)
                    return
                log.warning("transient failure on %s (attempt %s of %s): %s; retrying", event_type, attempt,
                            MAX_ATTEMPTS, describe_error(failure))
                eventlet.sleep(retry_pause(attempt))

        # requeue_on_error: if even dead-lettering fails (the broker went away), nameko requeues
        return DurableEventHandler.decorator(source, event_type, requeue_on_error=True)(observed)

    return decorator
