"""Dispatch's part of the demo district: each community's service menu and policy, a community
need (服务清单) open to claim, and a micro-wish."""

from services.dispatch import domain
from services.dispatch.models import CommunityPolicy, HistoryEntry, MenuItem, Request, Transition, Wish

MENU = [  # title, category, skills, points, expected minutes, fields
    ("法律咨询", "公共事务", ["法律"], 10, 60,
     [{"code": "topic", "description": "咨询事项", "datatype": "singlevaluelist", "required": True,
       "order": 1, "values": [{"key": "family", "name": "婚姻家庭"}, {"key": "labour", "name": "劳动纠纷"},
                              {"key": "housing", "name": "房屋租赁"}]},
      {"code": "when", "description": "方便的时间", "datatype": "string", "required": False, "order": 2}]),
    ("上门义诊", "社区建设", ["医疗"], 15, 90,
     [{"code": "address", "description": "上门地址", "datatype": "string", "required": True, "order": 1},
      {"code": "people", "description": "就诊人数", "datatype": "number", "required": False, "order": 2}]),
    ("家电维修", "公益服务", ["维修"], 10, 60,
     [{"code": "appliance", "description": "需要维修的电器", "datatype": "string", "required": True,
       "order": 1}]),
    ("助老陪护", "扶贫帮困", ["助老"], 12, 120,
     [{"code": "address", "description": "老人住址", "datatype": "string", "required": True, "order": 1},
      {"code": "at", "description": "陪护时间", "datatype": "datetime", "required": False, "order": 2}]),
    ("手机电脑教学", "公益服务", ["IT", "教学"], 8, 60, []),
]
NEEDS = [("无物业楼宇清理楼道杂物", "社区建设", "3栋楼道杂物堆积，需要党员志愿者周末协助清理", 3, 10)]
DEADLINES = {"claim_minutes": 24 * 60, "service_minutes": 72 * 60, "confirm_minutes": 72 * 60,
             "remind_before_minutes": 60}
SYSTEM = {"user_id": None, "role": "system"}


def seed(store, context: dict):
    with store.uow() as uow:
        s = uow.session
        for community_id in context["community_ids"]:
            s.add(CommunityPolicy(community_id=community_id, auto_accept=True, offer_top_k=3,
                                  open_after_minutes=60.0))
            for title, category, skills, points, minutes, fields in MENU:
                s.add(MenuItem(community_id=community_id, kind="menu", title=title, category=category,
                               skills=skills, points=points, fields=fields, expected_minutes=minutes,
                               deadline_policy=DEADLINES))
        community_id = context["community_ids"][0]
        for title, category, description, needed, points in NEEDS:
            item = MenuItem(community_id=community_id, kind="need", title=title, category=category,
                            description=description, skills=[], points=points, members_needed=needed,
                            fields=[], expected_minutes=180, deadline_policy=DEADLINES)
            s.add(item)
            s.flush()
            request = Request(community_id=community_id, street_id=context.get("street_id"),
                              district_id=context.get("district_id"), resident_id=None, source="need",
                              menu_item_id=item.id, title=title, description=description, answers={},
                              state=domain.DISPATCHED, level="community", members_needed=needed,
                              open_to_all=True, work_unit_ids=[])
            s.add(request)
            s.flush()
            for action, before, after in (("submit", None, "submitted"), ("accept", "submitted", "accepted"),
                                          ("dispatch", "accepted", "dispatched")):
                s.add(HistoryEntry(request_id=request.id, actor_id=None, actor_role="system", action=action,
                                   from_state=before, to_state=after, reason="演示数据：社区需求清单"))
        wish = Wish(community_id=community_id, resident_id=None, beneficiary="独居老人 陈婆婆",
                    title="想要一台收音机", description="陈婆婆视力不好，平时靠听广播解闷", state="posted",
                    posted_by=None, note="")
        s.add(wish)
        s.flush()
        s.add(Transition(subject="wish", subject_id=wish.id, actor_id=None, actor_role="system", action="post",
                         from_state=None, to_state="posted", reason="演示数据"))
        uow.commit()
