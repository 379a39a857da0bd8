"""Events published by the records service (志愿服务记录)."""

from marshmallow import Schema, fields

from common.contracts import event

SOURCE = "records"


@event(SOURCE, "entry.confirmed")
class EntryConfirmed(Schema):
    """A service entry's hours were confirmed or corrected by the organiser: only these count."""

    entry_id = fields.Integer(required=True)
    member_id = fields.Integer(required=True)
    source = fields.String(required=True, metadata={"description": "request | wish | activity | staff"})
    ref_id = fields.Integer(allow_none=True, load_default=None)
    community_id = fields.Integer(required=True, metadata={"description": "the organisation that recorded it"})
    title = fields.String(load_default="")
    place = fields.String(load_default="")
    hours = fields.Float(required=True, metadata={"description": "confirmed hours (no travel)"})
    previous_hours = fields.Float(allow_none=True, load_default=None,
                                  metadata={"description": "confirmed hours before a correction"})
    served_at = fields.String(allow_none=True, load_default=None, metadata={"description": "ISO 8601"})


@event(SOURCE, "certificate.issued")
class CertificateIssued(Schema):
    number = fields.String(required=True)
    member_id = fields.Integer(required=True)
    community_id = fields.Integer(required=True)
    hours = fields.Float(required=True)


@event(SOURCE, "certificate.revoked")
class CertificateRevoked(Schema):
    number = fields.String(required=True)
    member_id = fields.Integer(required=True)
    community_id = fields.Integer(required=True)
    reason = fields.String(load_default="")
