"""What crosses dispatch's wire: RPC arguments and results, as JSON primitives.

Body schemas (StrictSchema) are loaded by the service and reused by the gateway's routes.
"""

from marshmallow import Schema, fields, pre_dump, validate

from common.schemas import AwareDateTime, StrictSchema
from services.dispatch.domain import DATATYPES, LEVELS, STATE_LABELS

REASON = {"load_default": "", "validate": validate.Length(max=1000)}


class FieldValue(Schema):
    key = fields.String(required=True, validate=validate.Length(min=1, max=50))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class FieldDefinition(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$", error="应为小写英文代码"))
    description = fields.String(required=True, validate=validate.Length(min=1, max=200))
    datatype = fields.String(required=True, validate=validate.OneOf(DATATYPES),
                             metadata={"enum": list(DATATYPES)})
    required = fields.Boolean(load_default=False)
    order = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1000))
    values = fields.List(fields.Nested(FieldValue), load_default=list)

    class Meta:
        unknown = "raise"

    @pre_dump
    def _defaults(self, definition, **_):
        # a plain dict without "values" would otherwise yield dict.values, the method
        return {"values": [], "required": False, "order": 0, **definition}


# deadlines are added to "now": a year keeps every later datetime computation in range
MAX_MINUTES = 366 * 24 * 60
MINUTES = validate.Range(min=0.01, max=MAX_MINUTES)


class DeadlinePolicy(StrictSchema):
    claim_minutes = fields.Float(load_default=None, allow_none=True, validate=MINUTES,
                                 metadata={"description": "派单后多久无人接单即上报（分钟）"})
    service_minutes = fields.Float(load_default=None, allow_none=True, validate=MINUTES,
                                   metadata={"description": "接单后多久未完成即上报（分钟）"})
    confirm_minutes = fields.Float(load_default=None, allow_none=True, validate=MINUTES,
                                   metadata={"description": "完成后多久未确认即自动确认（分钟）"})
    remind_before_minutes = fields.Float(load_default=None, allow_none=True,
                                         validate=validate.Range(min=0, max=MAX_MINUTES),
                                         metadata={"description": "到期前多久提醒（分钟）"})


class MenuItemInput(StrictSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=100))
    category = fields.String(required=True, validate=validate.Length(min=1, max=50))
    description = fields.String(load_default="", validate=validate.Length(max=4000))
    skills = fields.List(fields.String(validate=validate.Length(min=1, max=30)), load_default=list,
                         validate=validate.Length(max=20))
    field_definitions = fields.List(fields.Nested(FieldDefinition), load_default=list, data_key="fields",
                                    validate=validate.Length(max=30))
    points = fields.Integer(load_default=10, validate=validate.Range(min=0, max=1000))
    members_needed = fields.Integer(load_default=1, validate=validate.Range(min=1, max=200))
    expected_minutes = fields.Integer(load_default=60, validate=validate.Range(min=1, max=100000))
    deadline_policy = fields.Nested(DeadlinePolicy, load_default=dict)
    active = fields.Boolean(load_default=True)
    default_hours = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0.1, max=200),
                                 metadata={"description": "党员完成时默认填报的服务时长（小时，不含路途）"})
    min_hours = fields.Float(load_default=0.5, validate=validate.Range(min=0.1, max=200),
                             metadata={"description": "可填报的最短服务时长（小时）"})
    max_hours = fields.Float(load_default=8.0, validate=validate.Range(min=0.1, max=200),
                             metadata={"description": "可填报的最长服务时长（小时）"})


class MenuItemPatch(MenuItemInput):
    """Any part of a menu item (``active: false`` retires it)."""

    def load(self, data, *, partial=None, **kwargs):
        return super().load(data, partial=True, **kwargs)


class MenuItem(Schema):
    id = fields.Integer()
    community_id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    category = fields.String()
    description = fields.String()
    skills = fields.List(fields.String())
    field_definitions = fields.List(fields.Nested(FieldDefinition), attribute="fields", data_key="fields")
    points = fields.Integer()
    members_needed = fields.Integer()
    expected_minutes = fields.Integer()
    deadline_policy = fields.Dict()
    active = fields.Boolean()
    default_hours = fields.Float(allow_none=True)
    min_hours = fields.Float()
    max_hours = fields.Float()


class Policy(StrictSchema):
    auto_accept = fields.Boolean(load_default=True, metadata={"description": "居民点单后自动受理"})
    offer_top_k = fields.Integer(load_default=3, validate=validate.Range(min=0, max=50),
                                 metadata={"description": "自动派给匹配度最高的前 k 名党员（0：直接开放认领）"})
    open_after_minutes = fields.Float(load_default=60.0, validate=MINUTES,
                                      metadata={"description": "派单后多久无人接单即开放给全社区党员认领"})


class PolicyView(Schema):
    community_id = fields.Integer()
    auto_accept = fields.Boolean()
    offer_top_k = fields.Integer()
    open_after_minutes = fields.Float()


class Caller(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    phone = fields.String(required=True, validate=validate.Regexp(r"^\+?[0-9-]{5,20}$", error="电话号码格式不对"))


class SubmitRequest(StrictSchema):
    menu_item_id = fields.Integer(required=True)
    description = fields.String(load_default="", validate=validate.Length(max=4000, error="描述不能超过4000字"))
    answers = fields.Dict(keys=fields.String(), load_default=dict, data_key="fields",
                          metadata={"description": "服务项目要求填写的各栏，键为栏目代码"})
    caller = fields.Nested(Caller, load_default=None, allow_none=True,
                           metadata={"description": "工作人员或热线代无账号的来电群众点单时填写"})
    community_id = fields.Integer(load_default=None, allow_none=True)
    address = fields.String(load_default="", validate=validate.Length(max=200, error="地址不能超过200字"),
                            metadata={"description": "服务地址（社区内，如 3栋502）"})
    preferred_time = fields.AwareDateTime(load_default=None, allow_none=True,
                                          metadata={"description": "希望服务的时间（带时区）"})
    contact_phone = fields.String(load_default=None, allow_none=True,
                                  validate=validate.Regexp(r"^\+?[0-9-]{5,20}$", error="电话号码格式不对"),
                                  metadata={"description": "接单党员联系您的电话"})


class PostNeed(MenuItemInput):
    """A community need (服务清单) posted for members to claim of their own accord."""

    category = fields.String(load_default="社区需求", validate=validate.Length(min=1, max=50))


class Confirm(StrictSchema):
    rating = fields.Integer(required=True, metadata={"description": "1–5 星"})
    comment = fields.String(load_default="", validate=validate.Length(max=1000))


class Transition(StrictSchema):
    reason = fields.String(**REASON)


class Complete(Transition):
    hours = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0.1, max=200),
                         metadata={"description": "实际服务时长（小时，不含路途），须在服务项目的上下限内；"
                                                  "不填则按服务项目的默认时长，待组织方确认"})


class ReasonRequired(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class Merge(StrictSchema):
    duplicate_of = fields.Integer(required=True, metadata={"description": "与之重复的服务请求编号"})
    reason = fields.String(**REASON)


class Offer(StrictSchema):
    member_ids = fields.List(fields.Integer(), load_default=list, validate=validate.Length(max=200),
                             metadata={"description": "派给这些党员；为空则开放给全社区党员认领"})
    open_to_all = fields.Boolean(load_default=False)
    reason = fields.String(**REASON)


class Reassign(StrictSchema):
    member_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1, max=200),
                             metadata={"description": "改由这些党员承办（替换原接单人）"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class JointMeeting(StrictSchema):
    work_unit_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1, max=50),
                                metadata={"description": "联席会议确定承办的共驻共建单位"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                           metadata={"description": "会议决定"})


class SearchQuery(StrictSchema):
    community_id = fields.Integer(load_default=None, allow_none=True)
    states = fields.List(fields.String(validate=validate.OneOf(list(STATE_LABELS))), load_default=None)
    level = fields.String(load_default=None, validate=validate.OneOf(LEVELS))
    updated_after = AwareDateTime(load_default=None)
    updated_before = AwareDateTime(load_default=None)
    overdue = fields.Boolean(load_default=None, allow_none=True,
                             metadata={"description": "true：只列已超过接单或服务时限的请求"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000),
                            metadata={"description": "跳过前若干条（分页：limit 条一页）"})


class SearchParams(StrictSchema):
    """The same search as a query string (``?state=dispatched&state=claimed`` is not needed:
    ``states`` takes a comma-separated list)."""

    community_id = fields.Integer(load_default=None)
    states = fields.String(load_default=None, metadata={"description": "逗号分隔，如 dispatched,claimed"})
    level = fields.String(load_default=None, validate=validate.OneOf(LEVELS))
    updated_after = fields.String(load_default=None)
    updated_before = fields.String(load_default=None)
    overdue = fields.Boolean(load_default=None,
                             metadata={"description": "true：只列已超过接单或服务时限的请求（已超时）"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000),
                            metadata={"description": "跳过前若干条（分页：limit 条一页）"})


class HistoryEntry(Schema):
    at = AwareDateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_role = fields.String()
    actor_name = fields.String(allow_none=True, metadata={"description": "办理人姓名（系统操作为空）"})
    action = fields.String()
    action_label = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    reason = fields.String()


class AnswerItem(Schema):
    code = fields.String()
    label = fields.String()
    value = fields.String()


class Request(Schema):
    id = fields.Integer()
    community_id = fields.Integer()
    street_id = fields.Integer(allow_none=True)
    grid_id = fields.Integer(allow_none=True)
    resident_id = fields.Integer(allow_none=True)
    source = fields.String()
    caller_name = fields.String(allow_none=True)
    caller_phone = fields.String(allow_none=True, metadata={"description": "仅本社区工作人员可见完整号码"})
    contact_name = fields.String(allow_none=True, metadata={"description": "联系人（点单居民或来电人）"})
    contact_phone = fields.String(allow_none=True, metadata={
        "description": "联系电话：点单居民本人、已接单党员和本社区工作人员可见完整号码，其他人见到的是掩码"})
    contact_masked = fields.Boolean(metadata={"description": "contact_phone 是否为掩码"})
    address = fields.String(allow_none=True)
    preferred_time = AwareDateTime(allow_none=True)
    menu_item_id = fields.Integer()
    title = fields.String()
    description = fields.String()
    answers = fields.Dict()
    answer_items = fields.List(fields.Nested(AnswerItem), metadata={"description": "各栏的中文名称与所填内容"})
    my_actions = fields.List(fields.String(), metadata={
        "description": "当前用户可以进行的操作：cancel confirm claim decline hand_back start complete"})
    state = fields.String()
    state_label = fields.String()
    level = fields.String()
    members_needed = fields.Integer()
    members_claimed = fields.Integer()
    open_to_all = fields.Boolean()
    duplicate_of = fields.Integer(allow_none=True)
    work_unit_ids = fields.List(fields.Integer())
    offered_to = fields.List(fields.Integer())
    claimed_by = fields.List(fields.Integer())
    rating = fields.Integer(allow_none=True)
    started_at = AwareDateTime(allow_none=True)
    completed_at = AwareDateTime(allow_none=True)
    stated_hours = fields.Float(allow_none=True, metadata={"description": "完成时填报的服务时长，待组织方确认"})
    hours_source = fields.String(allow_none=True, metadata={"description": "stated 党员填报 | default 按默认时长"})
    hours_bounds = fields.Dict(metadata={"description": "{default, min, max} 可填报的服务时长（小时）"})
    created_at = AwareDateTime()
    updated_at = AwareDateTime()
    history = fields.List(fields.Nested(HistoryEntry))


class RequestSummary(Schema):
    """A row of a list: no history (lists stay one query)."""

    id = fields.Integer()
    community_id = fields.Integer()
    resident_id = fields.Integer(allow_none=True)
    source = fields.String()
    menu_item_id = fields.Integer()
    title = fields.String()
    state = fields.String()
    state_label = fields.String()
    level = fields.String()
    members_needed = fields.Integer()
    members_claimed = fields.Integer()
    open_to_all = fields.Boolean()
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class Candidate(Schema):
    member_id = fields.Integer()
    name = fields.String()
    grid_id = fields.Integer(allow_none=True)
    building_id = fields.Integer(allow_none=True)
    skills = fields.List(fields.String())
    skill_match = fields.Integer()
    available = fields.Boolean()
    open_load = fields.Integer()
    last_served_at = AwareDateTime(allow_none=True)
    score = fields.Float()
    rank = fields.Integer()
    reasons = fields.List(fields.String(), metadata={"description": "排序理由，给调度人员看"})


# ---- micro-wishes ------------------------------------------------------------------------

class PostWish(StrictSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=100))
    description = fields.String(load_default="", validate=validate.Length(max=4000))
    beneficiary = fields.String(load_default="", validate=validate.Length(max=50),
                                metadata={"description": "困难群众称呼（代发时填写）"})
    resident_id = fields.Integer(load_default=None, allow_none=True)
    community_id = fields.Integer(load_default=None, allow_none=True)


class ClaimWish(StrictSchema):
    as_e_branch = fields.Boolean(load_default=False, metadata={"description": "以所在e支部名义认领"})


class FulfilWish(StrictSchema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class WishQuery(StrictSchema):
    community_id = fields.Integer(load_default=None)
    state = fields.String(load_default=None, validate=validate.OneOf(["posted", "claimed", "fulfilled",
                                                                     "confirmed", "cancelled"]))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000),
                            metadata={"description": "跳过前若干条（分页：limit 条一页）"})


class Wish(Schema):
    id = fields.Integer()
    community_id = fields.Integer()
    resident_id = fields.Integer(allow_none=True)
    beneficiary = fields.String()
    title = fields.String()
    description = fields.String()
    state = fields.String()
    state_label = fields.String()
    member_id = fields.Integer(allow_none=True)
    e_branch_id = fields.Integer(allow_none=True)
    note = fields.String()
    created_at = AwareDateTime()
    updated_at = AwareDateTime()
    history = fields.List(fields.Nested(HistoryEntry))


# ---- opinions ----------------------------------------------------------------------------

class SubmitOpinion(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(["suggestion", "complaint"]),
                         metadata={"description": "suggestion 建议 | complaint 投诉"})
    title = fields.String(required=True, validate=validate.Length(min=1, max=100))
    content = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    community_id = fields.Integer(load_default=None, allow_none=True)


class AssignOpinion(StrictSchema):
    assignee = fields.String(required=True, validate=validate.Length(min=1, max=100),
                             metadata={"description": "承办人或承办部门"})
    due_days = fields.Float(load_default=None, allow_none=True,
                            validate=validate.Range(min=0, max=365, min_inclusive=False))
    reason = fields.String(**REASON)


class ResolveOpinion(StrictSchema):
    resolution = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class OpinionQuery(StrictSchema):
    community_id = fields.Integer(load_default=None)
    state = fields.String(load_default=None, validate=validate.OneOf(["submitted", "assigned", "resolved"]))
    overdue = fields.Boolean(load_default=None)
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000),
                            metadata={"description": "跳过前若干条（分页：limit 条一页）"})


class Opinion(Schema):
    id = fields.Integer()
    community_id = fields.Integer()
    resident_id = fields.Integer(allow_none=True)
    kind = fields.String()
    title = fields.String()
    content = fields.String()
    state = fields.String()
    state_label = fields.String()
    assignee = fields.String()
    due_at = AwareDateTime(allow_none=True)
    overdue = fields.Boolean()
    supervision_level = fields.String()
    resolution = fields.String()
    created_at = AwareDateTime()
    resolved_at = AwareDateTime(allow_none=True)
    history = fields.List(fields.Nested(HistoryEntry))


class OpinionStatsQuery(StrictSchema):
    street_id = fields.Integer(load_default=None)
    community_id = fields.Integer(load_default=None)


class OpinionStats(Schema):
    community_id = fields.Integer()
    collected = fields.Integer()
    resolved = fields.Integer()
    overdue = fields.Integer()
    resolution_rate = fields.Float()

