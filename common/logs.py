"""How every process logs: one line per record, a request id on each, nothing personal in any.

- ``configure(process)`` at a process's start (``cli/serve.py``): text lines by default, JSON
  lines (python-json-logger) when ``LOG_FORMAT=json``.
- The request id is born at the gateway (or taken from a sane ``X-Request-Id``), travels to the
  services in nameko's RPC context data and to consumers in the event envelope's
  ``request_id``; :class:`RequestContext` and :func:`request_context` put it on every record.
- nameko logs an *expected* exception (our ``AppError``: a 4xx) at WARNING with a traceback;
  :class:`ExpectedErrors` turns that into one INFO line. Anything else stays ERROR with one.
- :class:`Scrub` removes ID numbers, phones (common/redaction.py) and tokens from every line.
"""

import contextlib
import contextvars
import logging
import os
import re
import sys
import time
import uuid

from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc

from common import metrics

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
LONG_DIGITS = re.compile(r"\d{7,}")
TOKEN = re.compile(r"(eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]+|(?i:bearer)\s+\S+|\bbd_[A-Za-z0-9_]{8,})")
QUIET_RPC = {"ping"}  # health probes: every few seconds from every gateway; not worth a line each

log = logging.getLogger("baodao")


def current_request_id() -> str | None:
    return REQUEST_ID.get()


def new_request_id(offered: str | None = None) -> str:
    """The caller's ``X-Request-Id`` when it looks like one, else a fresh one.

    Never a long run of digits: an id must not look like a phone or an ID number (the scrubber
    would mask it and the trail would break), nor smuggle one into every line.
    """
    if offered and SANE_REQUEST_ID.match(offered) and not LONG_DIGITS.search(offered):
        return offered
    hex_ = uuid.uuid4().hex[:16]
    return "-".join(hex_[i:i + 4] for i in range(0, 16, 4))


@contextlib.contextmanager
def request_context(request_id: str | None):
    token = REQUEST_ID.set(request_id)
    try:
        yield
    finally:
        REQUEST_ID.reset(token)


class WithRequestId(logging.Filter):
    def filter(self, record):
        record.request_id = REQUEST_ID.get() or "-"
        return True


class ExpectedErrors(logging.Filter):
    """nameko's "(expected) error handling worker" WARNING + traceback → one INFO line."""

    def filter(self, record):
        if record.name == "nameko.containers" and str(record.msg).startswith("(expected)"):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info, record.exc_text = None, None
        return True


class Scrub(logging.Filter):
    """No ID numbers, phones or tokens in any line, whoever wrote it (tracebacks included)."""

    def filter(self, record):
        from common.redaction import redact_text

        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        clean = TOKEN.sub("[凭证已隐去]", redact_text(message))
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_text:
            record.exc_text = TOKEN.sub("[凭证已隐去]", redact_text(record.exc_text))
        return True


def configure(process: str, level: str | None = None, stream=None):
    """Root logging for one process of the platform (idempotent)."""
    handler = logging.StreamHandler(stream or sys.stdout)
    if os.environ.get("LOG_FORMAT", "text").lower() == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"process": process}, json_ensure_ascii=False))
    else:
        handler.setFormatter(logging.Formatter(
            f"%(asctime)s {process} %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    for f in (WithRequestId(), ExpectedErrors(), Scrub()):
        handler.addFilter(f)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("LOG_LEVEL", "INFO"))
    # eventlet's access line carries the raw path and query; ours (gateway/observe.py) the route
    logging.getLogger("nameko.web.server").setLevel(logging.WARNING)


class RequestContext(DependencyProvider):
    """Carries the request id into each worker; one line and the latency metric per RPC.

    Events log their own line in ``common/messaging.py``, where the outcome is known.
    """

    def worker_setup(self, worker_ctx):
        worker_ctx._baodao = (REQUEST_ID.set(worker_ctx.data.get("request_id")), time.perf_counter())

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        if not isinstance(worker_ctx.entrypoint, Rpc):
            return
        elapsed = time.perf_counter() - worker_ctx._baodao[1]
        method = worker_ctx.entrypoint.method_name
        outcome = "ok" if exc_info is None else (
            "rejected" if isinstance(exc_info[1], worker_ctx.entrypoint.expected_exceptions) else "error")
        metrics.RPC_SECONDS.labels(worker_ctx.service_name, method, outcome).observe(elapsed)
        if method not in QUIET_RPC:
            log.info("rpc %s.%s %s %.0fms", worker_ctx.service_name, method, outcome, elapsed * 1000)

    def worker_teardown(self, worker_ctx):
        token = getattr(worker_ctx, "_baodao", (None,))[0]
        if token is not None:
            REQUEST_ID.reset(token)


_OUTCOME: contextvars.ContextVar[list | None] = contextvars.ContextVar("event_outcome", default=None)


def mark_outcome(outcome: str):
    """Inside :func:`handled_event`: how this message ended (duplicate, rejected, error)."""
    holder = _OUTCOME.get()
    if holder is not None:
        holder[0] = outcome


@contextlib.contextmanager
def handled_event(service: str, handler: str, body):
    """One line and one count per message a consumer handled, under the request id it carries."""
    envelope = body if isinstance(body, dict) else {}
    request_id = envelope.get("request_id") if isinstance(envelope.get("request_id"), str) else None
    event_type = str(envelope.get("event_type", "?"))[:80]
    holder = ["ok"]
    started = time.perf_counter()
    with request_context(request_id):
        token = _OUTCOME.set(holder)
        try:
            yield
        except BaseException:
            holder[0] = "transient"  # requeued by nameko
            raise
        finally:
            _OUTCOME.reset(token)
            metrics.EVENTS.labels(service, event_type, holder[0]).inc()
            log.info("event %s %s by %s %s %.0fms", event_type, str(envelope.get("event_id", "?"))[:80],
                     handler, holder[0], (time.perf_counter() - started) * 1000)
