"""Scoring service entrypoints: the points ledger fed by dispatch's, activities' and registration's events."""

import logging

from nameko.rpc import RpcProxy
from nameko.timer import timer

from common.db import Database
from common.messaging import consumes
from common.service import ServiceBase, rpc
from services.scoring import quarters, usecases
from services.scoring.models import Base

log = logging.getLogger(__name__)


class ScoringService(ServiceBase):
    name = "scoring"
    db = Database(Base.metadata)
    registration = RpcProxy("registration")

    # ---- events ----
    @consumes("dispatch", "request.confirmed")
    def on_request_confirmed(self, uow, event):
        usecases.credit_event(uow, event)

    @consumes("dispatch", "wish.fulfilled")
    def on_wish_fulfilled(self, uow, event):
        usecases.credit_event(uow, event)

    @consumes("activities", "activity.attended")
    def on_activity_attended(self, uow, event):
        usecases.credit_event(uow, event)

    @consumes("activities", "activity.no_show")
    def on_activity_no_show(self, uow, event):
        usecases.credit_event(uow, event)

    @consumes("records", "entry.confirmed")
    def on_entry_confirmed(self, uow, event):
        usecases.credit_event(uow, event)  # confirmed hours, no points

    @consumes("registration", "member.accepted")
    def on_member_accepted(self, uow, event):
        usecases.on_member_known(uow, event)

    @consumes("registration", "member.transferred")
    def on_member_transferred(self, uow, event):
        usecases.on_member_known(uow, event)

    @consumes("registration", "member.revoked")
    def on_member_revoked(self, uow, event):
        usecases.on_member_revoked(uow, event)

    @consumes("registration", "unit.reported")
    def on_unit_reported(self, uow, event):
        usecases.on_unit_reported(uow, event)

    @timer(interval=3)
    def reapply_known(self):
        usecases.reapply_known(self.db)

    @timer(interval=30)
    def resolve_unknown_members(self):
        try:
            usecases.resolve_unknown_members(self.db, self.registration)
        except Exception as exc:  # registration down or not answering yet: the rejections wait
            log.info("could not resolve unknown members yet: %r", exc)

    # ---- members ----
    @rpc
    def member_points(self, actor, member_id):
        return usecases.member_points(self.db, actor, member_id)

    @rpc(internal=True)
    def member_summary(self, actor, member_id):
        return usecases.member_summary(self.db, member_id)

    @rpc
    def adjust_points(self, actor, member_id, payload, idempotency_key=None):
        return usecases.adjust_points(self.db, actor, member_id, payload, idempotency_key)

    @rpc
    def assess(self, actor, member_id, payload):
        return usecases.assess(self.db, actor, member_id, payload)

    # ---- rules and review ----
    @rpc
    def get_rules(self, actor, community_id):
        return usecases.get_rules(self.db, actor, community_id)

    @rpc
    def set_rules(self, actor, scope, scope_id, payload):
        return usecases.set_rules(self.db, actor, scope, scope_id, payload)

    @rpc
    def list_conflicts(self, actor, community_id, query=None):
        return usecases.list_conflicts(self.db, actor, community_id, query)

    @rpc
    def resolve_conflict(self, actor, conflict_id, payload):
        return usecases.resolve_conflict(self.db, actor, conflict_id, payload)

    @rpc
    def list_rejections(self, actor, community_id, query=None):
        return usecases.list_rejections(self.db, actor, community_id, query)

    @rpc
    def reapply_rejection(self, actor, rejection_id):
        return usecases.reapply_rejection(self.db, self.registration, actor, rejection_id)

    # ---- quarters ----
    @rpc
    def close_quarter(self, actor, payload):
        return quarters.close_quarter(self.db, actor, payload)

    @rpc
    def list_periods(self, actor):
        return quarters.list_periods(self.db, actor)

    @rpc
    def rankings(self, actor, period, query=None):
        return quarters.rankings(self.db, actor, period, query, self.registration)

    @rpc
    def member_rankings(self, actor, period, query=None):
        return quarters.member_rankings(self.db, actor, period, query, self.registration)

    @rpc
    def public_notice(self, actor, period, community_id):
        return quarters.public_notice(self.db, actor, period, community_id)

    @rpc
    def recognition(self, actor, period, query=None):
        return quarters.recognition(self.db, actor, period, query, self.registration)

    @rpc
    def unit_report(self, actor, period, work_unit_id, query=None):
        return quarters.unit_report(self.db, actor, period, work_unit_id, query, self.registration)

    @rpc
    def export(self, actor, period, query=None):
        return quarters.export(self.db, actor, period, query, self.registration)

    @rpc
    def chart(self, actor, period, query=None):
        return quarters.chart(self.db, actor, period, query, self.registration)

    @rpc
    def dashboard(self, actor, community_id):
        return quarters.dashboard(self.db, actor, community_id)
