"""Prometheus metrics of every process (prometheus-client); each is documented in docs/operations.md.

Counters and histograms are updated where the work happens (gateway/observe.py, common/logs.py,
common/messaging.py). The database-backed gauges (outbox, timers) and the dead-letter queue
depth are read when Prometheus scrapes, so they are never stale and cost nothing in between.
"""

import functools
import os
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import MetaData, Table, func, inspect, select

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LATE_AFTER_SECONDS = float(os.environ.get("TIMER_LATE_AFTER_SECONDS", "60"))

HTTP_SECONDS = Histogram(
    "baodao_http_request_duration_seconds", "HTTP requests at the gateway by route template, method and status",
    ["route", "method", "status"], buckets=LATENCY_BUCKETS)
RPC_SECONDS = Histogram(
    "baodao_rpc_duration_seconds", "RPC calls handled by a service (ok, rejected = an expected 4xx, error)",
    ["service", "method", "outcome"], buckets=LATENCY_BUCKETS)
EVENTS = Counter(
    "baodao_events_consumed_total",
    "Events handled by consumers (ok, duplicate, rejected = dead-lettered by rule, error, transient = requeued)",
    ["service", "event_type", "outcome"])
DEAD_LETTERED = Counter(
    "baodao_dead_lettered_total", "Messages this process sent to baodao.dead-letters, by reason code",
    ["service", "reason"])


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def _age_seconds(moment, now: datetime) -> float:
    if moment is None:
        return 0.0
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; we store UTC
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (now - moment).total_seconds())


def outbox_lag(engine) -> dict:
    """Events committed but not yet published, and how long the oldest has waited."""
    outbox = Table("outbox", MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        pending, oldest = conn.execute(
            select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None))).one()
    return {"pending": pending, "oldest_age_seconds": round(_age_seconds(oldest, datetime.now(UTC)), 1)}


def timers_state(engine) -> dict | None:
    """Durable timers due now and those overdue by more than ``LATE_AFTER_SECONDS`` (None: no timers)."""
    if not inspect(engine).has_table("timers"):
        return None
    timers = Table("timers", MetaData(), autoload_with=engine)
    now = datetime.now(UTC)
    with engine.connect() as conn:
        rows = conn.execute(select(timers.c.due_at).where(timers.c.fired_at.is_(None), timers.c.due_at <= now)).all()
    ages = [_age_seconds(r.due_at, now) for r in rows]
    return {"due": len(ages), "late": sum(1 for a in ages if a > LATE_AFTER_SECONDS),
            "oldest_due_seconds": round(max(ages, default=0.0), 1)}


class StoreCollector:
    """The outbox and timer gauges of one service's database, read at scrape time."""

    def __init__(self, service: str, engine):
        self.service, self.engine = service, engine

    def collect(self):
        pending = GaugeMetricFamily("baodao_outbox_pending", "Events committed but not yet published",
                                    labels=["service"])
        age = GaugeMetricFamily("baodao_outbox_oldest_age_seconds", "Age of the oldest unpublished event",
                                labels=["service"])
        due = GaugeMetricFamily("baodao_timers_due", "Durable timers due and not yet fired", labels=["service"])
        late = GaugeMetricFamily("baodao_timers_late",
                                 f"Durable timers overdue by more than {LATE_AFTER_SECONDS:.0f} s", labels=["service"])
        up = GaugeMetricFamily("baodao_database_up", "1 if the service's database answered the scrape",
                               labels=["service"])
        try:
            lag = outbox_lag(self.engine)
            timers = timers_state(self.engine)
        except Exception:  # the database is down: say so rather than fail the whole scrape
            up.add_metric([self.service], 0)
            yield up
            return
        up.add_metric([self.service], 1)
        pending.add_metric([self.service], lag["pending"])
        age.add_metric([self.service], lag["oldest_age_seconds"])
        yield from (up, pending, age)
        if timers is not None:
            due.add_metric([self.service], timers["due"])
            late.add_metric([self.service], timers["late"])
            yield from (due, late)


class DeadLetterQueueCollector:
    """Depth of ``baodao.dead-letters`` (a passive declare: nothing is created or consumed)."""

    def __init__(self, amqp_uri: str):
        self.amqp_uri = amqp_uri

    def collect(self):
        from kombu import Connection

        from common.messaging import DEAD_LETTER_QUEUE

        depth = GaugeMetricFamily("baodao_dead_letter_queue_messages", "Messages waiting in baodao.dead-letters")
        try:
            with Connection(self.amqp_uri, connect_timeout=3) as conn:
                _, count, _ = DEAD_LETTER_QUEUE(conn.default_channel).queue_declare(passive=True)
            depth.add_metric([], count)
        except Exception:  # not declared yet (nothing ever dead-lettered) or the broker is down
            depth.add_metric([], 0)
        yield depth


@functools.cache
def monitor_engine(url: str):
    """One small engine per database for this process's health probe and metrics, apart from
    the workers' pool (one pool less per process on the server's ``max_connections``)."""
    from common.db import make_engine

    return make_engine(url, monitor=True)


def register_store(service: str, url: str):
    REGISTRY.register(StoreCollector(service, monitor_engine(url)))


def register_dead_letter_queue(amqp_uri: str):
    REGISTRY.register(DeadLetterQueueCollector(amqp_uri))


def serve(port: int, host: str = "0.0.0.0", health=None):
    """A small HTTP server of the process's own: ``/metrics`` for Prometheus, ``/health`` for probes.

    ``health()`` returns None when the process can do its work (its database or broker answers),
    else the problem in a few words; the orchestrator's readiness probe reads it.
    """
    import json
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from prometheus_client import make_wsgi_app
    from prometheus_client.exposition import ThreadingWSGIServer

    metrics_app = make_wsgi_app()

    def app(environ, start_response):
        if environ.get("PATH_INFO") == "/health":
            problem = health() if health else None
            start_response("200 OK" if problem is None else "503 Service Unavailable",
                           [("Content-Type", "application/json")])
            return [json.dumps({"status": "ok" if problem is None else "down", "problem": problem}).encode()]
        return metrics_app(environ, start_response)

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):  # probes every few seconds: not worth a line each
            pass

    server = make_server(host, port, app, ThreadingWSGIServer, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics").start()
    return server


def database_health(url: str):
    from sqlalchemy import text

    engine = monitor_engine(url)

    def check():
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return None
        except Exception as exc:
            return f"database: {type(exc).__name__}"

    return check


def broker_health(amqp_uri: str):
    def check():
        from kombu import Connection

        try:
            with Connection(amqp_uri, connect_timeout=3) as conn:
                conn.ensure_connection(max_retries=1)
            return None
        except Exception as exc:
            return f"broker: {type(exc).__name__}"

    return check
