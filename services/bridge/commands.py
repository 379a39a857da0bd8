"""What happens to each message on ``baodao.commands``: carried out once, retried a few times for a
passing fault, or dead-lettered with the reason. A message is never dropped and never loops."""

import logging

import eventlet
from kombu import Connection
from nameko.exceptions import UnknownService

from common.db import utcnow
from common.messaging import (
    DEAD_LETTER_EXCHANGE,
    DEAD_LETTER_QUEUE,
    MAX_ATTEMPTS,
    RETRY_BASE_SECONDS,
    TRANSIENT,
    describe_error,
    retry_pause,
)
from common.redaction import redact_bytes, redact_text
from services.bridge import domain, usecases

log = logging.getLogger(__name__)
RETRY_PAUSE_SECONDS = RETRY_BASE_SECONDS  # the first pause; doubled each attempt, as for events
SENDER_HEADER = "x-baodao-sender"
PASSING = (*TRANSIENT, UnknownService, eventlet.Timeout)


def sender_of(user_id: str | None, headers: dict, own_user: str | None) -> str | None:
    """Who sent a command: RabbitMQ's validated ``user_id``. Our own retries (published under the
    bridge's account) carry the original sender in ``x-baodao-sender``, trusted only from ourselves."""
    if user_id and own_user and user_id == own_user and headers.get(SENDER_HEADER):
        return str(headers[SENDER_HEADER])
    return user_id or None


def handle(store, ports, raw: bytes, content_type: str | None, headers: dict, routing_key: str,
           user_id: str | None = None, retry_pause_base: float = RETRY_PAUSE_SECONDS, own_user: str | None = None):
    attempts = int(headers.get("x-attempts") or 0)
    if isinstance(raw, str):  # py-amqp decodes bodies that name a content encoding
        raw = raw.encode("utf-8")
    sender = sender_of(user_id, headers, own_user)
    try:
        usecases.run_command(store, ports, raw, content_type, sender=sender)
    except usecases.DeadLetter as bad:
        _publish_dead(store.amqp_uri, raw, content_type, bad.reason, bad.routing_key, attempts)
    except PASSING as err:
        retry = domain.after_transient_failure(attempts, MAX_ATTEMPTS)
        if not retry.again:
            _publish_dead(store.amqp_uri, raw, content_type,
                          f"TRANSIENT_EXHAUSTED: {retry.attempt} 次尝试均失败：{describe_error(err)}", routing_key,
                          retry.attempt)
            return
        log.warning("command failed for a passing reason (attempt %s): %s; retrying", retry.attempt,
                    describe_error(err))
        eventlet.sleep(retry_pause(retry.attempt, retry_pause_base))
        # back to the end of the queue with the count; acking the original afterwards means a crash
        # in between gives a duplicate, which the idempotency record absorbs
        _publish(store.amqp_uri, "baodao.commands", routing_key, raw, content_type,
                 {**headers, "x-attempts": retry.attempt, SENDER_HEADER: sender or ""}, as_self=True)
    except Exception as err:  # a bug: keep the command for an operator rather than loop on it
        log.exception("command handler failed")
        _publish_dead(store.amqp_uri, raw, content_type, f"HANDLER_ERROR: {describe_error(err)}", routing_key,
                      attempts)


def _publish_dead(amqp_uri, raw, content_type, reason, routing_key, attempts):
    """The body as sent but with ID numbers and phones scrubbed; the reason likewise."""
    reason = redact_text(reason)
    log.warning("dead-lettered command %s: %s", routing_key, reason[:300])
    _publish(amqp_uri, DEAD_LETTER_EXCHANGE, routing_key or "command.invalid", redact_bytes(raw), content_type, {
        "x-reason": reason[:2000], "x-service": "bridge", "x-handler": "baodao.commands",
        "x-failed-at": utcnow().isoformat(), "x-attempts": attempts}, declare=[DEAD_LETTER_QUEUE])


def _publish(amqp_uri, exchange, routing_key, raw, content_type, headers, declare=(), as_self=False):
    # the body goes on byte for byte, whatever it is, so nothing the sender wrote is lost
    with Connection(amqp_uri) as conn:
        extra = {"user_id": conn.userid} if as_self else {}  # validated by the broker: this is us
        conn.Producer().publish(raw, exchange=exchange, routing_key=routing_key, headers=headers, **extra,
                                content_type=content_type or "application/octet-stream",
                                content_encoding="utf-8" if "json" in (content_type or "") else "binary",
                                delivery_mode=2, declare=list(declare),
                                retry=True, retry_policy={"max_retries": 3})
