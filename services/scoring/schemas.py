"""What crosses scoring's wire: RPC arguments and results, as JSON primitives."""

from marshmallow import EXCLUDE, Schema, fields, validate

from common.schemas import AwareDateTime, StrictSchema

PERIOD = validate.Regexp(r"^\d{4}Q[1-4]$", error="季度格式应为如 2026Q3")
SCOPES = ("community", "grid", "e_branch", "work_unit")


class LedgerEntry(Schema):
    id = fields.Integer()
    points = fields.Integer()
    kind = fields.String()
    reason = fields.String()
    period = fields.String()
    rating = fields.Integer(allow_none=True)
    hours = fields.Float()
    actor_id = fields.Integer(allow_none=True)
    corrects_id = fields.Integer(allow_none=True)
    created_at = AwareDateTime()


class Balance(Schema):
    member_id = fields.Integer()
    balance = fields.Integer()
    period = fields.String(metadata={"description": "当前未结账的季度"})
    period_points = fields.Integer()
    stars = fields.Integer(metadata={"description": "最近一个已结账季度的星级（0–5）"})
    stars_period = fields.String(allow_none=True)
    rank_in_community = fields.Integer(allow_none=True)
    entries = fields.List(fields.Nested(LedgerEntry))


class MemberSummary(Schema):
    member_id = fields.Integer()
    balance = fields.Integer()
    period = fields.String()
    period_points = fields.Integer()
    stars = fields.Integer()
    rank_in_community = fields.Integer(allow_none=True)


class Adjustment(StrictSchema):
    points = fields.Integer(required=True, validate=validate.Range(min=-1000, max=1000),
                            metadata={"description": "正数加分，负数扣分"})
    reason = fields.String(required=True, validate=validate.Length(min=2, max=500,
                                                                   error="请写明调整理由（2–500字）"))
    corrects_entry_id = fields.Integer(allow_none=True, load_default=None,
                                       metadata={"description": "更正某条积分记录时填写其编号"})


class ServicePoints(StrictSchema):
    items = fields.Dict(keys=fields.String(), values=fields.Integer(validate=validate.Range(min=0, max=1000)))
    categories = fields.Dict(keys=fields.String(), values=fields.Integer(validate=validate.Range(min=0, max=1000)))


class Weights(StrictSchema):
    points = fields.Float(validate=validate.Range(min=0, max=100))
    residents = fields.Float(validate=validate.Range(min=0, max=100))
    community = fields.Float(validate=validate.Range(min=0, max=100))
    work_unit = fields.Float(validate=validate.Range(min=0, max=100))


class Rules(StrictSchema):
    """Any part of the rules; what is left out comes from the district's or the defaults."""

    service_points = fields.Nested(ServicePoints)
    rating_multipliers = fields.Dict(keys=fields.String(validate=validate.OneOf(["1", "2", "3", "4", "5"])),
                                     values=fields.Float(validate=validate.Range(min=0, max=5)))
    activity_points_per_hour = fields.Float(validate=validate.Range(min=0, max=100))
    wish_points = fields.Integer(validate=validate.Range(min=0, max=1000))
    no_show_penalty = fields.Integer(validate=validate.Range(min=0, max=1000))
    period_cap = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100000))
    deduction_floor = fields.Integer(validate=validate.Range(min=-100000, max=0))
    weights = fields.Nested(Weights)
    points_full_marks = fields.Integer(validate=validate.Range(min=1, max=100000))
    star_thresholds = fields.Dict(keys=fields.String(validate=validate.OneOf(["1", "2", "3", "4", "5"])),
                                  values=fields.Float(validate=validate.Range(min=0, max=100)))


class RulesView(Schema):
    scope = fields.String()
    scope_id = fields.Integer()
    effective = fields.Dict(metadata={"description": "生效的完整规则（默认 ← 区 ← 社区）"})
    district = fields.Dict(allow_none=True)
    community = fields.Dict(allow_none=True)


class Assess(StrictSchema):
    score = fields.Float(required=True, validate=validate.Range(min=0, max=100, error="评分应在0到100之间"))
    comment = fields.String(load_default="", validate=validate.Length(max=1000))
    period = fields.String(load_default=None, allow_none=True, validate=PERIOD,
                           metadata={"description": "默认当前季度"})


class EvaluationView(Schema):
    id = fields.Integer()
    member_id = fields.Integer()
    period = fields.String()
    source = fields.String()
    score = fields.Float()
    comment = fields.String()
    updated_at = AwareDateTime()


class CloseQuarter(StrictSchema):
    period = fields.String(required=True, validate=PERIOD)


class PeriodView(Schema):
    period = fields.String()
    state = fields.String()
    closed_at = AwareDateTime()
    closed_by = fields.Integer(allow_none=True)
    members = fields.Integer()
    total_points = fields.Integer()
    unit_reports = fields.Integer()
    started = fields.Boolean(metadata={"description": "该季度是否已开始（尚未开始的季度不能结账）"})


class RankingQuery(StrictSchema):
    by = fields.String(load_default="community", validate=validate.OneOf(SCOPES))
    community_id = fields.Integer(load_default=None, allow_none=True,
                                  metadata={"description": "只看某社区内（党员排名）"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class MemberRankingQuery(StrictSchema):
    within = fields.String(load_default="community", validate=validate.OneOf(SCOPES))
    scope_id = fields.Integer(required=True, metadata={"description": "社区、网格、e支部或单位的编号"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class RankedGroup(Schema):
    rank = fields.Integer()
    scope = fields.String()
    scope_id = fields.Integer(allow_none=True)
    name = fields.String()
    members = fields.Integer()
    total_points = fields.Integer()
    average_points = fields.Float()
    average_score = fields.Float()


class SnapshotRow(Schema):
    rank = fields.Integer()
    member_id = fields.Integer()
    name = fields.String()
    community_id = fields.Integer(allow_none=True)
    grid_id = fields.Integer(allow_none=True)
    work_unit_id = fields.Integer(allow_none=True)
    e_branch_id = fields.Integer(allow_none=True)
    community_name = fields.String(metadata={"description": "社区名称"})
    grid_name = fields.String(metadata={"description": "网格名称"})
    work_unit_name = fields.String(metadata={"description": "单位名称"})
    e_branch_name = fields.String(metadata={"description": "e支部名称"})
    points = fields.Integer()
    hours = fields.Float()
    rating_avg = fields.Float(allow_none=True)
    community_score = fields.Float(allow_none=True)
    unit_score = fields.Float(allow_none=True)
    score = fields.Float()
    stars = fields.Integer()


class Notice(Schema):
    period = fields.String()
    community_id = fields.Integer()
    title = fields.String()
    rows = fields.List(fields.Nested(SnapshotRow))


class Recognition(Schema):
    period = fields.String()
    members = fields.List(fields.Nested(SnapshotRow))
    work_units = fields.List(fields.Nested(RankedGroup))
    e_branches = fields.List(fields.Nested(RankedGroup))


class RecognitionQuery(StrictSchema):
    top = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))


class ExportQuery(StrictSchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "xlsx"]))
    community_id = fields.Integer(load_default=None, allow_none=True)


class ChartQuery(StrictSchema):
    kind = fields.String(load_default="distribution", validate=validate.OneOf(["distribution", "communities"]))


class ReportQuery(StrictSchema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]))


class UnitReportView(Schema):
    period = fields.String()
    work_unit_id = fields.Integer()
    work_unit_name = fields.String()
    members = fields.Integer()
    total_points = fields.Integer()
    issued_at = AwareDateTime()
    rows = fields.List(fields.Nested(SnapshotRow))


class FileView(Schema):
    filename = fields.String()
    content_type = fields.String()
    content_base64 = fields.String()


class ConflictView(Schema):
    id = fields.Integer()
    entry_key = fields.String()
    entry_id = fields.Integer()
    member_id = fields.Integer()
    community_id = fields.Integer(allow_none=True)
    points = fields.Integer()
    recorded_points = fields.Integer()
    kind = fields.String()
    reason = fields.String()
    status = fields.String()
    resolution = fields.String()
    created_at = AwareDateTime()


class ResolveConflict(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf(["accept", "dismiss"]),
                             metadata={"description": "accept：按新内容更正；dismiss：维持原记录"})
    reason = fields.String(required=True, validate=validate.Length(min=2, max=500))


class RejectionView(Schema):
    id = fields.Integer()
    event_id = fields.String()
    event_type = fields.String()
    member_id = fields.Integer()
    community_id = fields.Integer(allow_none=True)
    code = fields.String()
    reason = fields.String()
    status = fields.String()
    created_at = AwareDateTime()
    applied_at = AwareDateTime(allow_none=True)


class ReviewQuery(StrictSchema):
    status = fields.String(load_default=None, allow_none=True)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class Dashboard(Schema):
    community_id = fields.Integer()
    period = fields.String()
    members = fields.Integer()
    members_with_points = fields.Integer()
    period_points = fields.Integer()
    period_hours = fields.Float()
    entries = fields.Integer()
    average_points = fields.Float()
    open_conflicts = fields.Integer()
    pending_rejections = fields.Integer()
    last_closed = fields.String(allow_none=True)
    stars = fields.Dict(keys=fields.String(), values=fields.Integer(),
                        metadata={"description": "最近结账季度各星级人数"})
    top_members = fields.List(fields.Nested(SnapshotRow))


class MemberFactsIn(Schema):
    """registration.member_facts rows; tolerant, since registration may add fields."""

    class Meta:
        unknown = EXCLUDE

    member_id = fields.Integer(required=True)
    name = fields.String(load_default="")
    community_id = fields.Integer(required=True)
    street_id = fields.Integer(allow_none=True, load_default=None)
    district_id = fields.Integer(allow_none=True, load_default=None)
    grid_id = fields.Integer(allow_none=True, load_default=None)
    work_unit_id = fields.Integer(allow_none=True, load_default=None)
    e_branch_id = fields.Integer(allow_none=True, load_default=None)
    status = fields.String(load_default="accepted")
