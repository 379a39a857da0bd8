"""Members and work units reporting in (双报到): the tree, registrations, talent pool, rosters, the card."""

from urllib.parse import quote

from werkzeug.wrappers import Response

from common.errors import ValidationFailed
from gateway.errors import PayloadTooLarge, json_response
from gateway.http import route
from services.registration import roster, schemas

TAG = "registration"
# a community's roster (Shiwan: ~250 members a community); a street's goes through `baodao roster import`,
# which is not bound by the gateway's RPC timeout
ROSTER_MAX_BYTES = 2 * 1024 * 1024
ROSTER_MAX_ROWS = 3000


def _download(content: bytes, fmt: str, stem: str) -> Response:
    name = f"{stem}.{fmt}"
    return Response(content, status=200, mimetype=roster.MEDIA_TYPES[fmt].split(";")[0],
                    headers={"Content-Disposition": f"attachment; filename=\"{fmt}-export.{fmt}\"; "
                                                    f"filename*=UTF-8''{quote(name)}"})


class RegistrationRoutes:
    # ---- the organisation tree
    @route("GET", "/api/places/{place_id}", tag=TAG, summary="组织架构节点（社区、网格、楼栋）",
           response=schemas.Place)
    def get_place(self, call, place_id):
        return self.registration.get_place(place_id)

    @route("GET", "/api/places/{place_id}/children", tag=TAG, summary="下级组织节点", response=schemas.Place(many=True))
    def list_children(self, call, place_id):
        return self.registration.list_children(place_id)

    @route("POST", "/api/places/{place_id}/children", tag=TAG,
           summary="新建下级节点（街道建社区，社区建网格、楼栋）", body=schemas.NewPlace,
           response=schemas.Place, status=201)
    def create_place(self, call, place_id):
        return self.registration.create_place(call.actor, place_id, call.body)

    @route("PATCH", "/api/places/{place_id}", tag=TAG, summary="修改组织节点名称", body=schemas.Rename,
           response=schemas.Place)
    def rename_place(self, call, place_id):
        return self.registration.rename_place(call.actor, place_id, call.body)

    # ---- work units (单位报到, 共驻共建)
    @route("POST", "/api/work-units", tag=TAG, summary="登记工作单位及其党组织", body=schemas.NewWorkUnit,
           response=schemas.WorkUnit, status=201)
    def create_work_unit(self, call):
        return self.registration.create_work_unit(call.actor, call.body)

    @route("GET", "/api/work-units", tag=TAG, summary="工作单位列表（可按名称查找）", query=schemas.WorkUnitQuery,
           response=schemas.WorkUnit(many=True))
    def list_work_units(self, call):
        return self.registration.list_work_units(call.actor, call.query)

    @route("POST", "/api/work-units/{work_unit_id}/accounts", tag=TAG, summary="为单位党组织开设登录账号",
           body=schemas.NewUnitAccount, response=schemas.Account, status=201)
    def create_unit_account(self, call, work_unit_id):
        return self.registration.create_unit_account(call.actor, work_unit_id, call.body)

    @route("POST", "/api/work-units/{work_unit_id}/reports", tag=TAG,
           summary="单位报到：向社区报到并登记共驻共建承诺", body=schemas.UnitReportIn, response=schemas.UnitReport,
           status=201)
    def report_unit(self, call, work_unit_id):
        return self.registration.report_unit(call.actor, work_unit_id, call.body)

    @route("GET", "/api/work-units/{work_unit_id}/reports", tag=TAG, summary="单位的共建协议（向各社区的单位报到）",
           response=schemas.UnitReport(many=True))
    def unit_reports(self, call, work_unit_id):
        return self.registration.list_unit_reports(call.actor, work_unit_id)

    @route("GET", "/api/communities/{community_id}/co-building-units", tag=TAG, summary="社区的共驻共建单位",
           response=schemas.UnitReport(many=True))
    def co_building_units(self, call, community_id):
        return self.registration.list_co_building_units(community_id)

    # ---- members (个人报到)
    @route("POST", "/api/members", tag=TAG, summary="社区工作人员为党员登记报到（直接通过）",
           body=schemas.RegisterMember, response=schemas.Member, status=201)
    def register_member(self, call):
        return self.registration.register_member(call.actor, call.body)

    @route("POST", "/api/registrations/signup", tag=TAG, summary="党员自行报到（同时开设账号，待社区审核）",
           body=schemas.SignUp, response=schemas.SignUpReceipt, status=201,
           description="无论身份证号码或手机号码是否已登记，回答都相同；冲突的报到交由社区核实（待核实报到）。"
                       "提交后用手机号码和密码登录，可查看审核进度。")
    def sign_up(self, call):
        self.throttle.signup(call.request)
        return self.registration.sign_up(call.body)

    @route("GET", "/api/communities/{community_id}/signup-reviews", tag=TAG,
           summary="待核实的自行报到（身份证号码或手机号码与已有登记冲突）",
           response=schemas.SignupReviewView(many=True))
    def signup_reviews(self, call, community_id):
        return self.registration.list_signup_reviews(call.actor, community_id)

    @route("POST", "/api/registrations", tag=TAG, summary="党员账号提交或重新提交报到（待社区审核）",
           body=schemas.RegistrationDetails, response=schemas.Member,
           status=201)
    def submit_registration(self, call):
        return self.registration.submit_registration(call.actor, call.body)

    @route("GET", "/api/members/{member_id}", tag=TAG, summary="党员报到信息", response=schemas.Member)
    def get_member(self, call, member_id):
        return self.registration.get_member(call.actor, member_id)

    @route("PATCH", "/api/members/{member_id}", tag=TAG, summary="修改特长、服务岗位、空闲时间、承诺",
           body=schemas.UpdateProfile,
           response=schemas.Member)
    def update_profile(self, call, member_id):
        return self.registration.update_profile(call.actor, member_id, call.body)

    @route("GET", "/api/members/{member_id}/history", tag=TAG, summary="报到登记的全部历史（含转移、撤销）",
           response=schemas.HistoryEntry(many=True))
    def member_history(self, call, member_id):
        return self.registration.member_history(call.actor, member_id)

    @route("POST", "/api/members/{member_id}/accept", tag=TAG, summary="社区审核通过报到", body=schemas.Decision,
           response=schemas.Member)
    def accept_member(self, call, member_id):
        return self.registration.accept_member(call.actor, member_id, call.body)

    @route("POST", "/api/members/{member_id}/reject", tag=TAG, summary="社区退回报到（须写明原因）",
           body=schemas.Decision, response=schemas.Member)
    def reject_member(self, call, member_id):
        return self.registration.reject_member(call.actor, member_id, call.body)

    @route("POST", "/api/members/{member_id}/transfer", tag=TAG, summary="搬家或换工作：转移报到关系，保留历史",
           body=schemas.Transfer, response=schemas.Member)
    def transfer_member(self, call, member_id):
        return self.registration.transfer_member(call.actor, member_id, call.body)

    @route("POST", "/api/members/{member_id}/revoke", tag=TAG, summary="撤销报到（日期与原因）",
           body=schemas.Revoke, response=schemas.Member)
    def revoke_member(self, call, member_id):
        return self.registration.revoke_member(call.actor, member_id, call.body)

    @route("GET", "/api/members/{member_id}/card", tag=TAG,
           summary="电子义工证：报到信息、服务次数时长地点、培训、积分星级", response=schemas.Card)
    def card(self, call, member_id):
        return self.registration.get_card(call.actor, member_id)

    @route("POST", "/api/members/{member_id}/trainings", tag=TAG, summary="登记党员参加的培训",
           body=schemas.NewTraining, response=schemas.Training, status=201)
    def add_training(self, call, member_id):
        return self.registration.add_training(call.actor, member_id, call.body)

    # ---- service posts, e-branches, teams, pairings
    @route("GET", "/api/communities/{community_id}/posts", tag=TAG, summary="社区服务岗位",
           response=schemas.Post(many=True))
    def list_posts(self, call, community_id):
        return self.registration.list_posts(community_id)

    @route("POST", "/api/communities/{community_id}/posts", tag=TAG, summary="新增服务岗位",
           body=schemas.NewPost, response=schemas.Post, status=201)
    def add_post(self, call, community_id):
        return self.registration.add_post(call.actor, community_id, call.body)

    @route("GET", "/api/communities/{community_id}/e-branches", tag=TAG, summary="社区的e支部",
           response=schemas.EBranch(many=True))
    def list_e_branches(self, call, community_id):
        return self.registration.list_e_branches(community_id)

    @route("POST", "/api/communities/{community_id}/e-branches", tag=TAG, summary="建立e支部（指定书记）",
           body=schemas.NewEBranch, response=schemas.EBranch, status=201)
    def create_e_branch(self, call, community_id):
        return self.registration.create_e_branch(call.actor, community_id, call.body)

    @route("POST", "/api/e-branches/{e_branch_id}/members", tag=TAG, summary="e支部加入党员",
           body=schemas.MemberIds, response=schemas.EBranch)
    def add_e_branch_members(self, call, e_branch_id):
        return self.registration.add_e_branch_members(call.actor, e_branch_id, call.body)

    @route("GET", "/api/communities/{community_id}/teams", tag=TAG, summary="社区义工队",
           response=schemas.Team(many=True))
    def list_teams(self, call, community_id):
        return self.registration.list_teams(community_id)

    @route("POST", "/api/communities/{community_id}/teams", tag=TAG, summary="建立义工队", body=schemas.NewTeam,
           response=schemas.Team, status=201)
    def create_team(self, call, community_id):
        return self.registration.create_team(call.actor, community_id, call.body)

    @route("POST", "/api/teams/{team_id}/members", tag=TAG, summary="义工队加入党员", body=schemas.MemberIds,
           response=schemas.Team)
    def add_team_members(self, call, team_id):
        return self.registration.add_team_members(call.actor, team_id, call.body)

    @route("POST", "/api/pairings", tag=TAG, summary="结对帮扶：党员或e支部与困难户结对一年",
           body=schemas.NewPairing, response=schemas.Pairing, status=201)
    def create_pairing(self, call):
        return self.registration.create_pairing(call.actor, call.body)

    @route("GET", "/api/communities/{community_id}/pairings", tag=TAG, summary="社区当前的结对帮扶",
           response=schemas.Pairing(many=True))
    def list_pairings(self, call, community_id):
        return self.registration.list_pairings(call.actor, community_id)

    # ---- the talent pool (人才库) and rosters
    @route("GET", "/api/talent", tag=TAG, summary="人才库查询（单位、社区网格楼栋、岗位、特长、某时空闲），分页",
           query=schemas.TalentQuery, response=schemas.TalentPage)
    def search_talent(self, call):
        # forward the query as sent (validated above); the service loads it with the same schema
        return self.registration.search_talent(call.actor, call.request.args.to_dict())

    @route("GET", "/api/talent/export", tag=TAG, summary="导出人才库（format=xlsx 或 csv）",
           query=schemas.TalentExportQuery, raw=True)
    def export_talent(self, call):
        fmt = call.query["format"]
        query = {k: v for k, v in call.request.args.to_dict().items() if k != "format"}
        rows = self.registration.export_talent(call.actor, query)
        return _download(roster.write(roster.EXPORT_COLUMNS, rows, fmt), fmt, "人才库")

    @route("POST", "/api/roster/import", tag=TAG, query=schemas.RosterUpload,
           response=schemas.RosterResult, status=201, raw=True,
           summary="导入党员名册（CSV 或 XLSX，中文表头；有错行则整表不写入）",
           description="请求体为文件本身，或 multipart/form-data 的 file 字段。表头：姓名、手机号码、身份证号码、"
                       "工作单位、所在社区、网格、楼栋、特长、服务岗位、空闲时间、承诺。有错误时返回 422，"
                       "错误报告可从 errors_url 下载（CSV）。同一文件重复导入不会改变任何数据。")
    def import_roster(self, call):
        request = call.request
        if request.content_length and request.content_length > ROSTER_MAX_BYTES:
            raise PayloadTooLarge(message="名册文件超过 2 MB，请分批导入或使用 baodao roster import 命令")
        upload = request.files.get("file")
        filename = call.query["filename"]
        if upload is not None:
            content, filename = upload.read(ROSTER_MAX_BYTES + 1), filename or upload.filename or ""
        else:
            content = request.get_data(cache=False)
        if len(content) > ROSTER_MAX_BYTES:
            raise PayloadTooLarge(message="名册文件超过 2 MB，请分批导入或使用 baodao roster import 命令")
        if not content:
            raise ValidationFailed(code="ROSTER_EMPTY", message="没有收到名册文件")
        try:
            rows = roster.parse(content, filename)
        except roster.RosterFileError as err:
            raise ValidationFailed(code="ROSTER_UNREADABLE", message=str(err)) from None
        if len(rows) > ROSTER_MAX_ROWS:
            raise PayloadTooLarge(message=f"名册超过 {ROSTER_MAX_ROWS} 行，请按社区分批导入，"
                                          "或由管理员使用 baodao roster import 命令导入")
        result = self.registration.import_roster(call.actor, {"rows": rows, "source": filename[:200],
                                                              "community_id": call.query["community_id"]})
        if result["errors"]:
            url = f"/api/roster/imports/{result['import_id']}/errors"
            return json_response(422, {"error": {
                "code": "ROSTER_HAS_ERRORS", "message": f"名册有{len(result['errors'])}行错误，整表未导入；"
                                                       "请按错误报告修改后重新导入",
                "errors": result["errors"][:100], "errors_url": url, "import_id": result["import_id"]}})
        return json_response(201, result)

    @route("GET", "/api/roster/imports/{import_id}/errors", tag=TAG, summary="下载名册导入的错误报告（CSV）",
           raw=True)
    def roster_errors(self, call, import_id):
        errors = self.registration.roster_errors(call.actor, import_id)
        return _download(roster.write(roster.ERROR_COLUMNS, errors, "csv"), "csv", f"名册错误报告-{import_id}")
