"""Points, stars, 立体评价 and quarterly results (积分制管理, 星级评定, 通报公示, 双向反馈)."""

import base64

from werkzeug.wrappers import Response

from gateway.errors import json_response
from gateway.http import route
from services.scoring import schemas


def _download(file: dict) -> Response:
    return Response(base64.b64decode(file["content_base64"]), status=200, mimetype=None,
                    content_type=file["content_type"],
                    headers={"Content-Disposition": f'attachment; filename="{file["filename"]}"'})


class ScoringRoutes:
    # ---- a member's points ----
    @route("GET", "/api/members/{member_id}/points", tag="scoring",
           summary="党员积分余额、本季度积分、星级、排名与明细", response=schemas.Balance)
    def member_points(self, call, member_id):
        return self.scoring.member_points(call.actor, member_id)

    @route("POST", "/api/members/{member_id}/points/adjustments", tag="scoring",
           summary="社区工作人员手工加减分或更正（须写明理由，留痕）", body=schemas.Adjustment,
           response=schemas.LedgerEntry, status=201,
           description="更正不修改原记录，而是新增一条更正记录。可带 Idempotency-Key 防止重复提交。")
    def adjust_points(self, call, member_id):
        return self.scoring.adjust_points(call.actor, member_id, call.body, idempotency_key=call.idempotency_key)

    @route("POST", "/api/members/{member_id}/evaluations", tag="scoring",
           summary="立体评价：社区或党员所在单位为党员本季度打分（0–100）", body=schemas.Assess,
           response=schemas.EvaluationView, status=201)
    def assess(self, call, member_id):
        return self.scoring.assess(call.actor, member_id, call.body)

    # ---- a community ----
    @route("GET", "/api/communities/{community_id}/scoring/dashboard", tag="scoring", summary="社区积分概况",
           response=schemas.Dashboard)
    def scoring_dashboard(self, call, community_id):
        return self.scoring.dashboard(call.actor, community_id)

    @route("GET", "/api/communities/{community_id}/scoring/rules", tag="scoring", summary="社区生效的积分规则",
           response=schemas.RulesView)
    def scoring_rules(self, call, community_id):
        return self.scoring.get_rules(call.actor, community_id)

    @route("PUT", "/api/communities/{community_id}/scoring/rules", tag="scoring",
           summary="设置社区积分规则（覆盖区级与默认规则的相应部分）", body=schemas.Rules, response=schemas.RulesView)
    def set_community_rules(self, call, community_id):
        return self.scoring.set_rules(call.actor, "community", community_id, call.body)

    @route("PUT", "/api/districts/{district_id}/scoring/rules", tag="scoring", summary="设置全区积分规则",
           body=schemas.Rules, response=schemas.RulesView)
    def set_district_rules(self, call, district_id):
        return self.scoring.set_rules(call.actor, "district", district_id, call.body)

    @route("GET", "/api/communities/{community_id}/scoring/conflicts", tag="scoring",
           summary="待核对的积分冲突（同一来源、内容不同）", query=schemas.ReviewQuery,
           response=schemas.ConflictView(many=True))
    def scoring_conflicts(self, call, community_id):
        return self.scoring.list_conflicts(call.actor, community_id, call.query)

    @route("POST", "/api/scoring/conflicts/{conflict_id}/resolve", tag="scoring", summary="处理积分冲突",
           body=schemas.ResolveConflict, response=schemas.ConflictView)
    def resolve_conflict(self, call, conflict_id):
        return self.scoring.resolve_conflict(call.actor, conflict_id, call.body)

    @route("GET", "/api/communities/{community_id}/scoring/rejections", tag="scoring",
           summary="未能记分的事件及原因（如党员尚未报到）", query=schemas.ReviewQuery,
           response=schemas.RejectionView(many=True))
    def scoring_rejections(self, call, community_id):
        return self.scoring.list_rejections(call.actor, community_id, call.query)

    @route("POST", "/api/scoring/rejections/{rejection_id}/reapply", tag="scoring", summary="补记未能记分的事件",
           response=schemas.RejectionView)
    def reapply_rejection(self, call, rejection_id):
        return self.scoring.reapply_rejection(call.actor, rejection_id)

    # ---- quarters ----
    @route("GET", "/api/scoring/quarters", tag="scoring", summary="季度：当前季度与已结账季度",
           response=schemas.PeriodView(many=True))
    def quarters(self, call):
        return self.scoring.list_periods(call.actor)

    @route("POST", "/api/scoring/quarters/close", tag="scoring", summary="季度结账（冻结快照，向单位发送季度报告）",
           body=schemas.CloseQuarter, response=schemas.PeriodView, status=201)
    def close_quarter(self, call):
        return self.scoring.close_quarter(call.actor, call.body)

    @route("GET", "/api/scoring/quarters/{period}/rankings", tag="scoring",
           summary="排名：各社区、网格、e支部、单位", query=schemas.RankingQuery,
           response=schemas.RankedGroup(many=True))
    def rankings(self, call, period):
        return self.scoring.rankings(call.actor, period, call.query)

    @route("GET", "/api/scoring/quarters/{period}/rankings/members", tag="scoring",
           summary="党员排名（在某社区、网格、e支部或单位内）", query=schemas.MemberRankingQuery,
           response=schemas.SnapshotRow(many=True))
    def member_rankings(self, call, period):
        return self.scoring.member_rankings(call.actor, period, call.query)

    @route("GET", "/api/communities/{community_id}/scoring/quarters/{period}/notice", tag="scoring",
           summary="通报公示：本社区党员季度积分与星级", response=schemas.Notice)
    def public_notice(self, call, community_id, period):
        return self.scoring.public_notice(call.actor, period, community_id)

    @route("GET", "/api/scoring/quarters/{period}/recognition", tag="scoring", summary="表彰名单：优秀党员与组织",
           query=schemas.RecognitionQuery, response=schemas.Recognition)
    def recognition(self, call, period):
        return self.scoring.recognition(call.actor, period, call.query)

    @route("GET", "/api/scoring/quarters/{period}/unit-reports/{work_unit_id}", tag="scoring",
           summary="单位季度报告（双向反馈）：JSON，或 format=csv/xlsx 下载", query=schemas.ReportQuery,
           response=schemas.UnitReportView, raw=True)
    def unit_report(self, call, period, work_unit_id):
        result = self.scoring.unit_report(call.actor, period, work_unit_id, call.query)
        return _download(result) if "content_base64" in result else json_response(200, result)

    @route("GET", "/api/scoring/quarters/{period}/export", tag="scoring", summary="导出季度积分（CSV 或 XLSX）",
           query=schemas.ExportQuery, raw=True)
    def export(self, call, period):
        return _download(self.scoring.export(call.actor, period, call.query))

    @route("GET", "/api/scoring/quarters/{period}/chart", tag="scoring",
           summary="季度图表（PNG）：积分分布或各社区合计", query=schemas.ChartQuery, raw=True)
    def chart(self, call, period):
        return _download(self.scoring.chart(call.actor, period, call.query))

