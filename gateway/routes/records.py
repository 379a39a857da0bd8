"""The volunteer record (志愿服务记录): confirmed hours, trainings, awards, complaints, certificates,
transfer with consent, exports, and the public certificate verification page."""

import base64
import os
from html import escape

from werkzeug.wrappers import Response

from common.errors import AppError
from gateway.http import route
from services.records import schemas

TAG = "records"


def _download(file: dict) -> Response:
    return Response(base64.b64decode(file["content_base64"]), status=200, content_type=file["content_type"],
                    headers={"Content-Disposition": f'attachment; filename="{file["filename"]}"'})


class RecordsRoutes:
    # ---- hours ----
    @route("GET", "/api/records/queue", tag=TAG, summary="待确认的服务时长（组织方确认队列）",
           description="社区工作人员看本社区（街道、区须指明 community_id）；e支部书记看本支部党员的。",
           query=schemas.QueueQuery, response=schemas.EntryView(many=True))
    def records_queue(self, call):
        return self.records.queue(call.actor, call.query)

    @route("GET", "/api/records/entries/{entry_id}", tag=TAG, summary="一条服务记录及其时长确认、更正留痕",
           response=schemas.EntryView)
    def records_entry(self, call, entry_id):
        return self.records.get_entry(call.actor, entry_id)

    @route("POST", "/api/records/entries/{entry_id}/confirm", tag=TAG,
           summary="组织方确认或更正服务时长（与填报不同须写原因，留痕）",
           body=schemas.ConfirmHours, response=schemas.EntryView,
           description="只有确认的时长计入电子义工证、星级志愿者、证明和导出。不填 hours 即按党员填报的确认。")
    def records_confirm(self, call, entry_id):
        return self.records.confirm_entry(call.actor, entry_id, call.body)

    # ---- the record ----
    @route("GET", "/api/members/{member_id}/record", tag=TAG,
           summary="党员的志愿服务记录：服务、培训、表彰、评价、投诉、星级志愿者、证明",
           response=schemas.Record)
    def member_record(self, call, member_id):
        return self.records.get_record(call.actor, member_id)

    @route("GET", "/api/records/star-levels", tag=TAG, summary="星级志愿者的时长标准（按累计确认时长）")
    def records_star_levels(self, call):
        return self.records.star_levels()

    @route("POST", "/api/records/trainings", tag=TAG, summary="记录一次培训及参加的党员（含培训时长）",
           body=schemas.NewTraining, response=schemas.TrainingView(many=True), status=201)
    def records_add_training(self, call):
        return self.records.add_training(call.actor, call.body)

    @route("POST", "/api/records/awards", tag=TAG, summary="录入党员获得的表彰奖励",
           body=schemas.NewAward, response=schemas.AwardView, status=201)
    def records_add_award(self, call):
        return self.records.add_award(call.actor, call.body)

    @route("GET", "/api/records/complaints", tag=TAG, summary="被投诉信息列表",
           query=schemas.ComplaintQuery, response=schemas.ComplaintView(many=True))
    def records_complaints(self, call):
        return self.records.list_complaints(call.actor, call.query)

    @route("POST", "/api/records/complaints", tag=TAG, summary="登记对志愿者的投诉",
           body=schemas.NewComplaint, response=schemas.ComplaintView, status=201)
    def records_add_complaint(self, call):
        return self.records.add_complaint(call.actor, call.body)

    @route("POST", "/api/records/complaints/{complaint_id}/handle", tag=TAG, summary="记录投诉的处理经过和结果",
           body=schemas.HandleComplaint, response=schemas.ComplaintView)
    def records_handle_complaint(self, call, complaint_id):
        return self.records.handle_complaint(call.actor, complaint_id, call.body)

    @route("POST", "/api/records/transfers/{transfer_id}/decide", tag=TAG,
           summary="党员本人同意（或不同意）把志愿服务记录转到新社区",
           body=schemas.TransferDecision, response=schemas.TransferView)
    def records_decide_transfer(self, call, transfer_id):
        return self.records.decide_transfer(call.actor, transfer_id, call.body)

    # ---- certificates ----
    @route("POST", "/api/records/certificates", tag=TAG, summary="出具志愿服务证明（谁记录谁证明）",
           description="可带 Idempotency-Key：重复提交只出具一份证明。",
           body=schemas.IssueCertificate, response=schemas.CertificateView, status=201)
    def records_issue_certificate(self, call):
        return self.records.issue_certificate(call.actor, call.body, idempotency_key=call.idempotency_key)

    @route("GET", "/api/records/certificates", tag=TAG, summary="志愿服务证明列表（党员：本人的）",
           query=schemas.CertificateQuery, response=schemas.CertificateView(many=True))
    def records_certificates(self, call):
        return self.records.list_certificates(call.actor, call.query)

    @route("GET", "/api/records/certificates/{number}/pdf", tag=TAG, summary="下载志愿服务证明（PDF）",
           raw=True)
    def records_certificate_pdf(self, call, number):
        return _download(self.records.certificate_pdf(call.actor, number, _public_base(call.request)))

    @route("POST", "/api/records/certificates/{number}/revoke", tag=TAG, summary="撤销志愿服务证明（须写原因）",
           body=schemas.Revoke, response=schemas.CertificateView)
    def records_revoke_certificate(self, call, number):
        return self.records.revoke_certificate(call.actor, number, call.body)

    @route("GET", "/api/verify/{number}", tag=TAG, summary="公开核验志愿服务证明（无需登录，不含个人信息）",
           response=schemas.Verification)
    def verify_certificate_json(self, call, number):
        return self.records.verify_certificate(number)

    @route("GET", "/verify/{number}", tag=TAG, summary="志愿服务证明核验页（扫描证明上的二维码打开）",
           raw=True)
    def verify_certificate_page(self, call, number):
        try:
            return _verify_page(200, self.records.verify_certificate(number))
        except AppError as err:
            if err.code != "CERTIFICATE_NOT_FOUND":
                raise
            return _verify_page(404, None, number)

    # ---- export ----
    @route("GET", "/api/records/export", tag=TAG,
           summary="导出本社区已确认的志愿服务记录（CSV 或 XLSX，字段对照见 docs/records.md）",
           query=schemas.ExportQuery, raw=True)
    def records_export(self, call):
        query = {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                 for k, v in call.query.items() if v is not None}
        return _download(self.records.export(call.actor, query))


def _public_base(request) -> str:
    """Where the QR code points: PUBLIC_BASE_URL in production, else the address the caller used."""
    return os.environ.get("PUBLIC_BASE_URL") or request.host_url.rstrip("/")


PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>志愿服务证明核验</title>
<style>body{{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;max-width:640px;margin:2em auto;
padding:0 1em;color:#222;font-size:18px}} h1{{color:#b71c1c;font-size:1.5em}} .ok{{color:#2e7d32}}
.bad{{color:#c62828}} dt{{color:#666;margin-top:.6em}} dd{{margin:0;font-weight:bold}}</style></head>
<body><h1>志愿服务证明核验</h1>{body}
<p style="color:#666;font-size:.85em">本页只显示证明本身的信息，不显示志愿者个人信息。</p></body></html>"""


def _verify_page(status: int, facts: dict | None, number: str = "") -> Response:
    if facts is None:
        body = (f'<p class="bad">未找到编号为 <b>{escape(number)}</b> 的志愿服务证明。</p>'
                "<p>请核对编号；如有疑问，请联系出具证明的社区。</p>")
    else:
        state = ('<p class="ok">✔ 该证明真实有效。</p>' if facts["valid"] else
                 f'<p class="bad">✘ 该证明已于 {escape(str(facts["revoked_on"]))} 被出具单位撤销，不再有效。</p>')
        rows = [("证明编号", facts["number"]), ("状态", facts["status_label"]), ("出具单位", facts["issuer"]),
                ("出具日期", facts["issued_on"]), ("服务期间", f"{facts['since']} 至 {facts['until']}"),
                ("累计服务时长", f"{facts['hours']:g} 小时"), ("服务次数", f"{facts['services']} 次")]
        body = state + "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in rows) + "</dl>"
    return Response(PAGE.format(body=body), status=status, mimetype="text/html")

