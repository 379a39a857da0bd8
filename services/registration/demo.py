"""Registration's part of the demo district: the tree, posts, staff and resident logins, members, a work unit."""

from services.registration.domain import id_number_check_char
from services.registration.models import OrgUnit, User
from services.registration.usecases import accounts, groups, members, tree, work_units
from services.registration.usecases import posts as service_posts

DEMO_PASSWORD = "demo1234"
SYSTEM = {"user_id": 0, "role": "system"}

COMMUNITIES = [("东风社区", ["第一网格", "第二网格"]), ("跃进社区", ["第一网格"]), ("塘头村", ["第一网格"])]
MEMBERS = [  # name, phone, skills, community index, grid index, posts, free time
    ("张伟", "13800000001", ["法律"], 0, 0, ["法律服务"], ["weekday_evenings", "weekends"]),
    ("李娜", "13800000002", ["医疗"], 0, 0, ["医疗保健"], ["weekends"]),
    ("王强", "13800000003", ["维修", "IT"], 0, 1, ["公益服务"], ["weekday_evenings"]),
    ("刘洋", "13800000004", ["助老", "教学"], 0, 1, ["扶贫帮困"], ["weekend_days"]),
    ("陈静", "13800000005", ["法律", "调解"], 1, 0, ["法律服务"], ["weekday_evenings"]),
    ("杨帆", "13800000006", ["医疗"], 2, 0, ["医疗保健"], ["weekends"]),
]
WORK_UNIT = "佛山市某单位"


def demo_id_number(n: int) -> str:
    first17 = f"44060419800101{n:03d}"
    return first17 + id_number_check_char(first17)


def is_empty(store) -> bool:
    with store.uow() as uow:
        return uow.session.query(OrgUnit.id).first() is None


def seed(store, context: dict):
    """Adds to ``context``: district_id, street_id, community_ids, grid_ids, logins."""
    password = accounts.hash_password(DEMO_PASSWORD)
    logins = context.setdefault("logins", [])
    with store.uow() as uow:
        s = uow.session

        def unit(kind, name, parent=None):
            node = OrgUnit(kind=kind, name=name, parent_id=parent.id if parent else None)
            s.add(node)
            s.flush()
            if kind == "community":
                service_posts._seed_posts(s, node.id)
            return node

        district = unit("district", "禅城区")
        street = unit("street", "石湾镇街道", district)
        communities, grids = [], []
        for name, grid_names in COMMUNITIES:
            community = unit("community", name, street)
            communities.append(community)
            row = [unit("grid", g, community) for g in grid_names]
            for grid in row:
                unit("building", "1栋", grid)
            grids.append(row)

        def user(username, role, name, org, what):
            account = User(username=username, password_hash=password, role=role, name=name, active=True)
            s.add(account)
            tree._locate(s, account, org.id)
            logins.append((role, username, what))

        user("district", "district_staff", "区委组织部 赵科长", district, "区委组织部工作人员")
        user("street", "street_staff", "石湾街道党工委 孙主任", street, "街道工作人员")
        user("staff1", "community_staff", "东风社区 周书记", communities[0], "东风社区工作人员")
        user("staff2", "community_staff", "跃进社区 吴书记", communities[1], "跃进社区工作人员")
        user("grid1", "grid_leader", "东风社区第一网格 郑网格长", grids[0][0], "东风社区第一网格长")
        user("resident1", "resident", "居民 黄阿姨", grids[0][0], "东风社区居民")
        user("resident2", "resident", "居民 林伯", grids[1][0], "跃进社区居民")
        uow.commit()
    unit_id = work_units.create_work_unit(store, SYSTEM, {"name": WORK_UNIT, "party_org": "佛山市某单位机关党委"})["id"]
    work_units.create_unit_account(store, SYSTEM, unit_id, {"username": "unit1", "password": DEMO_PASSWORD,
                                                          "name": "佛山市某单位机关党委"})
    logins.append(("unit_org", "unit1", f"单位党组织（{WORK_UNIT}）"))
    posts = {}
    for community in communities:
        posts.update({(community.id, p["name"]): p["id"] for p in service_posts.list_posts(store, community.id)})
    member_ids = []
    for n, (name, phone, skills, ci, gi, post_names, free) in enumerate(MEMBERS, start=1):
        cid = communities[ci].id
        member = members.register_member(store, SYSTEM, {
            "name": name, "phone": phone, "id_number": demo_id_number(n), "community_id": cid,
            "grid_id": grids[ci][gi].id, "work_unit_id": unit_id, "skills": skills, "password": DEMO_PASSWORD,
            "post_ids": [posts[(cid, p)] for p in post_names], "free_time": [{"preset": f} for f in free],
            "commitments": ["每季度至少参加一次社区志愿服务"]})
        member_ids.append(member["id"])
        logins.append(("member", phone, f"党员 {name}（{'、'.join(skills)}）"))
    work_units.report_unit(store, SYSTEM, unit_id, {"community_id": communities[0].id,
                                                  "agreement": "共驻共建协议：资源共享、活动共办、难题共解",
                                                  "commitments": ["每年开展两次义诊", "开放单位活动室"]})
    branch = groups.create_e_branch(store, SYSTEM, communities[0].id, {"name": "东风社区在职党员e支部",
                                                                         "secretary_id": member_ids[0]})
    groups.add_e_branch_members(store, SYSTEM, branch["id"], {"member_ids": member_ids[:4]})
    groups.create_team(store, SYSTEM, communities[0].id, {"name": "东风社区法律服务队", "kind": "法律",
                                                            "leader_id": member_ids[0]})
    context["elsewhere"] = _seed_elsewhere(store, password, logins, district.id)
    context.update(district_id=district.id, street_id=street.id,
                   community_ids=[c.id for c in communities],
                   grid_ids=[[g.id for g in row] for row in grids], work_unit_id=unit_id,
                   member_ids=member_ids, e_branch_id=branch["id"])


# appended after everything above, so no earlier demo id moves: another street in the same district
# and another district, each with a community, staff, a resident, a member and (district 2) a unit
ELSEWHERE_MEMBERS = [("赵敏", "13800000007", ["法律"]), ("钱进", "13800000008", ["法律"])]


def _seed_elsewhere(store, password: str, logins: list, district_id: int) -> dict:
    with store.uow() as uow:
        s = uow.session

        def unit(kind, name, parent_id):
            node = OrgUnit(kind=kind, name=name, parent_id=parent_id)
            s.add(node)
            s.flush()
            if kind == "community":
                service_posts._seed_posts(s, node.id)
            return node

        street_b = unit("street", "张槎街道", district_id)
        community_b = unit("community", "大富社区", street_b.id)
        grid_b = unit("grid", "第一网格", community_b.id)
        district_2 = unit("district", "南海区", None)
        street_c = unit("street", "桂城街道", district_2.id)
        community_c = unit("community", "平东社区", street_c.id)
        grid_c = unit("grid", "第一网格", community_c.id)
        for username, role, name, org, what in (
                ("street2", "street_staff", "张槎街道党工委 钱主任", street_b, "张槎街道工作人员（同区另一街道）"),
                ("staff3", "community_staff", "大富社区 冯书记", community_b, "大富社区工作人员（张槎街道）"),
                ("resident3", "resident", "居民 何婆婆", grid_b, "大富社区居民"),
                ("district2", "district_staff", "南海区委组织部 韩科长", district_2, "另一个区（南海区）的组织部"),
                ("street3", "street_staff", "桂城街道党工委 曹主任", street_c, "桂城街道工作人员（南海区）"),
                ("staff4", "community_staff", "平东社区 许书记", community_c, "平东社区工作人员（南海区）"),
                ("resident4", "resident", "居民 邓伯", grid_c, "平东社区居民（南海区）")):
            account = User(username=username, password_hash=password, role=role, name=name, active=True)
            s.add(account)
            tree._locate(s, account, org.id)
            logins.append((role, username, what))
        uow.commit()
        ids = {"street_b_id": street_b.id, "community_b_id": community_b.id, "grid_b_id": grid_b.id,
               "district_2_id": district_2.id, "street_c_id": street_c.id, "community_c_id": community_c.id,
               "grid_c_id": grid_c.id}
    unit_2 = work_units.create_work_unit(store, SYSTEM, {"name": "南海区某公司",
                                                         "party_org": "南海区某公司党支部"})["id"]
    work_units.report_unit(store, SYSTEM, unit_2, {"community_id": ids["community_c_id"], "commitments": ["义务维修"]})
    work_units.create_unit_account(store, SYSTEM, unit_2, {"username": "unit2", "password": DEMO_PASSWORD,
                                                           "name": "南海区某公司党支部"})
    logins.append(("unit_org", "unit2", "单位党组织（南海区某公司，平东社区共建）"))
    for n, ((name, phone, skills), community, grid, unit_id) in enumerate(zip(
            ELSEWHERE_MEMBERS, (ids["community_b_id"], ids["community_c_id"]), (ids["grid_b_id"], ids["grid_c_id"]),
            (None, unit_2), strict=True), start=len(MEMBERS) + 1):
        members.register_member(store, SYSTEM, {
            "name": name, "phone": phone, "id_number": demo_id_number(n), "community_id": community,
            "grid_id": grid, "work_unit_id": unit_id, "skills": skills, "password": DEMO_PASSWORD})
        logins.append(("member", phone, f"党员 {name}（{'、'.join(skills)}）"))
    return {**ids, "work_unit_2_id": unit_2}
