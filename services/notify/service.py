"""Notify service entrypoints: every message to people and to other systems.

Event handlers record notices; two timers do the rest: ``fan_out`` resolves audiences through
registration and writes messages in chunks, ``deliver`` sends due deliveries through a bounded
green pool that outlives each tick, so a hanging webhook never holds up the next sends.
"""

import logging
import time
from collections import Counter

import eventlet
from eventlet.greenpool import GreenPool
from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy
from nameko.timer import timer

from common.db import Database
from common.messaging import consumes
from common.service import ServiceBase, rpc
from services.notify import usecases
from services.notify.models import Base

log = logging.getLogger(__name__)

FAN_OUT_PER_TICK = 5


class Sender(DependencyProvider):
    """The delivery pool and the service's tuning (timeouts, retries) from its config."""

    def setup(self):
        config = self.container.config
        self.tuning = usecases.Tuning.from_config(config)
        self.pool = GreenPool(int(config.get("NOTIFY_SEND_CONCURRENCY", 20)))
        # sends in flight per receiver: a slow webhook gets a few slots, never the whole pool
        self.per_target = int(config.get("NOTIFY_TARGET_CONCURRENCY", 4))
        self.inflight: Counter = Counter()

    def admit(self, job) -> bool:
        target = usecases.target_of(job)
        if self.inflight[target] >= self.per_target:
            return False
        self.inflight[target] += 1
        return True

    def done(self, job):
        self.inflight[usecases.target_of(job)] -= 1

    def busy_settings(self) -> set[int]:
        return {int(t.split(":")[1]) for t, n in self.inflight.items()
                if n >= self.per_target and t.startswith("setting:")}

    def deliver(self, store, budget: float = 0.9):
        """Keep claiming for most of a tick while there is work: fast receivers finish in
        milliseconds, so their next sends should not wait a whole tick behind a slow one."""
        deadline = time.monotonic() + budget
        while self.pool.free() and time.monotonic() < deadline:
            started = usecases.deliver_due(store, self.tuning, spawn=self.pool.spawn_n, free=self.pool.free(),
                                           admit=self.admit, done=self.done, busy_settings=self.busy_settings())
            if not started:
                break
            eventlet.sleep(0.02)

    def stop(self):
        # in-flight sends finish (each bounded by the HTTP timeout); a killed one's lease expires
        # and another instance sends it later
        with eventlet.Timeout(self.tuning.http_timeout + 5, False):
            self.pool.waitall()

    def kill(self):
        for thread in list(self.pool.coroutines_running):
            thread.kill()

    def get_dependency(self, worker_ctx):
        return self


def _handler(source: str, event_type: str):
    def handler(self, uow, event):
        usecases.record_event(uow, event)

    # the inbox table and dead letters name the handler: give each its own name
    handler.__name__ = "on_" + event_type.replace(".", "_")
    handler.__qualname__ = f"NotifyService.{handler.__name__}"
    return consumes(source, event_type)(handler)


class NotifyService(ServiceBase):
    name = "notify"
    db = Database(Base.metadata)
    sender = Sender()
    registration = RpcProxy("registration")

    # who hears what is decided in domain.plan; each event type needs its own queue
    on_request_submitted = _handler("dispatch", "request.submitted")
    on_request_accepted = _handler("dispatch", "request.accepted")
    on_request_rejected = _handler("dispatch", "request.rejected")
    on_request_offered = _handler("dispatch", "request.offered")
    on_request_claimed = _handler("dispatch", "request.claimed")
    on_request_completed = _handler("dispatch", "request.completed")
    on_request_confirmed = _handler("dispatch", "request.confirmed")
    on_request_cancelled = _handler("dispatch", "request.cancelled")
    on_request_reassigned = _handler("dispatch", "request.reassigned")
    on_request_reminder = _handler("dispatch", "request.reminder")
    on_wish_posted = _handler("dispatch", "wish.posted")
    on_request_escalated = _handler("dispatch", "request.escalated")
    on_wish_fulfilled = _handler("dispatch", "wish.fulfilled")
    on_opinion_resolved = _handler("dispatch", "opinion.resolved")
    on_activity_published = _handler("activities", "activity.published")
    on_activity_reminder = _handler("activities", "activity.reminder")
    on_activity_promoted = _handler("activities", "activity.promoted")
    on_activity_cancelled = _handler("activities", "activity.cancelled")
    on_unit_report_issued = _handler("scoring", "unit_report.issued")

    @timer(interval=1)
    def fan_out(self):
        for _ in range(FAN_OUT_PER_TICK):
            if not usecases.fan_out_due(self.db, self.registration, self.sender.tuning):
                break

    @timer(interval=1)
    def deliver(self):
        self.sender.deliver(self.db)

    @rpc
    def inbox(self, actor, query=None):
        return usecases.inbox(self.db, actor, query)

    @rpc
    def mark_read(self, actor, message_id, idempotency_key=None):
        return usecases.mark_read(self.db, actor, message_id)

    @rpc
    def mark_all_read(self, actor, idempotency_key=None):
        return usecases.mark_all_read(self.db, actor)

    @rpc
    def preferences(self, actor):
        return usecases.get_preferences(self.db, actor)

    @rpc
    def set_preferences(self, actor, payload, idempotency_key=None):
        return usecases.set_preferences(self.db, actor, payload)

    @rpc
    def list_templates(self, actor):
        return usecases.list_templates(actor)

    @rpc
    def preview_template(self, actor, payload):
        return usecases.preview_template(actor, payload)

    @rpc
    def list_channels(self, actor, query=None):
        return usecases.list_channels(self.db, self.registration, actor, query or {})

    @rpc
    def set_channel(self, actor, payload, idempotency_key=None):
        return usecases.set_channel(self.db, self.registration, actor, payload)

    @rpc
    def broadcast(self, actor, payload, idempotency_key=None):
        return usecases.broadcast(self.db, self.registration, actor, payload, idempotency_key)

    @rpc
    def get_notice(self, actor, notice_id):
        return usecases.get_notice(self.db, actor, notice_id, self.registration)

    @rpc
    def list_deliveries(self, actor, query=None):
        return usecases.list_deliveries(self.db, actor, query or {}, self.registration)

    @rpc
    def get_delivery(self, actor, delivery_id):
        return usecases.get_delivery(self.db, actor, delivery_id, self.registration)

    @rpc
    def retry_delivery(self, actor, delivery_id, idempotency_key=None):
        return usecases.retry_delivery(self.db, actor, delivery_id, self.registration)
