"""Records service entrypoints: the volunteer record fed by dispatch's, activities', registration's
and scoring's events (志愿服务记录)."""

from nameko.rpc import RpcProxy

from common.db import Database
from common.messaging import consumes
from common.service import ServiceBase, rpc
from services.records.models import Base
from services.records.usecases import certificates, entries, export, record


class RecordsService(ServiceBase):
    name = "records"
    db = Database(Base.metadata)
    registration = RpcProxy("registration")

    # ---- events ----
    @consumes("dispatch", "request.completed")
    def on_request_completed(self, uow, event):
        entries.on_request_completed(uow, event)

    @consumes("dispatch", "wish.fulfilled")
    def on_wish_fulfilled(self, uow, event):
        entries.on_wish_fulfilled(uow, event)

    @consumes("activities", "activity.attended")
    def on_activity_attended(self, uow, event):
        entries.on_activity_attended(uow, event)

    @consumes("registration", "member.accepted")
    def on_member_accepted(self, uow, event):
        record.on_member_known(uow, event)

    @consumes("registration", "member.updated")
    def on_member_updated(self, uow, event):
        record.on_member_known(uow, event)

    @consumes("registration", "member.transferred")
    def on_member_transferred(self, uow, event):
        record.on_member_transferred(uow, event)

    @consumes("scoring", "evaluation.recorded")
    def on_evaluation_recorded(self, uow, event):
        record.on_evaluation_recorded(uow, event)

    @consumes("scoring", "member.recognised")
    def on_member_recognised(self, uow, event):
        record.on_member_recognised(uow, event)

    # ---- hours ----
    @rpc
    def queue(self, actor, query=None):
        return entries.queue(self.db, self.registration, actor, query or {})

    @rpc
    def get_entry(self, actor, entry_id):
        return entries.get(self.db, self.registration, actor, entry_id)

    @rpc
    def confirm_entry(self, actor, entry_id, payload):
        return entries.confirm(self.db, self.registration, actor, entry_id, payload)

    # ---- the record ----
    @rpc
    def get_record(self, actor, member_id):
        return record.get_record(self.db, self.registration, actor, member_id)

    @rpc(public=True)
    def star_levels(self):
        return record.star_levels()

    @rpc
    def add_training(self, actor, payload):
        return record.add_training(self.db, self.registration, actor, payload)

    @rpc
    def add_award(self, actor, payload):
        return record.add_award(self.db, self.registration, actor, payload)

    @rpc
    def add_complaint(self, actor, payload):
        return record.add_complaint(self.db, self.registration, actor, payload)

    @rpc
    def handle_complaint(self, actor, complaint_id, payload):
        return record.handle_complaint(self.db, self.registration, actor, complaint_id, payload)

    @rpc
    def list_complaints(self, actor, query=None):
        return record.list_complaints(self.db, self.registration, actor, query or {})

    @rpc
    def decide_transfer(self, actor, transfer_id, payload):
        return record.decide_transfer(self.db, self.registration, actor, transfer_id, payload)

    # ---- certificates ----
    @rpc
    def issue_certificate(self, actor, payload, idempotency_key=None):
        return certificates.issue(self.db, self.registration, actor, payload, idempotency_key)

    @rpc
    def list_certificates(self, actor, query=None):
        return certificates.list_certificates(self.db, self.registration, actor, query or {})

    @rpc
    def certificate_pdf(self, actor, number, base_url):
        return certificates.download(self.db, self.registration, actor, number, base_url)

    @rpc
    def revoke_certificate(self, actor, number, payload):
        return certificates.revoke(self.db, self.registration, actor, number, payload)

    @rpc(public=True)
    def verify_certificate(self, number):
        return certificates.verify(self.db, number)

    # ---- export ----
    @rpc
    def export(self, actor, query=None):
        return export.export(self.db, self.registration, actor, query or {})
