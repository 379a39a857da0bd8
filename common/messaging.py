"""How every service consumes events: once, after commit, and never silently dropped.

``consumes(source, event_type)`` wraps nameko's ``event_handler``:
- the envelope and its data are validated against the shared contract;
- the handler runs in a unit of work whose inbox row makes a redelivery a no-op;
- a message that can never succeed (bad payload, a business rule) goes to the dead-letter
  queue with its reason; a passing fault (database or broker down) is requeued after a pause.
"""

import functools
import logging

import eventlet
from kombu import Exchange, Queue
from marshmallow import ValidationError
from nameko.amqp.publish import Publisher
from nameko.events import event_handler
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from common import contracts
from common.db import utcnow
from common.errors import AppError

log = logging.getLogger(__name__)

DEAD_LETTER_EXCHANGE = Exchange("baodao.dead-letter", type="topic", durable=True)
DEAD_LETTER_QUEUE = Queue(
    "baodao.dead-letters", exchange=DEAD_LETTER_EXCHANGE, routing_key="#", durable=True
)
# StaleDataError: another instance changed the row meanwhile; the redelivery reads it fresh
TRANSIENT = (OperationalError, ConnectionError, OSError, StaleDataError)
RETRY_PAUSE_SECONDS = 2.0


def dead_letter(amqp_uri: str, body, reason: str, *, service: str, handler: str, routing_key: str):
    Publisher(amqp_uri, serializer="json").publish(
        body,
        exchange=DEAD_LETTER_EXCHANGE,
        routing_key=routing_key,
        declare=[DEAD_LETTER_QUEUE],
        headers={
            "x-reason": reason[:2000],
            "x-service": service,
            "x-handler": handler,
            "x-failed-at": utcnow().isoformat(),
        },
    )
    log.warning("dead-lettered %s for %s: %s", routing_key, handler, reason[:200])


def consumes(source: str, event_type: str):
    """Decorate ``def handler(self, uow, event)``; ``event`` is the validated envelope."""

    def decorator(fn):
        handler_name = fn.__qualname__

        @functools.wraps(fn)
        def wrapper(self, body):
            store = self.db
            try:
                event = contracts.load_event(body, expected_type=event_type)
            except ValidationError as err:
                dead_letter(store.amqp_uri, body, f"INVALID_EVENT: {err.messages}",
                            service=store.source, handler=handler_name, routing_key=event_type)
                return
            try:
                with store.uow() as uow:
                    if not uow.claim_message(event["event_id"], handler_name):
                        return
                    fn(self, uow, event)
                    uow.commit()
            except IntegrityError:
                # a concurrent copy of the same event won the inbox row
                log.info("duplicate %s %s ignored", event_type, event["event_id"])
            except AppError as err:
                dead_letter(store.amqp_uri, body, f"{err.code}: {err.message}",
                            service=store.source, handler=handler_name, routing_key=event_type)
            except TRANSIENT:
                log.warning("transient failure on %s; requeueing", event_type, exc_info=True)
                eventlet.sleep(RETRY_PAUSE_SECONDS)
                raise
            except Exception as err:  # a bug: keep the message for an operator, do not loop
                log.exception("handler %s failed", handler_name)
                dead_letter(store.amqp_uri, body, f"HANDLER_ERROR: {err!r}",
                            service=store.source, handler=handler_name, routing_key=event_type)

        return event_handler(source, event_type, requeue_on_error=True)(wrapper)

    return decorator

