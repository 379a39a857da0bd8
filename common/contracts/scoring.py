"""Events published by the scoring service."""

from marshmallow import Schema, fields

from common.contracts import event

SOURCE = "scoring"


@event(SOURCE, "quarter.closed")
class QuarterClosed(Schema):
    period = fields.String(required=True, metadata={"description": "e.g. 2026Q3"})
    scope_id = fields.Integer(allow_none=True, load_default=None)
    members = fields.Integer(load_default=0)


@event(SOURCE, "unit_report.issued")
class UnitReportIssued(Schema):
    """A work unit's quarterly report on its members (双向反馈), for notify to deliver."""

    work_unit_id = fields.Integer(required=True)
    work_unit_name = fields.String(load_default="")
    period = fields.String(required=True)
    members = fields.Integer(required=True)
    total_points = fields.Integer(required=True)
    report_url = fields.String(load_default="")


@event(SOURCE, "evaluation.recorded")
class EvaluationRecorded(Schema):
    """立体评价: the community's or the work unit's assessment of a member for a quarter."""

    member_id = fields.Integer(required=True)
    period = fields.String(required=True)
    source = fields.String(required=True, metadata={"description": "community | work_unit"})
    score = fields.Float(required=True)
    comment = fields.String(load_default="")
    community_id = fields.Integer(allow_none=True, load_default=None)


@event(SOURCE, "member.recognised")
class MemberRecognised(Schema):
    """A member on a closed quarter's recognition list (表彰), for the volunteer record's awards."""

    member_id = fields.Integer(required=True)
    period = fields.String(required=True)
    community_id = fields.Integer(allow_none=True, load_default=None)
    stars = fields.Integer(load_default=0)
    rank = fields.Integer(load_default=0)
    title = fields.String(required=True)
