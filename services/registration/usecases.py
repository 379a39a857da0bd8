"""Registration's use cases: load and check input, apply the domain rules, commit, emit events."""

from datetime import date

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import delete, exists, func, insert, literal, or_, select

from common import config
from common.actors import Actor, reaches
from common.db import Store, utcnow
from common.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from common.schemas import load
from services.registration import domain, schemas
from services.registration.models import (
    Commitment,
    EBranch,
    FreeTime,
    Member,
    MemberPost,
    MemberSkill,
    OrgUnit,
    Pairing,
    RegistrationHistory,
    RosterImport,
    ServicePost,
    ServiceRecord,
    TeamMember,
    Training,
    UnitReport,
    User,
    VolunteerTeam,
    WorkUnit,
)

# OWASP's minimum argon2id profile: a real KDF that keeps a login near 20 ms on one core
PASSWORDS = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = PASSWORDS.hash("not-a-password")
SYSTEM = {"user_id": None, "role": "system"}


def id_hash_key() -> bytes:
    return config.secret("ID_HASH_KEY", "baodao-demo-id-key")


def hash_password(password: str) -> str:
    return PASSWORDS.hash(password)


def _chunks(items: list, size: int = 500):
    for i in range(0, len(items), size):
        yield items[i:i + size]


# ---- the organisation tree -------------------------------------------------------------

def _place(session, place_id) -> dict | None:
    unit = session.get(OrgUnit, place_id) if place_id is not None else None
    if unit is None:
        return None
    return {"id": unit.id, "kind": unit.kind, "name": unit.name, "parent_id": unit.parent_id}


def _ancestry(session, place_id) -> dict:
    """{'district_id': .., 'street_id': .., 'community_id': .., 'grid_id': ..} at and above a node."""
    found = {}
    unit = session.get(OrgUnit, place_id) if place_id else None
    while unit is not None:
        found.setdefault(f"{unit.kind}_id", unit.id)
        unit = session.get(OrgUnit, unit.parent_id) if unit.parent_id else None
    return found


def _locate(session, user: User, org_unit_id):
    """Point an account at its node and repeat the tree above it on the row (see ``User``)."""
    place = _ancestry(session, org_unit_id)
    user.org_unit_id = org_unit_id
    user.district_id, user.street_id = place.get("district_id"), place.get("street_id")
    user.community_id, user.grid_id = place.get("community_id"), place.get("grid_id")


def get_place(store: Store, place_id: int) -> dict:
    with store.uow() as uow:
        place = _place(uow.session, place_id)
        if place is None:
            raise NotFound(message="找不到该组织或地点")
        ancestry = _ancestry(uow.session, place_id)
        place.update(street_id=ancestry.get("street_id"), district_id=ancestry.get("district_id"))
        return schemas.Place().dump(place)


def list_children(store: Store, place_id: int) -> list[dict]:
    with store.uow() as uow:
        if uow.session.get(OrgUnit, place_id) is None:
            raise NotFound(message="找不到该组织或地点")
        ancestry = _ancestry(uow.session, place_id)
        units = uow.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == place_id).order_by(OrgUnit.id))
        return schemas.Place(many=True).dump([
            {"id": u.id, "kind": u.kind, "name": u.name, "parent_id": u.parent_id,
             "street_id": ancestry.get("street_id") or (u.id if u.kind == "street" else None),
             "district_id": ancestry.get("district_id")} for u in units])


def _seed_posts(session, community_id: int):
    sort = 0
    for category, names in domain.DEFAULT_POSTS.items():
        for name in names:
            sort += 1
            session.add(ServicePost(community_id=community_id, category=category, name=name, sort=sort,
                                    description="", active=True))


def create_place(store: Store, actor: dict, parent_id: int, payload: dict) -> dict:
    actor = load(Actor(), actor)
    data = load(schemas.NewPlace(), payload)
    with store.uow() as uow:
        session = uow.session
        parent = session.get(OrgUnit, parent_id)
        if parent is None:
            raise NotFound(message="找不到上级组织")
        domain.check_child_kind(parent.kind, data["kind"])
        domain.check_can_manage_node(actor, data["kind"], _ancestry(session, parent_id))
        if session.scalar(select(OrgUnit.id).where(OrgUnit.parent_id == parent_id, OrgUnit.name == data["name"])):
            raise Conflict(code="DUPLICATE_PLACE", message="同一上级下已有同名节点", fields={"name": ["已存在"]})
        unit = OrgUnit(kind=data["kind"], name=data["name"], parent_id=parent_id)
        session.add(unit)
        session.flush()
        if unit.kind == "community":
            _seed_posts(session, unit.id)  # every new community starts from the standard posts
        result = _place(session, unit.id)
        ancestry = _ancestry(session, unit.id)
        result.update(street_id=ancestry.get("street_id"), district_id=ancestry.get("district_id"))
        uow.commit()
    return schemas.Place().dump(result)


def rename_place(store: Store, actor: dict, place_id: int, payload: dict) -> dict:
    actor = load(Actor(), actor)
    data = load(schemas.Rename(), payload)
    with store.uow() as uow:
        unit = uow.session.get(OrgUnit, place_id)
        if unit is None:
            raise NotFound(message="找不到该组织或地点")
        domain.check_can_manage_node(actor, unit.kind, _ancestry(uow.session, unit.parent_id))
        unit.name = data["name"]
        uow.commit()
    return get_place(store, place_id)


# ---- accounts ----------------------------------------------------------------------------

def principal_of(session, user: User) -> dict:
    return schemas.Principal().dump({
        "user_id": user.id, "role": user.role, "name": user.name,
        "district_id": user.district_id, "street_id": user.street_id,
        "community_id": user.community_id, "grid_id": user.grid_id,
        "work_unit_id": user.work_unit_id, "e_branch_id": user.e_branch_id,
    })


def authenticate(store: Store, credentials: dict) -> dict:
    data = load(schemas.Login(), credentials)
    with store.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == data["username"]))
        try:
            if user is None or not user.password_hash or not user.active:
                PASSWORDS.verify(_DUMMY_HASH, data["password"])  # same cost either way
                raise VerifyMismatchError
            PASSWORDS.verify(user.password_hash, data["password"])
        except (VerifyMismatchError, InvalidHashError):
            raise Unauthorized(code="INVALID_CREDENTIALS", message="用户名或密码错误") from None
        return principal_of(uow.session, user)


# ---- work units ----------------------------------------------------------------------------

WORK_UNIT_MANAGERS = ("community_staff", "street_staff", "district_staff")


def _work_unit(session, work_unit_id: int) -> WorkUnit:
    unit = session.get(WorkUnit, work_unit_id) if work_unit_id is not None else None
    if unit is None:
        raise NotFound(code="WORK_UNIT_NOT_FOUND", message="找不到该工作单位", fields={"work_unit_id": ["不存在"]})
    return unit


def _work_unit_by_name(session, name: str | None, party_org: str | None = None) -> WorkUnit | None:
    """The unit a member names, created on first mention so rosters need not list units first."""
    name = (name or "").strip()
    if not name:
        return None
    unit = session.scalar(select(WorkUnit).where(WorkUnit.name == name))
    if unit is None:
        unit = WorkUnit(name=name, party_org=party_org or None, created_at=utcnow())
        session.add(unit)
        session.flush()
    return unit


def create_work_unit(store: Store, actor: dict, payload: dict) -> dict:
    actor = load(Actor(), actor)
    data = load(schemas.NewWorkUnit(), payload)
    if actor["role"] not in WORK_UNIT_MANAGERS + ("system",):
        raise Forbidden(message="只有社区、街道或区县的工作人员可以登记工作单位")
    if data["contact_phone"] and not domain.valid_phone(data["contact_phone"]):
        raise ValidationFailed(fields={"contact_phone": ["手机号码格式不正确"]})
    with store.uow() as uow:
        if uow.session.scalar(select(WorkUnit.id).where(WorkUnit.name == data["name"])):
            raise Conflict(code="DUPLICATE_WORK_UNIT", message="已有同名工作单位", fields={"name": ["已存在"]})
        unit = WorkUnit(**data, created_at=utcnow())
        uow.session.add(unit)
        uow.session.flush()
        result = schemas.WorkUnit().dump(unit)
        uow.commit()
    return result


def list_work_units(store: Store, query: dict | None = None) -> list[dict]:
    name = (query or {}).get("name")
    with store.uow() as uow:
        stmt = select(WorkUnit).order_by(WorkUnit.name).limit(200)
        if name:
            stmt = stmt.where(WorkUnit.name.contains(name))
        return schemas.WorkUnit(many=True).dump(uow.session.scalars(stmt).all())


def create_unit_account(store: Store, actor: dict, work_unit_id: int, payload: dict) -> dict:
    """A sign-in for a work unit's Party organisation (role unit_org)."""
    actor = load(Actor(), actor)
    data = load(schemas.NewUnitAccount(), payload)
    if actor["role"] not in WORK_UNIT_MANAGERS + ("system",):
        raise Forbidden(message="只有社区、街道或区县的工作人员可以开设单位账号")
    password_hash = hash_password(data["password"])
    with store.uow() as uow:
        unit = _work_unit(uow.session, work_unit_id)
        if uow.session.scalar(select(User.id).where(User.username == data["username"])):
            raise Conflict(code="DUPLICATE_USERNAME", message="该用户名已被使用", fields={"username": ["已被使用"]})
        user = User(username=data["username"], password_hash=password_hash, role="unit_org", name=data["name"],
                    work_unit_id=unit.id, active=True, created_at=utcnow())
        uow.session.add(user)
        uow.session.flush()
        result = {"user_id": user.id, "username": user.username, "role": user.role, "name": user.name,
                  "work_unit_id": unit.id}
        uow.commit()
    return schemas.Account().dump(result)


def _unit_report_view(session, report: UnitReport) -> dict:
    unit = session.get(WorkUnit, report.work_unit_id)
    count = session.scalar(select(func.count()).select_from(Member).where(
        Member.work_unit_id == report.work_unit_id, Member.community_id == report.community_id,
        Member.status == domain.ACCEPTED))
    return schemas.UnitReport().dump({
        "id": report.id, "work_unit_id": unit.id, "work_unit_name": unit.name, "party_org": unit.party_org,
        "community_id": report.community_id, "agreement": report.agreement,
        "commitments": list(report.commitments or []), "year": report.year, "members_reported": count,
        "reported_at": report.reported_at})


def report_unit(store: Store, actor: dict, work_unit_id: int, payload: dict) -> dict:
    """单位报到: the unit's organisation reports to a community with its co-building commitments."""
    actor = load(Actor(), actor)
    data = load(schemas.UnitReportIn(), payload)
    with store.uow() as uow:
        session = uow.session
        unit = _work_unit(session, work_unit_id)
        community = _place(session, data["community_id"])
        if community is None or community["kind"] != "community":
            raise ValidationFailed(fields={"community_id": ["找不到该社区"]})
        own_unit = actor["role"] == "unit_org" and actor.get("work_unit_id") == unit.id
        if not own_unit and not reaches(actor, community_id=community["id"], **_street_district(session, community)):
            raise Forbidden(message="只有本单位党组织或该社区的工作人员可以办理单位报到")
        report = session.scalar(select(UnitReport).where(UnitReport.work_unit_id == unit.id,
                                                         UnitReport.community_id == community["id"]))
        if report is None:
            report = UnitReport(work_unit_id=unit.id, community_id=community["id"])
            session.add(report)
        report.agreement = data["agreement"]
        report.commitments = data["commitments"]
        report.year = data["year"] or date.today().year
        report.reported_by = actor.get("user_id")
        report.reported_at = utcnow()
        session.flush()
        uow.emit("unit.reported", {"work_unit_id": unit.id, "name": unit.name, "community_id": community["id"],
                                   "commitments": data["commitments"]})
        view = _unit_report_view(session, report)
        uow.commit()
    return view


def list_co_building_units(store: Store, community_id: int) -> list[dict]:
    with store.uow() as uow:
        reports = uow.session.scalars(select(UnitReport).where(UnitReport.community_id == community_id)
                                      .order_by(UnitReport.id)).all()
        return [_unit_report_view(uow.session, r) for r in reports]


def _street_district(session, community: dict) -> dict:
    ancestry = _ancestry(session, community["id"])
    return {"street_id": ancestry.get("street_id"), "district_id": ancestry.get("district_id")}


# ---- members: views -------------------------------------------------------------------------

def _names(session, ids) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))).all())


def _views(session, members: list[Member]) -> list[dict]:
    """Members with their posts, free time and commitments, loaded in a few batched queries."""
    ids = [m.id for m in members]
    posts, windows, commitments = {}, {}, {}
    for chunk in _chunks(ids):
        for member_id, post_id, name, category in session.execute(
                select(MemberPost.member_id, ServicePost.id, ServicePost.name, ServicePost.category)
                .join(ServicePost, ServicePost.id == MemberPost.post_id)
                .where(MemberPost.member_id.in_(chunk)).order_by(ServicePost.sort, ServicePost.id)):
            posts.setdefault(member_id, []).append({"id": post_id, "name": name, "category": category})
        for w in session.scalars(select(FreeTime).where(FreeTime.member_id.in_(chunk))
                                 .order_by(FreeTime.weekday, FreeTime.start_minute)):
            windows.setdefault(w.member_id, []).append({
                "weekday": w.weekday, "start": f"{w.start_minute // 60:02d}:{w.start_minute % 60:02d}",
                "end": f"{w.end_minute // 60:02d}:{w.end_minute % 60:02d}",
                "label": domain.describe_window(w.weekday, w.start_minute, w.end_minute)})
        year = date.today().year
        for c in session.scalars(select(Commitment).where(Commitment.member_id.in_(chunk), Commitment.year == year)
                                 .order_by(Commitment.id)):
            commitments.setdefault(c.member_id, []).append(c.text)
    names = _names(session, {m.community_id for m in members} | {m.grid_id for m in members}
                    | {m.building_id for m in members})
    return [{
        "id": m.id, "name": m.name, "phone": m.phone, "community_id": m.community_id,
        "community_name": names.get(m.community_id), "grid_id": m.grid_id, "grid_name": names.get(m.grid_id),
        "building_id": m.building_id, "building_name": names.get(m.building_id),
        "work_unit": m.work_unit, "work_unit_id": m.work_unit_id, "party_org": m.party_org,
        "profession": m.profession, "e_branch_id": m.e_branch_id, "skills": list(m.skills or []),
        "posts": posts.get(m.id, []), "free_time": windows.get(m.id, []),
        "commitments": commitments.get(m.id, []), "status": m.status,
        "status_label": domain.STATUS_LABELS.get(m.status, m.status), "decision_reason": m.decision_reason,
        "revoked_on": m.revoked_on, "source": m.source, "registered_at": m.registered_at,
    } for m in members]


def _shown(actor: dict, member: dict) -> dict:
    if not domain.can_see_phone(actor, member):
        member = dict(member, phone=domain.mask_phone(member["phone"]))
    return schemas.Member().dump(member)


def _member(session, member_id: int, *, lock=False) -> Member:
    query = select(Member).where(Member.id == member_id)
    if lock:
        query = query.with_for_update()
    member = session.scalar(query)
    if member is None:
        raise NotFound(code="MEMBER_NOT_FOUND", message="找不到该党员")
    return member


def _facts(session, member: Member) -> dict:
    """The member's place in the tree, as the member.* events and member_facts carry it."""
    user = session.get(User, member.id)
    return {"member_id": member.id, "name": member.name, "community_id": member.community_id,
            "street_id": user.street_id if user else None, "district_id": user.district_id if user else None,
            "grid_id": member.grid_id, "building_id": member.building_id, "work_unit_id": member.work_unit_id,
            "e_branch_id": member.e_branch_id, "skills": list(member.skills or [])}


def _check_can_view_private(session, actor: dict, member: Member):
    """History, the card: the member, staff above them, their work unit's organisation."""
    if actor["role"] == "system" or actor.get("user_id") == member.id:
        return
    if actor["role"] == "unit_org" and member.work_unit_id and actor.get("work_unit_id") == member.work_unit_id:
        return
    user = session.get(User, member.id)
    if reaches(actor, community_id=member.community_id, street_id=user.street_id, district_id=user.district_id):
        return
    raise Forbidden(message="您不能查看该党员的报到记录")


def get_member(store: Store, actor: dict, member_id: int) -> dict:
    actor = load(Actor(), actor)
    with store.uow() as uow:
        member = _member(uow.session, member_id)
        return _shown(actor, _views(uow.session, [member])[0])


def member_history(store: Store, actor: dict, member_id: int) -> list[dict]:
    actor = load(Actor(), actor)
    with store.uow() as uow:
        member = _member(uow.session, member_id)
        _check_can_view_private(uow.session, actor, member)
        rows = uow.session.scalars(select(RegistrationHistory).where(RegistrationHistory.member_id == member_id)
                                   .order_by(RegistrationHistory.id)).all()
        return schemas.HistoryEntry(many=True).dump(rows)


# ---- members: registering -------------------------------------------------------------------

def _record(session, member: Member, actor: dict, action: str, reason: str = ""):
    session.add(RegistrationHistory(
        member_id=member.id, action=action, status=member.status, community_id=member.community_id,
        grid_id=member.grid_id, building_id=member.building_id, work_unit_id=member.work_unit_id,
        work_unit=member.work_unit, reason=reason or "", actor_id=actor.get("user_id"), actor_role=actor["role"],
        at=utcnow()))


def _set_skills(session, member: Member, skills: list[str]):
    member.skills = skills
    session.execute(delete(MemberSkill).where(MemberSkill.member_id == member.id))
    if skills:
        session.execute(insert(MemberSkill), [{"member_id": member.id, "skill": s, "community_id": member.community_id}
                                              for s in skills])


def _check_posts(session, community_id: int, post_ids: list[int]) -> list[int]:
    post_ids = list(dict.fromkeys(post_ids))
    if not post_ids:
        return []
    found = set(session.scalars(select(ServicePost.id).where(
        ServicePost.id.in_(post_ids), ServicePost.community_id == community_id, ServicePost.active)))
    missing = [p for p in post_ids if p not in found]
    if missing:
        raise ValidationFailed(fields={"post_ids": [f"本社区没有这些服务岗位：{missing}"]})
    return post_ids


def _set_posts(session, member: Member, post_ids: list[int]):
    session.execute(delete(MemberPost).where(MemberPost.member_id == member.id))
    if post_ids:
        session.execute(insert(MemberPost), [{"member_id": member.id, "post_id": p} for p in post_ids])


def _set_free_time(session, member: Member, windows: list[tuple[int, int, int]]):
    session.execute(delete(FreeTime).where(FreeTime.member_id == member.id))
    if windows:
        session.execute(insert(FreeTime), [{"member_id": member.id, "weekday": d, "start_minute": s,
                                            "end_minute": e} for d, s, e in windows])


def _set_commitments(session, member: Member, texts: list[str]):
    year = date.today().year
    session.execute(delete(Commitment).where(Commitment.member_id == member.id, Commitment.year == year))
    if texts:
        session.execute(insert(Commitment), [{"member_id": member.id, "year": year, "text": t} for t in texts])


def _checked_details(session, data: dict) -> dict:
    """Identity, place, work unit, posts and free time checked; every field error at once."""
    errors = {}
    if not domain.valid_phone(data["phone"]):
        errors["phone"] = ["手机号码格式不正确，应为11位中国大陆手机号"]
    if not domain.valid_id_number(data["id_number"]):
        errors["id_number"] = ["身份证号码不正确（位数或校验位错误）"]
    try:
        domain.check_place(_place(session, data["community_id"]), _place(session, data["grid_id"]),
                           _place(session, data["building_id"]), grid_id=data["grid_id"],
                           building_id=data["building_id"])
    except ValidationFailed as err:
        errors.update(err.fields)
    windows = []
    try:
        windows = domain.expand_windows(data["free_time"])
    except ValidationFailed as err:
        errors.update(err.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    post_ids = _check_posts(session, data["community_id"], data["post_ids"])
    if data.get("work_unit_id") is not None:
        unit = _work_unit(session, data["work_unit_id"])
    else:
        unit = _work_unit_by_name(session, data["work_unit"], data["party_org"])
    return {"windows": windows, "post_ids": post_ids, "unit": unit, "skills": domain.normalise_skills(data["skills"]),
            "id_hash": domain.hash_id_number(data["id_number"], id_hash_key())}


def _fill(session, member: Member, data: dict, checked: dict):
    unit = checked["unit"]
    member.name, member.phone = data["name"], data["phone"]
    member.community_id, member.grid_id, member.building_id = data["community_id"], data["grid_id"], data["building_id"]
    member.work_unit_id = unit.id if unit else None
    member.work_unit = unit.name if unit else None
    member.party_org = data["party_org"] or (unit.party_org if unit else None)
    member.profession = data["profession"]
    member.updated_at = utcnow()
    session.flush()
    _set_skills(session, member, checked["skills"])
    _set_posts(session, member, checked["post_ids"])
    _set_free_time(session, member, checked["windows"])
    _set_commitments(session, member, data["commitments"])


def _check_unique(session, id_hash: str, phone: str, member_id=None):
    other = session.scalar(select(Member.id).where(Member.id_number_hash == id_hash))
    if other is not None and other != member_id:
        raise Conflict(code="DUPLICATE_REGISTRATION", message="该身份证号码已有报到登记，不能重复登记",
                       fields={"id_number": ["已登记"]})
    other = session.scalar(select(User.id).where(User.username == phone))
    if other is not None and other != member_id:
        raise Conflict(code="DUPLICATE_PHONE", message="该手机号码已被其他账号使用", fields={"phone": ["已被使用"]})


def _new_member(session, data, checked, *, user: User | None, status: str, source: str, password_hash) -> Member:
    if user is None:
        user = User(username=data["phone"], password_hash=password_hash, role="member", name=data["name"],
                    phone=data["phone"], active=True, created_at=utcnow())
        session.add(user)
        session.flush()
    member = Member(id=user.id, id_number_hash=checked["id_hash"], status=status, source=source,
                    registered_at=utcnow(), community_id=data["community_id"])
    session.add(member)
    _fill(session, member, data, checked)
    _sync_user(session, member)
    return member


def _sync_user(session, member: Member):
    user = session.get(User, member.id)
    user.name, user.phone = member.name, member.phone
    if user.username != member.phone and user.role == "member":
        user.username = member.phone  # members sign in with their phone number
    _locate(session, user, member.building_id or member.grid_id or member.community_id)
    user.work_unit_id, user.e_branch_id = member.work_unit_id, member.e_branch_id


def register_member(store: Store, actor: dict, payload: dict) -> dict:
    """Community staff enter a member of their community: accepted at once."""
    actor = load(Actor(), actor)
    data = load(schemas.RegisterMember(), payload)
    domain.check_can_register(actor, data["community_id"])
    password_hash = hash_password(data["password"]) if data["password"] else None
    with store.uow() as uow:
        session = uow.session
        checked = _checked_details(session, data)
        _check_unique(session, checked["id_hash"], data["phone"])
        member = _new_member(session, data, checked, user=None, status=domain.ACCEPTED, source="staff",
                             password_hash=password_hash)
        member.decided_at = utcnow()
        _record(session, member, actor, "accept", "社区工作人员登记")
        session.flush()
        uow.emit("member.accepted", _facts(session, member))
        view = _views(session, [member])[0]
        uow.commit()
    return _shown(actor, view)


def sign_up(store: Store, payload: dict) -> dict:
    """A member reports in without an account yet: one is made, the registration awaits the community."""
    data = load(schemas.SignUp(), payload)
    password_hash = hash_password(data["password"])
    with store.uow() as uow:
        session = uow.session
        checked = _checked_details(session, data)
        _check_unique(session, checked["id_hash"], data["phone"])
        member = _new_member(session, data, checked, user=None, status=domain.SUBMITTED, source="self",
                             password_hash=password_hash)
        actor = {"user_id": member.id, "role": "member"}
        _record(session, member, actor, "submit")
        session.flush()
        uow.emit("member.registered", _facts(session, member))
        view = _views(session, [member])[0]
        uow.commit()
    return _shown(actor, view)


def submit_registration(store: Store, actor: dict, payload: dict) -> dict:
    """A member account (re)submits its registration: after a rejection, a revocation, or for the first time."""
    actor = load(Actor(), actor)
    data = load(schemas.RegistrationDetails(), payload)
    if actor["role"] not in ("member", "grid_leader"):
        raise Forbidden(message="只有党员账号可以提交报到")
    with store.uow() as uow:
        session = uow.session
        user = session.get(User, actor["user_id"])
        if user is None:
            raise NotFound(message="找不到您的账号")
        checked = _checked_details(session, data)
        _check_unique(session, checked["id_hash"], data["phone"], member_id=user.id)
        member = session.get(Member, user.id)
        if member is None:
            member = _new_member(session, data, checked, user=user, status=domain.SUBMITTED, source="self",
                                 password_hash=None)
            _record(session, member, actor, "submit")
        else:
            if member.id_number_hash != checked["id_hash"]:
                raise ValidationFailed(fields={"id_number": ["与您账号已登记的身份证号码不一致"]})
            if member.status in (domain.SUBMITTED, domain.ACCEPTED):
                raise Conflict(code="ALREADY_REGISTERED",
                               message="您已有有效的报到登记，不能重复提交；搬家或换工作请办理转移",
                               details={"current_status": member.status})
            member.status = domain.next_status(member.status, "resubmit")
            member.decision_reason, member.revoked_on, member.decided_at = None, None, None
            _fill(session, member, data, checked)
            _sync_user(session, member)
            _record(session, member, actor, "resubmit")
        session.flush()
        uow.emit("member.registered", _facts(session, member))
        view = _views(session, [member])[0]
        uow.commit()
    return _shown(actor, view)


def _decide(store: Store, actor: dict, member_id: int, action: str, reason: str, *, revoked_on=None) -> dict:
    with store.uow() as uow:
        session = uow.session
        member = _member(session, member_id, lock=True)
        domain.check_can_decide(actor, member.community_id)
        member.status = domain.next_status(member.status, action)
        member.decided_at = utcnow()
        member.decision_reason = reason or None
        if action == "revoke":
            member.revoked_on = revoked_on or date.today()
        _record(session, member, actor, action, reason)
        session.flush()
        if action == "accept":
            uow.emit("member.accepted", _facts(session, member))
        elif action == "reject":
            uow.emit("member.rejected", {"member_id": member.id, "community_id": member.community_id,
                                         "reason": reason})
        else:
            uow.emit("member.revoked", {"member_id": member.id, "community_id": member.community_id,
                                        "reason": reason, "revoked_on": member.revoked_on.isoformat()})
        view = _views(session, [member])[0]
        uow.commit()
    return _shown(actor, view)


def accept_member(store: Store, actor: dict, member_id: int, payload: dict | None = None) -> dict:
    actor = load(Actor(), actor)
    data = load(schemas.Decision(), payload or {})
    return _decide(store, actor, member_id, "accept", data["reason"])


def reject_member(store: Store, actor: dict, member_id: int, payload: dict) -> dict:
    actor = load(Actor(), actor)
    data = load(schemas.Decision(), payload)
    domain.check_reason(data["reason"])
    return _decide(store, actor, member_id, "reject", data["reason"])


def revoke_member(store: Store, actor: dict, member_id: int, payload: dict) -> dict:
    actor = load(Actor(), actor)
    data = load(schemas.Revoke(), payload)
    domain.check_reason(data["reason"])
    return _decide(store, actor, member_id, "revoke", data["reason"], revoked_on=data["revoked_on"])


def transfer_member(store: Store, actor: dict, member_id: int, payload: dict) -> dict:
    """Moving home or job: the one registration moves; the old place stays in the history."""
    actor = load(Actor(), actor)
    data = load(schemas.Transfer(), payload)
    moves_home = data["community_id"] is not None
    moves_job = data["work_unit_id"] is not None or bool(data["work_unit"])
    if not moves_home and not moves_job and data["grid_id"] is None and data["building_id"] is None:
        raise ValidationFailed(fields={"community_id": ["请填写新的社区或新的工作单位"]})
    with store.uow() as uow:
        session = uow.session
        member = _member(session, member_id, lock=True)
        if actor.get("user_id") != member.id:
            domain.check_can_decide(actor, member.community_id)
        domain.next_status(member.status, "transfer")
        before_community, before_unit = member.community_id, member.work_unit_id
        community_id = data["community_id"] if moves_home else member.community_id
        grid_id = data["grid_id"] if (moves_home or data["grid_id"] is not None) else member.grid_id
        building_id = data["building_id"] if (moves_home or data["grid_id"] is not None
                                              or data["building_id"] is not None) else member.building_id
        domain.check_place(_place(session, community_id), _place(session, grid_id), _place(session, building_id),
                           grid_id=grid_id, building_id=building_id)
        if moves_job:
            unit = (_work_unit(session, data["work_unit_id"]) if data["work_unit_id"] is not None
                    else _work_unit_by_name(session, data["work_unit"], data["party_org"]))
            member.work_unit_id, member.work_unit = unit.id, unit.name
            member.party_org = data["party_org"] or unit.party_org
        member.community_id, member.grid_id, member.building_id = community_id, grid_id, building_id
        if community_id != before_community:
            # posts, the e-branch and teams belong to the old community
            session.execute(delete(MemberPost).where(MemberPost.member_id == member.id))
            session.execute(delete(TeamMember).where(TeamMember.member_id == member.id))
            member.e_branch_id = None
        member.updated_at = utcnow()
        session.flush()
        _set_skills(session, member, list(member.skills or []))  # their rows carry the community
        _sync_user(session, member)
        _record(session, member, actor, "transfer", data["reason"])
        session.flush()
        uow.emit("member.transferred", {**_facts(session, member), "from_community_id": before_community,
                                        "from_work_unit_id": before_unit, "reason": data["reason"]})
        view = _views(session, [member])[0]
        uow.commit()
    return _shown(actor, view)


def update_profile(store: Store, actor: dict, member_id: int, payload: dict) -> dict:
    """Skills, posts, free time, commitments: the member or their community's staff."""
    actor = load(Actor(), actor)
    data = load(schemas.UpdateProfile(), payload)
    with store.uow() as uow:
        session = uow.session
        member = _member(session, member_id, lock=True)
        if actor.get("user_id") != member.id:
            domain.check_can_decide(actor, member.community_id)
        if "skills" in data:
            _set_skills(session, member, domain.normalise_skills(data["skills"]))
        if "post_ids" in data:
            _set_posts(session, member, _check_posts(session, member.community_id, data["post_ids"]))
        if "free_time" in data:
            _set_free_time(session, member, domain.expand_windows(data["free_time"]))
        if "commitments" in data:
            _set_commitments(session, member, data["commitments"])
        if "profession" in data:
            member.profession = data["profession"]
        member.updated_at = utcnow()
        _record(session, member, actor, "update")
        session.flush()
        if member.status == domain.ACCEPTED:
            uow.emit("member.updated", _facts(session, member))
        view = _views(session, [member])[0]
        uow.commit()
    return _shown(actor, view)


# ---- what other services ask --------------------------------------------------------------------

CANDIDATE_QUERY, CANDIDATES = schemas.CandidateQuery(), schemas.Candidate(many=True)  # built once: hot path


def find_candidates(store: Store, query: dict) -> list[dict]:
    """Accepted members of a community by wanted skills matched, then free at ``at``, then nearness.

    Skills are rows indexed by (community, skill), so this is an index range scan and a
    group-by over the matching members only, not a scan of every member's JSON.
    """
    data = load(CANDIDATE_QUERY, query)
    wanted = domain.normalise_skills(data["skills"])
    columns = (Member.id, Member.name, Member.community_id, Member.grid_id, Member.building_id, Member.skills)
    if wanted:
        match = (select(MemberSkill.member_id, func.count().label("skill_match"))
                 .where(MemberSkill.community_id == data["community_id"], MemberSkill.skill.in_(wanted))
                 .group_by(MemberSkill.member_id).subquery())
        stmt = select(*columns, match.c.skill_match).join(match, match.c.member_id == Member.id)
        order = [match.c.skill_match.desc()]
    else:
        stmt = select(*columns, literal(0).label("skill_match"))
        order = []
    if data["at"] is not None:
        day, minute = domain.local_slot(data["at"])
        free = exists().where(FreeTime.member_id == Member.id, FreeTime.weekday == day,
                              FreeTime.start_minute <= minute, FreeTime.end_minute > minute).label("free")
        stmt = stmt.add_columns(free)
        order.append(free.desc())
    if data["building_id"] is not None:
        order.append((Member.building_id == data["building_id"]).desc())
    if data["grid_id"] is not None:
        order.append((Member.grid_id == data["grid_id"]).desc())
    stmt = (stmt.where(Member.community_id == data["community_id"], Member.status == domain.ACCEPTED)
            .order_by(*order, Member.id).limit(data["limit"]))
    with store.uow() as uow:
        found = [{"member_id": row[0], "name": row[1], "community_id": row[2], "grid_id": row[3],
                  "building_id": row[4], "skills": list(row[5] or []), "skill_match": row[6],
                  "available": bool(row[7]) if data["at"] is not None else True}
                 for row in uow.session.execute(stmt)]
    return CANDIDATES.dump(found)


def member_facts(store: Store, member_ids: list[int]) -> list[dict]:
    ids = [int(i) for i in (member_ids or [])][:10000]
    found = []
    with store.uow() as uow:
        for chunk in _chunks(ids):
            for member, user in uow.session.execute(select(Member, User).join(User, User.id == Member.id)
                                                    .where(Member.id.in_(chunk))):
                found.append({"member_id": member.id, "name": member.name, "community_id": member.community_id,
                              "street_id": user.street_id, "district_id": user.district_id,
                              "grid_id": member.grid_id, "building_id": member.building_id,
                              "work_unit_id": member.work_unit_id, "e_branch_id": member.e_branch_id,
                              "skills": list(member.skills or []), "status": member.status})
    return schemas.MemberFacts(many=True).dump(found)


def recipients(store: Store, query: dict) -> list[int]:
    """Ids of active accounts matching every given filter; members count only while accepted."""
    data = load(schemas.RecipientQuery(), query)
    stmt = (select(User.id).outerjoin(Member, Member.id == User.id)
            .where(User.active, or_(User.role != "member", Member.status == domain.ACCEPTED)))
    if data["roles"]:
        stmt = stmt.where(User.role.in_(data["roles"]))
    for key in ("district_id", "street_id", "community_id", "grid_id", "e_branch_id", "work_unit_id"):
        if data[key] is not None:
            stmt = stmt.where(getattr(User, key) == data[key])
    with store.uow() as uow:
        return list(uow.session.scalars(stmt.order_by(User.id)))


# ---- service posts --------------------------------------------------------------------------

def list_posts(store: Store, community_id: int) -> list[dict]:
    with store.uow() as uow:
        counts = dict(uow.session.execute(
            select(MemberPost.post_id, func.count()).join(ServicePost, ServicePost.id == MemberPost.post_id)
            .where(ServicePost.community_id == community_id).group_by(MemberPost.post_id)).all())
        posts = uow.session.scalars(select(ServicePost).where(ServicePost.community_id == community_id)
                                    .order_by(ServicePost.sort, ServicePost.id)).all()
        return schemas.Post(many=True).dump([{
            "id": p.id, "community_id": p.community_id, "category": p.category, "name": p.name,
            "description": p.description, "active": p.active, "members": counts.get(p.id, 0)} for p in posts])


def add_post(store: Store, actor: dict, community_id: int, payload: dict) -> dict:
    actor = load(Actor(), actor)
    data = load(schemas.NewPost(), payload)
    domain.check_can_decide(actor, community_id)
    with store.uow() as uow:
        session = uow.session
        if session.scalar(select(ServicePost.id).where(ServicePost.community_id == community_id,
                                                       ServicePost.name == data["name"])):
            raise Conflict(code="DUPLICATE_POST", message="本社区已有同名服务岗位", fields={"name": ["已存在"]})
        sort = (session.scalar(select(func.max(ServicePost.sort)).where(ServicePost.community_id == community_id))
                or 0) + 1
        post = ServicePost(community_id=community_id, sort=sort, active=True, **data)
        session.add(post)
        session.flush()
        result = {"id": post.id, "community_id": community_id, "category": post.category, "name": post.name,
                  "description": post.description, "active": True, "members": 0}
        uow.commit()
    return schemas.Post().dump(result)


# ---- e-branches, volunteer teams, pairings -------------------------------------------------------

def _community_members(session, community_id: int, member_ids: list[int]) -> list[Member]:
    member_ids = list(dict.fromkeys(member_ids))
    members = session.scalars(select(Member).where(Member.id.in_(member_ids))).all()
    found = {m.id: m for m in members}
    wrong = [i for i in member_ids if i not in found or found[i].community_id != community_id
             or found[i].status != domain.ACCEPTED]
    if wrong:
        raise ValidationFailed(fields={"member_ids": [f"这些人不是本社区已报到的党员：{wrong}"]})
    return [found[i] for i in member_ids]


def _e_branch_view(session, branch: EBranch) -> dict:
    member_ids = list(session.scalars(select(Member.id).where(Member.e_branch_id == branch.id).order_by(Member.id)))
    secretary = session.get(Member, branch.secretary_id) if branch.secretary_id else None
    return schemas.EBranch().dump({"id": branch.id, "community_id": branch.community_id, "name": branch.name,
                                   "secretary_id": branch.secretary_id,
                                   "secretary_name": secretary.name if secretary else None,
                                   "chat_url": branch.chat_url, "member_ids": member_ids})


def _join_e_branch(session, uow, branch: EBranch, members: list[Member]):
    for member in members:
        if member.e_branch_id == branch.id:
            continue
        member.e_branch_id = branch.id
        session.get(User, member.id).e_branch_id = branch.id
        session.flush()
        uow.emit("member.updated", _facts(session, member))


def create_e_branch(store: Store, actor: dict, community_id: int, payload: dict) -> dict:
    actor = load(Actor(), actor)
    data = load(schemas.NewEBranch(), payload)
    domain.check_can_decide(actor, community_id)
    with store.uow() as uow:
        session = uow.session
        if session.scalar(select(EBranch.id).where(EBranch.community_id == community_id,
                                                   EBranch.name == data["name"])):
            raise Conflict(code="DUPLICATE_E_BRANCH", message="本社区已有同名e支部", fields={"name": ["已存在"]})
        secretary = (_community_members(session, community_id, [data["secretary_id"]])
                     if data["secretary_id"] is not None else [])
        branch = EBranch(community_id=community_id, name=data["name"], secretary_id=data["secretary_id"],
                         chat_url=data["chat_url"], created_at=utcnow())
        session.add(branch)
        session.flush()
        _join_e_branch(session, uow, branch, secretary)
        view = _e_branch_view(session, branch)
        uow.commit()
    return view


def list_e_branches(store: Store, community_id: int) -> list[dict]:
    with store.uow() as uow:
        branches = uow.session.scalars(select(EBranch).where(EBranch.community_id == community_id)
                                       .order_by(EBranch.id)).all()
        return [_e_branch_view(uow.session, b) for b in branches]


def add_e_branch_members(store: Store, actor: dict, e_branch_id: int, payload: dict) -> dict:
    actor = load(Actor(), actor)
    data = load(schemas.MemberIds(), payload)
    with store.uow() as uow:
        session = uow.session
        branch = session.get(EBranch, e_branch_id)
        if branch is None:
            raise NotFound(code="E_BRANCH_NOT_FOUND", message="找不到该e支部")
        domain.check_can_decide(actor, branch.community_id)
        _join_e_branch(session, uow, branch, _community_members(session, branch.community_id, data["member_ids"]))
        view = _e_branch_view(session, branch)
        uow.commit()
    return view


def _team_view(session, team: VolunteerTeam) -> dict:
    member_ids = list(session.scalars(select(TeamMember.member_id).where(TeamMember.team_id == team.id)
                                      .order_by(TeamMember.member_id)))
    return schemas.Team().dump({"id": team.id, "community_id": team.community_id, "name": team.name,
                                "kind": team.kind, "leader_id": team.leader_id, "member_ids": member_ids})


def create_team(store: Store, actor: dict, community_id: int, payload: dict) -> dict:
    actor = load(Actor(), actor)
    data = load(schemas.NewTeam(), payload)
    domain.check_can_decide(actor, community_id)
    with store.uow() as uow:
        session = uow.session
        if session.scalar(select(VolunteerTeam.id).where(VolunteerTeam.community_id == community_id,
                                                         VolunteerTeam.name == data["name"])):
            raise Conflict(code="DUPLICATE_TEAM", message="本社区已有同名义工队", fields={"name": ["已存在"]})
        leaders = (_community_members(session, community_id, [data["leader_id"]])
                   if data["leader_id"] is not None else [])
        team = VolunteerTeam(community_id=community_id, created_at=utcnow(), **data)
        session.add(team)
        session.flush()
        for leader in leaders:
            session.add(TeamMember(team_id=team.id, member_id=leader.id))
        session.flush()
        view = _team_view(session, team)
        uow.commit()
    return view


def list_teams(store: Store, community_id: int) -> list[dict]:
    with store.uow() as uow:
        teams = uow.session.scalars(select(VolunteerTeam).where(VolunteerTeam.community_id == community_id)
                                    .order_by(VolunteerTeam.id)).all()
        return [_team_view(uow.session, t) for t in teams]


def add_team_members(store: Store, actor: dict, team_id: int, payload: dict) -> dict:
    actor = load(Actor(), actor)
    data = load(schemas.MemberIds(), payload)
    with store.uow() as uow:
        session = uow.session
        team = session.get(VolunteerTeam, team_id)
        if team is None:
            raise NotFound(code="TEAM_NOT_FOUND", message="找不到该义工队")
        domain.check_can_decide(actor, team.community_id)
        members = _community_members(session, team.community_id, data["member_ids"])
        already = set(session.scalars(select(TeamMember.member_id).where(TeamMember.team_id == team_id)))
        for member in members:
            if member.id not in already:
                session.add(TeamMember(team_id=team_id, member_id=member.id))
        session.flush()
        view = _team_view(session, team)
        uow.commit()
    return view


def create_pairing(store: Store, actor: dict, payload: dict) -> dict:
    actor = load(Actor(), actor)
    data = load(schemas.NewPairing(), payload)
    domain.check_pairing_party(data["member_id"], data["e_branch_id"])
    domain.check_can_decide(actor, data["community_id"])
    starts_on = data["starts_on"] or date.today()
    with store.uow() as uow:
        session = uow.session
        if data["member_id"] is not None:
            _community_members(session, data["community_id"], [data["member_id"]])
        else:
            branch = session.get(EBranch, data["e_branch_id"])
            if branch is None or branch.community_id != data["community_id"]:
                raise ValidationFailed(fields={"e_branch_id": ["本社区没有该e支部"]})
        pairing = Pairing(community_id=data["community_id"], member_id=data["member_id"],
                          e_branch_id=data["e_branch_id"], household=data["household"], address=data["address"],
                          difficulty=data["difficulty"], starts_on=starts_on,
                          ends_on=domain.pairing_end(starts_on), created_by=actor.get("user_id"),
                          created_at=utcnow())
        session.add(pairing)
        session.flush()
        result = schemas.Pairing().dump(pairing)
        uow.commit()
    return result


def list_pairings(store: Store, actor: dict, community_id: int, active_on: date | None = None) -> list[dict]:
    actor = load(Actor(), actor)
    with store.uow() as uow:
        community = _place(uow.session, community_id)
        if community is None:
            raise NotFound(message="找不到该社区")
        if not reaches(actor, community_id=community_id, **_street_district(uow.session, community)):
            raise Forbidden(message="该社区不在您的管辖范围内")
        day = active_on or date.today()
        rows = uow.session.scalars(select(Pairing).where(Pairing.community_id == community_id,
                                                         Pairing.starts_on <= day, Pairing.ends_on >= day)
                                   .order_by(Pairing.id)).all()
        return schemas.Pairing(many=True).dump(rows)


# ---- the talent pool ----------------------------------------------------------------------------

def _talent_statement(actor: dict, data: dict):
    stmt = select(Member).join(User, User.id == Member.id)
    role = actor["role"]
    if role in ("community_staff", "grid_leader"):
        if data["community_id"] not in (None, actor.get("community_id")):
            raise Forbidden(message="只能查询本社区的人才库")
        stmt = stmt.where(Member.community_id == actor.get("community_id"))
    elif role == "street_staff":
        stmt = stmt.where(User.street_id == actor.get("street_id"))
    elif role == "district_staff":
        stmt = stmt.where(User.district_id == actor.get("district_id"))
    elif role == "unit_org":
        stmt = stmt.where(Member.work_unit_id == actor.get("work_unit_id"))
    elif role != "system":
        raise Forbidden(message="您不能查询人才库")
    if data["status"] != "all":
        stmt = stmt.where(Member.status == data["status"])
    for key in ("community_id", "grid_id", "building_id", "work_unit_id", "e_branch_id"):
        if data[key] is not None:
            stmt = stmt.where(getattr(Member, key) == data[key])
    if data["street_id"] is not None:
        stmt = stmt.where(User.street_id == data["street_id"])
    if data["name"]:
        stmt = stmt.where(Member.name.startswith(data["name"]))
    if data["skill"]:
        stmt = stmt.where(exists().where(MemberSkill.member_id == Member.id, MemberSkill.skill == data["skill"]))
    if data["post_id"] is not None:
        stmt = stmt.where(exists().where(MemberPost.member_id == Member.id, MemberPost.post_id == data["post_id"]))
    if data["available_at"] is not None:
        day, minute = domain.local_slot(data["available_at"])
        stmt = stmt.where(exists().where(FreeTime.member_id == Member.id, FreeTime.weekday == day,
                                         FreeTime.start_minute <= minute, FreeTime.end_minute > minute))
    return stmt


def search_talent(store: Store, actor: dict, query: dict) -> dict:
    actor = load(Actor(), actor)
    data = load(schemas.TalentQuery(), query)
    stmt = _talent_statement(actor, data)
    with store.uow() as uow:
        session = uow.session
        total = session.scalar(select(func.count()).select_from(stmt.subquery()))
        members = session.scalars(stmt.order_by(Member.id).offset((data["page"] - 1) * data["per_page"])
                                  .limit(data["per_page"])).all()
        items = [_shown(actor, v) for v in _views(session, members)]
    return {"items": items, "total": total, "page": data["page"], "per_page": data["per_page"]}


EXPORT_LIMIT = 50000


def export_talent(store: Store, actor: dict, query: dict) -> list[dict]:
    """Rows for the spreadsheet (the gateway or the CLI writes the file), phones masked as in search."""
    actor = load(Actor(), actor)
    data = load(schemas.TalentQuery(), {k: v for k, v in (query or {}).items() if k != "format"})
    stmt = _talent_statement(actor, data)
    rows = []
    with store.uow() as uow:
        members = uow.session.scalars(stmt.order_by(Member.id).limit(EXPORT_LIMIT)).all()
        for view in _views(uow.session, members):
            shown = view if domain.can_see_phone(actor, view) else dict(view, phone=domain.mask_phone(view["phone"]))
            rows.append({
                "id": view["id"], "name": view["name"], "phone": shown["phone"],
                "community_name": view["community_name"] or "", "grid_name": view["grid_name"] or "",
                "building_name": view["building_name"] or "", "work_unit": view["work_unit"] or "",
                "party_org": view["party_org"] or "", "skills": view["skills"],
                "post_names": [p["name"] for p in view["posts"]],
                "free_time_text": [w["label"] for w in view["free_time"]], "status_label": view["status_label"]})
    return rows


# ---- the e-volunteer card -------------------------------------------------------------------------

def record_service(uow, source: str, ref_id: int, member_ids: list[int], *, community_id, title, place, hours):
    """One service-record row per member and request/activity; a repeat is ignored."""
    session = uow.session
    if not place and community_id:
        place = (_place(session, community_id) or {}).get("name", "")
    for member_id in dict.fromkeys(member_ids):
        if session.scalar(select(ServiceRecord.id).where(ServiceRecord.source == source,
                                                         ServiceRecord.ref_id == ref_id,
                                                         ServiceRecord.member_id == member_id)):
            continue
        session.add(ServiceRecord(member_id=member_id, source=source, ref_id=ref_id, community_id=community_id,
                                  title=title or "", place=place or "", hours=hours or 0.0, at=utcnow()))


def on_request_confirmed(uow, event: dict):
    data = event["data"]
    record_service(uow, "request", data["request_id"], data["member_ids"], community_id=data["community_id"],
                   title=data["title"], place=data.get("place", ""), hours=data.get("hours", 0.0))


def on_activity_attended(uow, event: dict):
    data = event["data"]
    record_service(uow, "activity", data["activity_id"], [data["member_id"]], community_id=data["community_id"],
                   title=data["title"], place=data.get("place", ""), hours=data.get("hours", 0.0))


def add_training(store: Store, actor: dict, member_id: int, payload: dict) -> dict:
    actor = load(Actor(), actor)
    data = load(schemas.NewTraining(), payload)
    with store.uow() as uow:
        member = _member(uow.session, member_id)
        domain.check_can_decide(actor, member.community_id)
        training = Training(member_id=member_id, title=data["title"], hours=data["hours"],
                            held_on=data["held_on"] or date.today(), recorded_by=actor.get("user_id"))
        uow.session.add(training)
        uow.session.flush()
        result = schemas.Training().dump(training)
        uow.commit()
    return result


def get_card(store: Store, scoring_summary, actor: dict, member_id: int) -> dict:
    """电子义工证. ``scoring_summary(member_id)`` is the port to scoring; if it fails the card shows without points."""
    actor = load(Actor(), actor)
    with store.uow() as uow:
        session = uow.session
        member = _member(session, member_id)
        _check_can_view_private(session, actor, member)
        view = _views(session, [member])[0]
        if not domain.can_see_phone(actor, view):
            view["phone"] = domain.mask_phone(view["phone"])
        records = session.scalars(select(ServiceRecord).where(ServiceRecord.member_id == member_id)
                                  .order_by(ServiceRecord.id.desc())).all()
        summary = domain.service_summary([{"source": r.source, "place": r.place, "hours": r.hours} for r in records])
        recent = [{"source": r.source, "title": r.title, "place": r.place, "hours": r.hours, "at": r.at}
                  for r in records[:10]]
        trainings = [{"title": t.title, "hours": t.hours, "held_on": t.held_on} for t in session.scalars(
            select(Training).where(Training.member_id == member_id).order_by(Training.held_on.desc()))]
        teams = list(session.scalars(select(VolunteerTeam.name).join(TeamMember, TeamMember.team_id == VolunteerTeam.id)
                                     .where(TeamMember.member_id == member_id).order_by(VolunteerTeam.id)))
        branch = session.get(EBranch, member.e_branch_id) if member.e_branch_id else None
        branch_name = branch.name if branch else None
    # the remote call happens after the transaction is closed
    points = None
    try:
        points = scoring_summary(member_id)
    except Exception:  # scoring down, slow or older: the card is still useful without points
        points = None
    return schemas.Card().dump({
        "member": view, "services": summary, "recent": recent, "trainings": trainings,
        "points": points if isinstance(points, dict) else None, "points_available": isinstance(points, dict),
        "teams": teams, "e_branch": branch_name})


# ---- roster import ----------------------------------------------------------------------------

IMPORTERS = ("community_staff", "street_staff", "district_staff", "unit_org", "system")
ROSTER_ROW = schemas.RosterRow()  # one instance: building a schema costs more than loading a row
PRESET_BY_LABEL = {**{v: k for k, v in domain.PRESET_LABELS.items()}, **{k: k for k in domain.PRESETS}}


def _split(value, pattern=r"[;；\n]+") -> list[str]:
    import re

    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in re.split(pattern, str(value or "")) if v.strip()]


class _Tree:
    """The org tree in memory for one import: names → ids, within what the importer reaches."""

    def __init__(self, session, actor):
        self.actor = actor
        units = session.execute(select(OrgUnit.id, OrgUnit.kind, OrgUnit.name, OrgUnit.parent_id)).all()
        self.units = {u.id: u for u in units}
        self.communities = {u.id: u for u in units if u.kind == "community"}
        self.by_name: dict[str, list[int]] = {}
        for u in self.communities.values():
            self.by_name.setdefault(u.name, []).append(u.id)
        self.children: dict[tuple[int, str], int] = {(u.parent_id, u.name): u.id for u in units
                                                     if u.kind in ("grid", "building")}
        self.posts = {(p.community_id, p.name): p.id for p in session.execute(
            select(ServicePost.id, ServicePost.community_id, ServicePost.name).where(ServicePost.active))}

    def above(self, unit_id) -> dict:
        found = {}
        while unit_id is not None and unit_id in self.units:
            unit = self.units[unit_id]
            found.setdefault(f"{unit.kind}_id", unit.id)
            unit_id = unit.parent_id
        return found

    def reaches(self, community_id) -> bool:
        if self.actor["role"] in ("system", "unit_org"):
            return True
        place = self.above(community_id)
        return reaches(self.actor, community_id=community_id, street_id=place.get("street_id"),
                       district_id=place.get("district_id"))

    def community(self, row, default_id):
        """(id, reason)."""
        if row["community_id"] is not None:
            cid = row["community_id"]
            if cid not in self.communities:
                return None, f"找不到编号为{cid}的社区"
        elif row["community"]:
            ids = self.by_name.get(row["community"], [])
            if len(ids) > 1:
                ids = [i for i in ids if self.reaches(i)]
            if not ids:
                return None, f"找不到社区“{row['community']}”"
            if len(ids) > 1:
                return None, f"有多个名为“{row['community']}”的社区，请改填社区编号"
            cid = ids[0]
        elif default_id is not None:
            cid = default_id
            if cid not in self.communities:
                return None, f"找不到编号为{cid}的社区"
        else:
            return None, "缺少所在社区"
        if not self.reaches(cid):
            return None, f"社区“{self.communities[cid].name}”不在您的管辖范围内"
        return cid, None

    def child(self, parent_id, given_id, given_name, kind_zh, parent_zh):
        if given_id is not None:
            unit = self.units.get(given_id)
            if unit is None or unit.parent_id != parent_id:
                return None, f"{kind_zh}（编号{given_id}）不属于所填{parent_zh}"
            return given_id, None
        if given_name:
            found = self.children.get((parent_id, given_name))
            if found is None:
                return None, f"{kind_zh}“{given_name}”不属于所填{parent_zh}"
            return found, None
        return None, None


def _roster_row(tree: _Tree, raw: dict, default_community, forced_unit, key: bytes):
    """One line → (clean row, reasons)."""
    from marshmallow import ValidationError

    try:
        row = ROSTER_ROW.load(raw)
    except ValidationError as err:
        return None, [f"格式不正确：{'、'.join(sorted(err.messages))}"]
    reasons = []
    name = row["name"].strip()
    phone = row["phone"].strip().replace(" ", "").replace("-", "")
    id_number = row["id_number"].strip().upper()
    if not name:
        reasons.append("缺少姓名")
    if not domain.valid_phone(phone):
        reasons.append("手机号码格式不正确（应为11位手机号）" if phone else "缺少手机号码")
    if not domain.valid_id_number(id_number):
        reasons.append("身份证号码不正确（位数或校验位错误）" if id_number else "缺少身份证号码")
    community_id, why = tree.community(row, default_community)
    grid_id = building_id = None
    if why:
        reasons.append(why)
    else:
        grid_id, why = tree.child(community_id, row["grid_id"], row["grid"].strip(), "网格", "社区")
        if why:
            reasons.append(why)
        elif row["building_id"] is not None or row["building"].strip():
            if grid_id is None:
                reasons.append("填写了楼栋但没有填写网格")
            else:
                building_id, why = tree.child(grid_id, row["building_id"], row["building"].strip(), "楼栋", "网格")
                if why:
                    reasons.append(why)
    post_ids = []
    for post in _split(row["posts"], r"[,，、;；\n]+"):
        post_id = tree.posts.get((community_id, post))
        if post_id is None and community_id is not None:
            reasons.append(f"社区没有服务岗位“{post}”")
        post_ids.append(post_id)
    windows = []
    if isinstance(row["free_time"], list) and row["free_time"] and isinstance(row["free_time"][0], dict):
        presets = row["free_time"]
    else:
        presets = []
        for label in _split(row["free_time"], r"[,，、;；\n]+"):
            if label in PRESET_BY_LABEL:
                presets.append({"preset": PRESET_BY_LABEL[label]})
            else:
                reasons.append(f"不认识的空闲时间“{label}”（可填：{'、'.join(domain.PRESET_LABELS.values())}）")
    try:
        windows = domain.expand_windows(presets)
    except ValidationFailed:
        reasons.append("空闲时间格式不正确")
    if reasons:
        return None, reasons
    return {
        "name": name[:50], "phone": phone, "id_hash": domain.hash_id_number(id_number, key),
        "community_id": community_id, "grid_id": grid_id, "building_id": building_id,
        "work_unit": (forced_unit or row["work_unit"].strip())[:100] or None,
        "party_org": row["party_org"].strip()[:100] or None, "profession": row["profession"].strip()[:50] or None,
        "skills": domain.normalise_skills(row["skills"]) if row["skills"] else None,
        "post_ids": sorted(post_ids) if row["posts"] else None,
        "windows": windows if row["free_time"] else None,
        "commitments": [c[:500] for c in _split(row["commitments"])] if row["commitments"] else None,
    }, []


def _changes(row: dict, member: Member, current: dict) -> dict:
    """What a re-imported row would change on an existing member; {} when nothing (idempotence)."""
    changes = {}
    for key in ("name", "phone", "community_id"):
        if row[key] != getattr(member, key):
            changes[key] = row[key]
    moved = "community_id" in changes
    for key in ("grid_id", "building_id"):
        if (row[key] is not None or moved) and row[key] != getattr(member, key):
            changes[key] = row[key]
    for key in ("work_unit", "party_org", "profession"):
        if row[key] is not None and row[key] != getattr(member, key):
            changes[key] = row[key]
    if row["skills"] is not None and row["skills"] != list(member.skills or []):
        changes["skills"] = row["skills"]
    for key in ("post_ids", "windows", "commitments"):
        if row[key] is not None and row[key] != current[key]:
            changes[key] = row[key]
    return changes


def _current_details(session, member_ids: list[int]) -> dict:
    found = {i: {"post_ids": [], "windows": [], "commitments": []} for i in member_ids}
    year = date.today().year
    for chunk in _chunks(member_ids):
        for member_id, post_id in session.execute(select(MemberPost.member_id, MemberPost.post_id)
                                                  .where(MemberPost.member_id.in_(chunk))):
            found[member_id]["post_ids"].append(post_id)
        for w in session.execute(select(FreeTime.member_id, FreeTime.weekday, FreeTime.start_minute,
                                        FreeTime.end_minute).where(FreeTime.member_id.in_(chunk))):
            found[w.member_id]["windows"].append((w.weekday, w.start_minute, w.end_minute))
        for c in session.execute(select(Commitment.member_id, Commitment.text)
                                 .where(Commitment.member_id.in_(chunk), Commitment.year == year)
                                 .order_by(Commitment.id)):
            found[c.member_id]["commitments"].append(c.text)
    for details in found.values():
        details["post_ids"].sort()
        details["windows"].sort()
    return found


def import_roster(store: Store, actor: dict, payload: dict, progress=None) -> dict:
    """All or nothing, and idempotent: a bad row stops the whole file; the same file twice changes nothing.

    Rows are matched to members on the ID-number hash. Imported members get no password (they set
    one later), so 10,000 rows cost no password hashing. ``progress(n)`` is told of rows processed.
    """
    actor = load(Actor(), actor)
    data = load(schemas.RosterImport(), payload)
    if actor["role"] not in IMPORTERS:
        raise Forbidden(message="只有社区、街道、区县工作人员或单位党组织可以导入名册")
    if actor["role"] == "community_staff" and data["community_id"] is None:
        data["community_id"] = actor.get("community_id")
    tick = progress or (lambda n: None)
    key = id_hash_key()
    now, year = utcnow(), date.today().year
    with store.uow() as uow:
        session = uow.session
        tree = _Tree(session, actor)
        forced_unit = None
        if actor["role"] == "unit_org":  # a work unit imports its own members
            forced_unit = _work_unit(session, actor.get("work_unit_id")).name
        errors, clean, seen_hash, seen_phone = [], [], {}, {}
        for n, raw in enumerate(data["rows"], start=1):
            line = raw.get("row") if isinstance(raw.get("row"), int) else n
            row, reasons = _roster_row(tree, raw, data["community_id"], forced_unit, key)
            if row is not None:
                if row["id_hash"] in seen_hash:
                    reasons.append(f"与第{seen_hash[row['id_hash']]}行的身份证号码重复")
                if row["phone"] in seen_phone:
                    reasons.append(f"与第{seen_phone[row['phone']]}行的手机号码重复")
                seen_hash.setdefault(row["id_hash"], line)
                seen_phone.setdefault(row["phone"], line)
            if reasons:
                errors.append({"row": line, "reason": "；".join(reasons)})
            else:
                row["line"] = line
                clean.append(row)
            if n % 500 == 0:
                tick(500)
        tick(len(data["rows"]) % 500)
        existing: dict[str, Member] = {}
        owners: dict[str, int] = {}
        for chunk in _chunks([r["id_hash"] for r in clean]):
            existing.update((m.id_number_hash, m) for m in session.scalars(
                select(Member).where(Member.id_number_hash.in_(chunk))))
        for chunk in _chunks([r["phone"] for r in clean]):
            owners.update(session.execute(select(User.username, User.id).where(User.username.in_(chunk))).all())
        current = _current_details(session, [m.id for m in existing.values()])
        creates, updates, unchanged = [], [], 0
        for row in clean:
            member = existing.get(row["id_hash"])
            owner = owners.get(row["phone"])
            if owner is not None and (member is None or owner != member.id):
                errors.append({"row": row["line"], "reason": "手机号码已被其他账号使用"})
            elif member is None:
                creates.append(row)
            else:
                changes = _changes(row, member, current[member.id])
                if changes:
                    updates.append((member, changes, row))
                else:
                    unchanged += 1
        errors.sort(key=lambda e: e["row"])
        record = RosterImport(actor_id=actor.get("user_id"), community_id=data["community_id"],
                              source=data["source"], rows=len(data["rows"]), errors=errors, at=now)
        session.add(record)
        if errors:
            record.created = record.updated = record.unchanged = 0
            session.flush()
            result = _roster_result(record)
            uow.commit()  # only the report of what was wrong; no member row is written
            return result
        _create_imported(session, uow, actor, creates, now, year, tick)
        for member, changes, row in updates:
            _update_imported(session, uow, actor, member, changes, row)
        record.created, record.updated, record.unchanged = len(creates), len(updates), unchanged
        session.flush()
        result = _roster_result(record)
        uow.commit()
    return result


def _roster_result(record: RosterImport) -> dict:
    return schemas.RosterResult().dump({"import_id": record.id, "rows": record.rows, "created": record.created,
                                        "updated": record.updated, "unchanged": record.unchanged,
                                        "errors": record.errors})


def _unit_ids(session, names: set[str], party_orgs: dict) -> dict:
    names = {n for n in names if n}
    found = {}
    for chunk in _chunks(sorted(names)):
        found.update(session.execute(select(WorkUnit.name, WorkUnit.id).where(WorkUnit.name.in_(chunk))).all())
    missing = sorted(names - set(found))
    if missing:
        ids = session.scalars(insert(WorkUnit).returning(WorkUnit.id, sort_by_parameter_order=True),
                              [{"name": n, "party_org": party_orgs.get(n), "created_at": utcnow()}
                               for n in missing]).all()
        found.update(zip(missing, ids, strict=True))
    return found


def _create_imported(session, uow, actor, rows, now, year, tick):
    """Bulk inserts: one statement per table per chunk, ids back via RETURNING."""
    if not rows:
        return
    units = _unit_ids(session, {r["work_unit"] for r in rows},
                      {r["work_unit"]: r["party_org"] for r in rows if r["work_unit"]})
    for chunk in _chunks(rows, 1000):
        places = [_above_cached(session, r["building_id"] or r["grid_id"] or r["community_id"]) for r in chunk]
        user_ids = session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), [{
            "username": r["phone"], "password_hash": None, "role": "member", "name": r["name"], "phone": r["phone"],
            "org_unit_id": r["building_id"] or r["grid_id"] or r["community_id"], "created_at": now, "active": True,
            "district_id": p.get("district_id"), "street_id": p.get("street_id"),
            "community_id": r["community_id"], "grid_id": r["grid_id"],
            "work_unit_id": units.get(r["work_unit"]), "e_branch_id": None}
            for r, p in zip(chunk, places, strict=True)]).all()
        members, skills, posts, windows, commitments, history = [], [], [], [], [], []
        for r, member_id in zip(chunk, user_ids, strict=True):
            r["id"] = member_id
            members.append({
                "id": member_id, "name": r["name"], "phone": r["phone"], "id_number_hash": r["id_hash"],
                "community_id": r["community_id"], "grid_id": r["grid_id"], "building_id": r["building_id"],
                "work_unit": r["work_unit"], "work_unit_id": units.get(r["work_unit"]), "party_org": r["party_org"],
                "profession": r["profession"], "skills": r["skills"] or [], "status": domain.ACCEPTED,
                "registered_at": now, "decided_at": now, "source": "import", "updated_at": now})
            skills += [{"member_id": member_id, "skill": s, "community_id": r["community_id"]}
                       for s in r["skills"] or []]
            posts += [{"member_id": member_id, "post_id": p} for p in r["post_ids"] or []]
            windows += [{"member_id": member_id, "weekday": d, "start_minute": s, "end_minute": e}
                        for d, s, e in r["windows"] or []]
            commitments += [{"member_id": member_id, "year": year, "text": t} for t in r["commitments"] or []]
            history.append({"member_id": member_id, "action": "import", "status": domain.ACCEPTED,
                            "community_id": r["community_id"], "grid_id": r["grid_id"],
                            "building_id": r["building_id"], "work_unit_id": units.get(r["work_unit"]),
                            "work_unit": r["work_unit"], "reason": "名册导入", "actor_id": actor.get("user_id"),
                            "actor_role": actor["role"], "at": now})
        session.execute(insert(Member), members)
        for table, values in ((MemberSkill, skills), (MemberPost, posts), (FreeTime, windows),
                              (Commitment, commitments), (RegistrationHistory, history)):
            if values:
                session.execute(insert(table), values)
        uow.emit_many("member.accepted", [{
            "member_id": m["id"], "name": m["name"], "community_id": m["community_id"],
            "street_id": p.get("street_id"), "district_id": p.get("district_id"), "grid_id": m["grid_id"],
            "building_id": m["building_id"], "work_unit_id": m["work_unit_id"], "e_branch_id": None,
            "skills": m["skills"]} for p, m in zip(places, members, strict=True)])
        tick(len(chunk))


def _above_cached(session, node_id) -> dict:
    cache = session.info.setdefault("_above", {})
    if node_id not in cache:
        cache[node_id] = _ancestry(session, node_id)
    return cache[node_id]


def _update_imported(session, uow, actor, member: Member, changes: dict, row: dict):
    before_community, before_unit = member.community_id, member.work_unit_id
    for key in ("name", "phone", "community_id", "grid_id", "building_id", "party_org", "profession"):
        if key in changes:
            setattr(member, key, changes[key])
    if "work_unit" in changes:
        unit = _work_unit_by_name(session, changes["work_unit"], row["party_org"])
        member.work_unit_id, member.work_unit = unit.id, unit.name
    member.updated_at = utcnow()
    session.flush()
    if "skills" in changes or "community_id" in changes:
        _set_skills(session, member, changes.get("skills", list(member.skills or [])))
    if "post_ids" in changes:
        _set_posts(session, member, changes["post_ids"])
    if "windows" in changes:
        _set_free_time(session, member, changes["windows"])
    if "commitments" in changes:
        _set_commitments(session, member, changes["commitments"])
    _sync_user(session, member)
    moved = member.community_id != before_community or member.work_unit_id != before_unit
    _record(session, member, actor, "transfer" if moved else "update", "名册导入")
    session.flush()
    if member.status != domain.ACCEPTED:
        return
    if moved:
        uow.emit("member.transferred", {**_facts(session, member), "from_community_id": before_community,
                                        "from_work_unit_id": before_unit, "reason": "名册导入"})
    else:
        uow.emit("member.updated", _facts(session, member))


def roster_errors(store: Store, actor: dict, import_id: int) -> list[dict]:
    actor = load(Actor(), actor)
    with store.uow() as uow:
        record = uow.session.get(RosterImport, import_id)
        if record is None:
            raise NotFound(code="IMPORT_NOT_FOUND", message="找不到该次导入记录")
        if actor["role"] != "system" and record.actor_id != actor.get("user_id"):
            raise Forbidden(message="只能下载自己导入的错误报告")
        return list(record.errors or [])
