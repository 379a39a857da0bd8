"""Dispatch's part of the demo district: each community's service menu."""

from services.dispatch.models import MenuItem

MENU = [  # title, category, skills, points, fields
    ("法律咨询", "公共事务", ["法律"], 10,
     [{"code": "topic", "description": "咨询事项", "datatype": "singlevaluelist", "required": True,
       "order": 1, "values": [{"key": "family", "name": "婚姻家庭"}, {"key": "labour", "name": "劳动纠纷"},
                              {"key": "housing", "name": "房屋租赁"}]},
      {"code": "when", "description": "方便的时间", "datatype": "string", "required": False, "order": 2}]),
    ("上门义诊", "社区建设", ["医疗"], 15,
     [{"code": "address", "description": "上门地址", "datatype": "string", "required": True, "order": 1},
      {"code": "people", "description": "就诊人数", "datatype": "number", "required": False, "order": 2}]),
    ("家电维修", "公益服务", ["维修"], 10,
     [{"code": "appliance", "description": "需要维修的电器", "datatype": "string", "required": True,
       "order": 1}]),
    ("助老陪护", "扶贫帮困", ["助老"], 12,
     [{"code": "address", "description": "老人住址", "datatype": "string", "required": True, "order": 1}]),
    ("手机电脑教学", "公益服务", ["IT", "教学"], 8, []),
]


def seed(store, context: dict):
    with store.uow() as uow:
        for community_id in context["community_ids"]:
            for title, category, skills, points, fields in MENU:
                uow.session.add(MenuItem(community_id=community_id, title=title, category=category,
                                         skills=skills, points=points, fields=fields))
        uow.commit()
