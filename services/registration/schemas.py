"""What crosses registration's wire: RPC arguments and results, as JSON primitives."""

from marshmallow import EXCLUDE, Schema, fields, validate

from common.schemas import AwareDateTime, StrictSchema

Skills = fields.List(fields.String(validate=validate.Length(min=1, max=30)), load_default=list,
                     validate=validate.Length(max=20), metadata={"description": "特长，如 法律、医疗、IT"})


class Login(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=128))


class Principal(Schema):
    user_id = fields.Integer()
    role = fields.String()
    name = fields.String()
    district_id = fields.Integer(allow_none=True)
    street_id = fields.Integer(allow_none=True)
    community_id = fields.Integer(allow_none=True)
    grid_id = fields.Integer(allow_none=True)
    work_unit_id = fields.Integer(allow_none=True)
    e_branch_id = fields.Integer(allow_none=True)
    e_branch_ids = fields.List(fields.Integer(), metadata={"description": "所在的e支部"})
    secretary_of = fields.List(fields.Integer(), metadata={"description": "担任书记的e支部"})
    e_branch_secretary = fields.Boolean()
    registration_status = fields.String(allow_none=True, metadata={
        "description": "党员账号的报到状态：submitted 待审核 | accepted 已报到 | rejected 未通过 | revoked 已撤销；"
                       "未通过审核的账号角色为 applicant，只能查看自己的状态"})
    tv = fields.Integer(metadata={"description": "凭证版本：撤销、退回或转移后旧凭证失效"})


class FreeTimeWindow(StrictSchema):
    preset = fields.String(load_default=None, allow_none=True, metadata={
        "description": "weekday_evenings 工作日晚上 | weekend_days 周末白天 | weekend_evenings 周末晚上 | "
                       "weekends 周末全天 | weekday_lunch 工作日午间；或用 weekdays+start+end"})
    weekdays = fields.List(fields.Integer(), load_default=list, metadata={"description": "1=周一 … 7=周日"})
    start = fields.String(load_default="", metadata={"example": "18:30"})
    end = fields.String(load_default="", metadata={"example": "21:00"})


class RegistrationDetails(StrictSchema):
    """What a member states when reporting in, whoever enters it."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    phone = fields.String(required=True, metadata={"example": "13800138000"})
    id_number = fields.String(required=True, load_only=True,
                              metadata={"description": "居民身份证号码，只保存其加密摘要"})
    community_id = fields.Integer(required=True)
    grid_id = fields.Integer(allow_none=True, load_default=None)
    building_id = fields.Integer(allow_none=True, load_default=None)
    work_unit = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=100))
    work_unit_id = fields.Integer(allow_none=True, load_default=None)
    party_org = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=100),
                              metadata={"description": "所在单位党组织"})
    profession = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=50))
    skills = Skills
    post_ids = fields.List(fields.Integer(), load_default=list, validate=validate.Length(max=11),
                           metadata={"description": "认领的服务岗位"})
    free_time = fields.List(fields.Nested(FreeTimeWindow), load_default=list, validate=validate.Length(max=20))
    commitments = fields.List(fields.String(validate=validate.Length(min=1, max=500)), load_default=list,
                              validate=validate.Length(max=10), metadata={"description": "本年度承诺事项"})


class RegisterMember(RegistrationDetails):
    """Community staff enter a member: accepted at once."""

    password = fields.String(load_only=True, load_default=None,
                             validate=validate.Length(min=8, max=128),
                             metadata={"description": "党员登录初始密码（可选）"})


class SignUp(RegistrationDetails):
    """A member reports in themself: an account and a registration awaiting the community."""

    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=128))


class Decision(StrictSchema):
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class Revoke(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    revoked_on = fields.Date(load_default=None, allow_none=True, metadata={"description": "默认今天"})


class Transfer(StrictSchema):
    """Moving home (new community/grid/building) or job (new work unit), or both."""

    community_id = fields.Integer(load_default=None, allow_none=True)
    grid_id = fields.Integer(load_default=None, allow_none=True)
    building_id = fields.Integer(load_default=None, allow_none=True)
    work_unit = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    work_unit_id = fields.Integer(load_default=None, allow_none=True)
    party_org = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class UpdateProfile(StrictSchema):
    """What a member may change themself without a new decision."""

    skills = fields.List(fields.String(validate=validate.Length(min=1, max=30)), validate=validate.Length(max=20))
    profession = fields.String(allow_none=True, validate=validate.Length(max=50))
    post_ids = fields.List(fields.Integer(), validate=validate.Length(max=11))
    free_time = fields.List(fields.Nested(FreeTimeWindow), validate=validate.Length(max=20))
    commitments = fields.List(fields.String(validate=validate.Length(min=1, max=500)),
                              validate=validate.Length(max=10))


class Window(Schema):
    weekday = fields.Integer()
    start = fields.String()
    end = fields.String()
    label = fields.String()


class PostRef(Schema):
    id = fields.Integer()
    name = fields.String()
    category = fields.String()


class Member(Schema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String(metadata={"description": "对本人及本社区工作人员完整显示，其他人脱敏"})
    community_id = fields.Integer()
    community_name = fields.String(allow_none=True)
    grid_id = fields.Integer(allow_none=True)
    building_id = fields.Integer(allow_none=True)
    work_unit = fields.String(allow_none=True)
    work_unit_id = fields.Integer(allow_none=True)
    party_org = fields.String(allow_none=True)
    profession = fields.String(allow_none=True)
    e_branch_id = fields.Integer(allow_none=True)
    skills = fields.List(fields.String())
    posts = fields.List(fields.Nested(PostRef))
    free_time = fields.List(fields.Nested(Window))
    commitments = fields.List(fields.String())
    status = fields.String()
    status_label = fields.String()
    decision_reason = fields.String(allow_none=True)
    revoked_on = fields.Date(allow_none=True)
    source = fields.String()
    registered_at = AwareDateTime()


class HistoryEntry(Schema):
    action = fields.String()
    status = fields.String()
    community_id = fields.Integer()
    grid_id = fields.Integer(allow_none=True)
    building_id = fields.Integer(allow_none=True)
    work_unit_id = fields.Integer(allow_none=True)
    work_unit = fields.String(allow_none=True)
    reason = fields.String()
    actor_id = fields.Integer(allow_none=True)
    actor_role = fields.String()
    at = AwareDateTime()


class Place(Schema):
    id = fields.Integer()
    kind = fields.String()
    name = fields.String()
    parent_id = fields.Integer(allow_none=True)
    street_id = fields.Integer(allow_none=True)
    district_id = fields.Integer(allow_none=True)


class NewPlace(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(("street", "community", "grid", "building")))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class Rename(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class CandidateQuery(StrictSchema):
    community_id = fields.Integer(required=True)
    skills = fields.List(fields.String(), load_default=list)
    grid_id = fields.Integer(allow_none=True, load_default=None)
    building_id = fields.Integer(allow_none=True, load_default=None)
    at = AwareDateTime(allow_none=True, load_default=None,
                              metadata={"description": "只有此时空闲的党员算作 available"})
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=200))


class Candidate(Schema):
    member_id = fields.Integer()
    name = fields.String()
    community_id = fields.Integer()
    grid_id = fields.Integer(allow_none=True)
    building_id = fields.Integer(allow_none=True)
    skills = fields.List(fields.String())
    skill_match = fields.Integer()
    available = fields.Boolean()


class MemberFacts(Schema):
    member_id = fields.Integer()
    name = fields.String()
    community_id = fields.Integer()
    street_id = fields.Integer(allow_none=True)
    district_id = fields.Integer(allow_none=True)
    grid_id = fields.Integer(allow_none=True)
    building_id = fields.Integer(allow_none=True)
    work_unit_id = fields.Integer(allow_none=True)
    e_branch_id = fields.Integer(allow_none=True)
    skills = fields.List(fields.String())
    status = fields.String()


class RecipientQuery(StrictSchema):
    roles = fields.List(fields.String(), load_default=list)
    district_id = fields.Integer(allow_none=True, load_default=None)
    street_id = fields.Integer(allow_none=True, load_default=None)
    community_id = fields.Integer(allow_none=True, load_default=None)
    grid_id = fields.Integer(allow_none=True, load_default=None)
    e_branch_id = fields.Integer(allow_none=True, load_default=None)
    work_unit_id = fields.Integer(allow_none=True, load_default=None)


class TalentQuery(StrictSchema):
    community_id = fields.Integer(load_default=None, allow_none=True)
    street_id = fields.Integer(load_default=None, allow_none=True)
    grid_id = fields.Integer(load_default=None, allow_none=True)
    building_id = fields.Integer(load_default=None, allow_none=True)
    work_unit_id = fields.Integer(load_default=None, allow_none=True)
    e_branch_id = fields.Integer(load_default=None, allow_none=True)
    post_id = fields.Integer(load_default=None, allow_none=True)
    skill = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30))
    available_at = AwareDateTime(load_default=None, allow_none=True)
    status = fields.String(load_default="accepted",
                           validate=validate.OneOf(("submitted", "accepted", "rejected", "revoked", "all")))
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20),
                          metadata={"description": "手机号码，完整匹配"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))


class TalentExportQuery(TalentQuery):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(("xlsx", "csv")))


class TalentPage(Schema):
    items = fields.List(fields.Nested(Member))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class Post(Schema):
    id = fields.Integer()
    community_id = fields.Integer()
    category = fields.String()
    name = fields.String()
    description = fields.String()
    active = fields.Boolean()
    members = fields.Integer()


class NewPost(StrictSchema):
    category = fields.String(required=True, validate=validate.Length(min=1, max=30))
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    description = fields.String(load_default="", validate=validate.Length(max=500))


class NewWorkUnit(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    party_org = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    contact_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))
    contact_phone = fields.String(load_default=None, allow_none=True)


class WorkUnit(Schema):
    id = fields.Integer()
    name = fields.String()
    party_org = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)


class NewUnitAccount(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=3, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=128))
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))


class Account(Schema):
    user_id = fields.Integer()
    username = fields.String()
    role = fields.String()
    name = fields.String()
    work_unit_id = fields.Integer(allow_none=True)


class UnitReportIn(StrictSchema):
    community_id = fields.Integer(required=True)
    agreement = fields.String(load_default="", validate=validate.Length(max=4000),
                              metadata={"description": "共驻共建协议内容"})
    commitments = fields.List(fields.String(validate=validate.Length(min=1, max=500)), required=True,
                              validate=validate.Length(min=1, max=20), metadata={"description": "共建承诺事项"})
    year = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=2000, max=2100))


class UnitReport(Schema):
    id = fields.Integer()
    work_unit_id = fields.Integer()
    work_unit_name = fields.String()
    party_org = fields.String(allow_none=True)
    community_id = fields.Integer()
    community_name = fields.String(allow_none=True)
    agreement = fields.String()
    commitments = fields.List(fields.String())
    year = fields.Integer()
    members_reported = fields.Integer(metadata={"description": "该单位在本社区已报到的党员数"})
    reported_at = AwareDateTime(metadata={"description": "首次报到时间"})
    renewed_at = AwareDateTime(allow_none=True, metadata={"description": "最近一次更新共建承诺的时间"})


class NewEBranch(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    secretary_id = fields.Integer(load_default=None, allow_none=True, metadata={"description": "书记（党员编号）"})
    chat_url = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))


class EBranch(Schema):
    id = fields.Integer()
    community_id = fields.Integer()
    name = fields.String()
    secretary_id = fields.Integer(allow_none=True)
    secretary_name = fields.String(allow_none=True)
    chat_url = fields.String(allow_none=True)
    member_ids = fields.List(fields.Integer())


class MemberIds(StrictSchema):
    member_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1, max=500))


class NewTeam(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    kind = fields.String(load_default="", validate=validate.Length(max=30),
                         metadata={"description": "政策宣传、医疗、调解、法律、环境、巡逻……"})
    leader_id = fields.Integer(load_default=None, allow_none=True)


class Team(Schema):
    id = fields.Integer()
    community_id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    leader_id = fields.Integer(allow_none=True)
    member_ids = fields.List(fields.Integer())


class NewPairing(StrictSchema):
    community_id = fields.Integer(required=True)
    member_id = fields.Integer(load_default=None, allow_none=True)
    e_branch_id = fields.Integer(load_default=None, allow_none=True)
    household = fields.String(required=True, validate=validate.Length(min=1, max=100),
                              metadata={"description": "结对困难户，如 黄阿婆家"})
    address = fields.String(load_default="", validate=validate.Length(max=200))
    difficulty = fields.String(load_default="", validate=validate.Length(max=500))
    starts_on = fields.Date(load_default=None, allow_none=True, metadata={"description": "默认今天，为期一年"})


class Pairing(Schema):
    id = fields.Integer()
    community_id = fields.Integer()
    member_id = fields.Integer(allow_none=True)
    e_branch_id = fields.Integer(allow_none=True)
    household = fields.String()
    address = fields.String()
    difficulty = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()


class NewTraining(StrictSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    hours = fields.Float(load_default=0.0, validate=validate.Range(min=0, max=200))
    held_on = fields.Date(load_default=None, allow_none=True)


class Training(Schema):
    title = fields.String()
    hours = fields.Float()
    held_on = fields.Date()


class ServicePlace(Schema):
    place = fields.String()
    count = fields.Integer()


class ServiceDone(Schema):
    count = fields.Integer()
    hours = fields.Float()
    requests = fields.Integer()
    activities = fields.Integer()
    places = fields.List(fields.Nested(ServicePlace))


class ServiceRecord(Schema):
    source = fields.String()
    title = fields.String()
    place = fields.String()
    hours = fields.Float()
    at = AwareDateTime()


class Points(Schema):
    balance = fields.Integer(allow_none=True)
    period = fields.String(allow_none=True)
    period_points = fields.Integer(allow_none=True)
    stars = fields.Integer(allow_none=True)
    rank_in_community = fields.Integer(allow_none=True)


class Card(Schema):
    """电子义工证: one member's live record."""

    member = fields.Nested(Member)
    services = fields.Nested(ServiceDone)
    recent = fields.List(fields.Nested(ServiceRecord))
    trainings = fields.List(fields.Nested(Training))
    points = fields.Nested(Points, allow_none=True,
                           metadata={"description": "积分与星级；积分服务暂不可用时为 null"})
    points_available = fields.Boolean()
    teams = fields.List(fields.String())
    e_branch = fields.String(allow_none=True)


class RosterRow(Schema):
    """One roster line as a spreadsheet gives it: names of places, or their ids."""

    class Meta:
        unknown = EXCLUDE

    row = fields.Integer(load_default=None, allow_none=True)
    name = fields.String(load_default="")
    phone = fields.String(load_default="")
    id_number = fields.String(load_default="", load_only=True)
    community_id = fields.Integer(load_default=None, allow_none=True)
    community = fields.String(load_default="")
    grid_id = fields.Integer(load_default=None, allow_none=True)
    grid = fields.String(load_default="")
    building_id = fields.Integer(load_default=None, allow_none=True)
    building = fields.String(load_default="")
    work_unit = fields.String(load_default="")
    party_org = fields.String(load_default="")
    profession = fields.String(load_default="")
    skills = fields.Raw(load_default=list)
    posts = fields.Raw(load_default=list)
    free_time = fields.Raw(load_default=list)
    commitments = fields.Raw(load_default=list)


class RosterImport(StrictSchema):
    rows = fields.List(fields.Dict(), required=True, validate=validate.Length(max=20000))
    source = fields.String(load_default="", validate=validate.Length(max=200))
    community_id = fields.Integer(load_default=None, allow_none=True,
                                  metadata={"description": "表中未写社区时的默认社区"})


class RowError(Schema):
    row = fields.Integer()
    reason = fields.String()


class RosterResult(Schema):
    import_id = fields.Integer()
    rows = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    errors = fields.List(fields.Nested(RowError))


class RosterUpload(StrictSchema):
    """Query of the upload endpoint; the body is the CSV or XLSX file itself (or multipart field ``file``)."""

    community_id = fields.Integer(load_default=None, allow_none=True,
                                  metadata={"description": "表中未写社区时的默认社区"})
    filename = fields.String(load_default="", validate=validate.Length(max=200))


class WorkUnitQuery(StrictSchema):
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))


class SignUpReceipt(Schema):
    """The same answer to every well-formed sign-up, whether or not the ID number or phone is known."""

    status = fields.String(metadata={"example": "submitted"})
    status_label = fields.String(metadata={"example": "待审核"})
    message = fields.String()


class SignupReviewView(Schema):
    id = fields.Integer()
    community_id = fields.Integer()
    name = fields.String()
    phone = fields.String()
    reason = fields.String(metadata={"description": "id_number_registered 身份证号码已有报到登记 | "
                                                    "phone_in_use 手机号码已有账号"})
    reason_label = fields.String()
    status = fields.String()
    created_at = AwareDateTime()
