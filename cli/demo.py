"""The demo district a newcomer can try at once: a street, communities, people, menus.

Loaded by ``baodao seed-demo`` (and ``make run``) only when the registration database is empty.
"""

from sqlalchemy import func, select

from common import config
from common.db import Store
from services.dispatch.models import Base as DispatchBase
from services.dispatch.models import MenuItem
from services.registration import usecases as registration
from services.registration.domain import id_number_check_char
from services.registration.models import Base as RegistrationBase
from services.registration.models import OrgUnit, User

DEMO_PASSWORD = "demo1234"
SYSTEM = {"user_id": 0, "role": "system"}

COMMUNITIES = [("东风社区", ["第一网格", "第二网格"]), ("跃进社区", ["第一网格"]), ("塘头村", ["第一网格"])]
MEMBERS = [  # name, phone, skills, community index, grid index
    ("张伟", "13800000001", ["法律"], 0, 0),
    ("李娜", "13800000002", ["医疗"], 0, 0),
    ("王强", "13800000003", ["维修", "IT"], 0, 1),
    ("刘洋", "13800000004", ["助老", "教学"], 0, 1),
    ("陈静", "13800000005", ["法律", "调解"], 1, 0),
    ("杨帆", "13800000006", ["医疗"], 2, 0),
]
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


def demo_id_number(n: int) -> str:
    first17 = f"44060419800101{n:03d}"
    return first17 + id_number_check_char(first17)


def stores() -> tuple[Store, Store]:
    amqp = config.amqp_uri()
    return (Store(RegistrationBase.metadata, "registration", config.database_url("registration"), amqp),
            Store(DispatchBase.metadata, "dispatch", config.database_url("dispatch"), amqp))


def is_empty(store: Store) -> bool:
    with store.uow() as uow:
        return not uow.session.scalar(select(func.count()).select_from(OrgUnit))


def seed(reg: Store | None = None, dispatch: Store | None = None) -> list[tuple[str, str, str]]:
    """Load the demo district; returns (role, username, what) for the logins printed at start."""
    if reg is None or dispatch is None:
        reg, dispatch = stores()
    logins = []
    try:
        if not is_empty(reg):
            return []
        password = registration.hash_password(DEMO_PASSWORD)
        with reg.uow() as uow:
            s = uow.session
            district = OrgUnit(kind="district", name="禅城区")
            s.add(district)
            s.flush()
            street = OrgUnit(kind="street", name="石湾镇街道", parent_id=district.id)
            s.add(street)
            s.flush()
            communities, grids = [], []
            for name, grid_names in COMMUNITIES:
                c = OrgUnit(kind="community", name=name, parent_id=street.id)
                s.add(c)
                s.flush()
                communities.append(c)
                row = []
                for g in grid_names:
                    grid = OrgUnit(kind="grid", name=g, parent_id=c.id)
                    s.add(grid)
                    s.flush()
                    s.add(OrgUnit(kind="building", name="1栋", parent_id=grid.id))
                    row.append(grid)
                grids.append(row)

            def user(username, role, name, org_id, what):
                s.add(User(username=username, password_hash=password, role=role, name=name,
                           org_unit_id=org_id))
                logins.append((role, username, what))

            user("district", "district_staff", "区委组织部 赵科长", district.id, "区委组织部工作人员")
            user("street", "street_staff", "石湾街道党工委 孙主任", street.id, "街道工作人员")
            user("staff1", "community_staff", "东风社区 周书记", communities[0].id, "东风社区工作人员")
            user("staff2", "community_staff", "跃进社区 吴书记", communities[1].id, "跃进社区工作人员")
            user("grid1", "grid_leader", "东风社区第一网格 郑网格长", grids[0][0].id, "东风社区第一网格长")
            user("resident1", "resident", "居民 黄阿姨", grids[0][0].id, "东风社区居民")
            user("resident2", "resident", "居民 林伯", grids[1][0].id, "跃进社区居民")
            uow.commit()
        for n, (name, phone, skills, ci, gi) in enumerate(MEMBERS, start=1):
            registration.register_member(reg, SYSTEM, {
                "name": name, "phone": phone, "id_number": demo_id_number(n),
                "community_id": communities[ci].id, "grid_id": grids[ci][gi].id,
                "work_unit": "佛山市某单位", "skills": skills, "password": DEMO_PASSWORD})
            logins.append(("member", phone, f"党员 {name}（{'、'.join(skills)}）"))
        with dispatch.uow() as uow:
            for c in communities:
                for title, category, skills, points, fields in MENU:
                    uow.session.add(MenuItem(community_id=c.id, title=title, category=category,
                                             skills=skills, points=points, fields=fields))
            uow.commit()
        return logins
    finally:
        reg.dispose()
        dispatch.dispose()
