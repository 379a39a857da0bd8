"""Everything on records' wire (RPC arguments and results, the gateway's bodies)."""

from marshmallow import Schema, fields, validate

from common.schemas import AwareDateTime, StrictSchema

REASON = validate.Length(max=1000)


class ConfirmHours(StrictSchema):
    hours = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0.1, max=200),
                         metadata={"description": "确认的实际服务时长（小时，不含路途）；不填即按党员填报的确认"})
    reason = fields.String(load_default="", validate=REASON,
                           metadata={"description": "与填报不同或更正已确认时长时必填"})


class QueueQuery(StrictSchema):
    community_id = fields.Integer(load_default=None, allow_none=True)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class NewTraining(StrictSchema):
    member_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1, max=500),
                             metadata={"description": "参加培训的党员"})
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    hours = fields.Float(required=True, validate=validate.Range(min=0.1, max=200))
    held_on = fields.Date(required=True)
    community_id = fields.Integer(load_default=None, allow_none=True,
                                  metadata={"description": "街道、区工作人员须指明举办社区"})


class NewAward(StrictSchema):
    member_id = fields.Integer(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    issuer = fields.String(load_default="", validate=validate.Length(max=200),
                           metadata={"description": "授予单位，如“禅城区委组织部”"})
    awarded_on = fields.Date(required=True)
    community_id = fields.Integer(load_default=None, allow_none=True)


class NewComplaint(StrictSchema):
    member_id = fields.Integer(required=True)
    summary = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    received_on = fields.Date(required=True)
    community_id = fields.Integer(load_default=None, allow_none=True)


class HandleComplaint(StrictSchema):
    handling = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                             metadata={"description": "处理经过"})
    outcome = fields.String(required=True, validate=validate.OneOf(
        ("upheld", "partly_upheld", "not_upheld", "withdrawn"), error="处理结果应为：属实、部分属实、不属实或撤回"),
        metadata={"description": "upheld 属实 | partly_upheld 部分属实 | not_upheld 不属实 | withdrawn 撤回"})


class ComplaintQuery(StrictSchema):
    community_id = fields.Integer(load_default=None, allow_none=True)
    status = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(("open", "closed")))


class IssueCertificate(StrictSchema):
    member_id = fields.Integer(required=True)
    since = fields.Date(required=True, metadata={"description": "证明的服务起始日期"})
    until = fields.Date(required=True, metadata={"description": "证明的服务截止日期"})
    community_id = fields.Integer(load_default=None, allow_none=True,
                                  metadata={"description": "出具证明的社区（社区工作人员默认本社区）"})


class Revoke(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class CertificateQuery(StrictSchema):
    member_id = fields.Integer(load_default=None, allow_none=True)
    community_id = fields.Integer(load_default=None, allow_none=True)


class TransferDecision(StrictSchema):
    consent = fields.Boolean(required=True, metadata={"description": "true 同意转移记录 | false 不同意"})


class ExportQuery(StrictSchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))
    community_id = fields.Integer(load_default=None, allow_none=True)
    since = fields.Date(load_default=None, allow_none=True)
    until = fields.Date(load_default=None, allow_none=True)


# ---- views ---------------------------------------------------------------------------------------

class AuditRow(Schema):
    action = fields.String()
    from_hours = fields.Float(allow_none=True)
    to_hours = fields.Float(allow_none=True)
    reason = fields.String()
    actor_id = fields.Integer(allow_none=True)
    actor_role = fields.String()
    at = AwareDateTime()


class EntryView(Schema):
    id = fields.Integer()
    member_id = fields.Integer()
    member_name = fields.String()
    source = fields.String()
    source_label = fields.String()
    ref_id = fields.Integer(allow_none=True)
    community_id = fields.Integer(metadata={"description": "记录该服务的组织（社区）"})
    organisation = fields.String(metadata={"description": "记录组织名称"})
    title = fields.String()
    place = fields.String()
    served_at = AwareDateTime()
    stated_hours = fields.Float(allow_none=True)
    hours_source = fields.String()
    hours_source_label = fields.String()
    confirmed_hours = fields.Float(allow_none=True, metadata={"description": "只有确认的时长计入"})
    status = fields.String(metadata={"description": "stated 待确认 | confirmed 已确认"})
    status_label = fields.String()
    confirmed_by = fields.Integer(allow_none=True)
    confirmed_role = fields.String(allow_none=True)
    confirmed_at = AwareDateTime(allow_none=True)
    audit = fields.List(fields.Nested(AuditRow))


class TrainingView(Schema):
    id = fields.Integer()
    member_id = fields.Integer()
    community_id = fields.Integer()
    organisation = fields.String()
    title = fields.String()
    hours = fields.Float()
    held_on = fields.Date()


class AwardView(Schema):
    id = fields.Integer()
    member_id = fields.Integer()
    community_id = fields.Integer(allow_none=True)
    organisation = fields.String()
    title = fields.String()
    issuer = fields.String()
    awarded_on = fields.Date()
    source = fields.String(metadata={"description": "recognition 季度表彰 | staff 工作人员录入"})


class EvaluationView(Schema):
    period = fields.String()
    side = fields.String(metadata={"description": "community 社区评价 | work_unit 单位评价"})
    score = fields.Float()
    comment = fields.String()


class ComplaintView(Schema):
    id = fields.Integer()
    member_id = fields.Integer()
    member_name = fields.String()
    community_id = fields.Integer()
    organisation = fields.String()
    summary = fields.String()
    received_on = fields.Date()
    status = fields.String()
    handling = fields.String()
    outcome = fields.String(allow_none=True)
    outcome_label = fields.String(allow_none=True)
    handled_at = AwareDateTime(allow_none=True)


class Star(Schema):
    level = fields.Integer(metadata={"description": "0–5：一星级至五星级志愿者"})
    label = fields.String()
    hours = fields.Float()
    next_level_at = fields.Float(allow_none=True)
    hours_to_next = fields.Float(allow_none=True)
    thresholds = fields.List(fields.Float())


class CertificateView(Schema):
    number = fields.String()
    member_id = fields.Integer()
    member_name = fields.String()
    id_number_masked = fields.String()
    volunteer_number = fields.String()
    community_id = fields.Integer()
    issuer_name = fields.String()
    since = fields.Date()
    until = fields.Date()
    hours = fields.Float()
    services = fields.Integer()
    summary = fields.String()
    issued_on = fields.Date()
    valid = fields.Boolean()
    revoked_at = AwareDateTime(allow_none=True)
    revoke_reason = fields.String()
    verify_path = fields.String(metadata={"description": "公开核验地址 /verify/<证明编号>"})


class Verification(Schema):
    number = fields.String()
    valid = fields.Boolean()
    status = fields.String(metadata={"description": "valid | revoked"})
    status_label = fields.String()
    issuer = fields.String()
    issued_on = fields.Date()
    since = fields.Date()
    until = fields.Date()
    hours = fields.Float()
    services = fields.Integer()
    revoked_on = fields.Date(allow_none=True)


class TransferView(Schema):
    id = fields.Integer()
    member_id = fields.Integer()
    from_community_id = fields.Integer(allow_none=True)
    from_organisation = fields.String()
    to_community_id = fields.Integer()
    to_organisation = fields.String()
    status = fields.String(metadata={"description": "pending 待本人同意 | consented 已同意 | declined 不同意"})
    requested_at = AwareDateTime()
    decided_at = AwareDateTime(allow_none=True)


class Record(Schema):
    """A member's volunteer record (志愿服务记录)."""

    member_id = fields.Integer()
    name = fields.String()
    volunteer_number = fields.String()
    id_number_masked = fields.String(allow_none=True)
    community_id = fields.Integer(allow_none=True, metadata={"description": "保管记录的社区"})
    organisation = fields.String()
    confirmed_hours = fields.Float(metadata={"description": "累计确认服务时长（只计确认的）"})
    pending_hours = fields.Float(metadata={"description": "填报待确认的时长（不计入）"})
    training_hours = fields.Float()
    volunteer_star = fields.Nested(Star, metadata={"description": "星级志愿者（按累计确认时长，不同于积分星级评定）"})
    entries = fields.List(fields.Nested(EntryView))
    trainings = fields.List(fields.Nested(TrainingView))
    awards = fields.List(fields.Nested(AwardView))
    evaluations = fields.List(fields.Nested(EvaluationView))
    complaints = fields.List(fields.Nested(ComplaintView))
    certificates = fields.List(fields.Nested(CertificateView))
    transfers = fields.List(fields.Nested(TransferView))


class File(Schema):
    filename = fields.String()
    content_type = fields.String()
    content_base64 = fields.String()
