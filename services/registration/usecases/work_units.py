"""Work units: units, their organisation's accounts, and unit reporting to communities (单位报到)."""

from datetime import date

from sqlalchemy import func, select

import authz
from common.actors import Actor, reaches
from common.db import Store, utcnow
from common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from common.masking import mask_phone
from common.schemas import load
from services.registration import domain, schemas
from services.registration.models import Member, UnitReport, User, WorkUnit
from services.registration.usecases.accounts import hash_password
from services.registration.usecases.tree import _ancestry, _place, _street_district

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
    actor = load(Actor, actor)
    data = load(schemas.NewWorkUnit, payload)
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


def unit_facts(session, unit_id: int) -> dict:
    """A work unit for the policy: itself, and every community (street, district) it reported to."""
    places = [_ancestry(session, cid) for cid in session.scalars(
        select(UnitReport.community_id).where(UnitReport.work_unit_id == unit_id))]
    return authz.facts(work_unit_ids=[unit_id]) | {
        key: sorted({p[key] for p in places if p.get(key) is not None})
        for key in ("community_id", "street_id", "district_id")}


def _unit_view(session, actor: dict, unit: WorkUnit) -> dict:
    view = schemas.WorkUnit().dump(unit)
    if view.get("contact_phone"):
        view["contact_phone"] = (view["contact_phone"] if authz.permits(
            actor, "personal.unit_contact_phone", unit_facts(session, unit.id)) else mask_phone(view["contact_phone"]))
    return view


def list_work_units(store: Store, actor: dict, query: dict | None = None) -> list[dict]:
    actor = load(Actor, actor)
    name = (query or {}).get("name")
    with store.uow() as uow:
        stmt = select(WorkUnit).order_by(WorkUnit.name).limit(200)
        if name:
            stmt = stmt.where(WorkUnit.name.contains(name))
        return [_unit_view(uow.session, actor, u) for u in uow.session.scalars(stmt).all()]


def create_unit_account(store: Store, actor: dict, work_unit_id: int, payload: dict) -> dict:
    """A sign-in for a work unit's Party organisation (role unit_org)."""
    actor = load(Actor, actor)
    data = load(schemas.NewUnitAccount, payload)
    authz.check(actor, "registration.create_unit_account")
    password_hash = hash_password(data["password"])
    with store.uow() as uow:
        unit = _work_unit(uow.session, work_unit_id)
        # only staff over a community the unit has a co-building report with (finding 3)
        authz.check(actor, "registration.create_unit_account", unit_facts(uow.session, unit.id),
                    message="该单位未向您管辖范围内的社区报到，不能为其开设账号")
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
        "community_id": report.community_id, "community_name": (_place(session, report.community_id) or {}).get("name"),
        "agreement": report.agreement,
        "commitments": list(report.commitments or []), "year": report.year, "members_reported": count,
        "reported_at": report.reported_at, "renewed_at": report.renewed_at})


def report_unit(store: Store, actor: dict, work_unit_id: int, payload: dict) -> dict:
    """单位报到: the unit's organisation reports to a community with its co-building commitments."""
    actor = load(Actor, actor)
    data = load(schemas.UnitReportIn, payload)
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
            report = UnitReport(work_unit_id=unit.id, community_id=community["id"])  # reported_at: now
            session.add(report)
        else:  # a renewal: 报到时间 stays the day the unit first reported
            report.renewed_at = utcnow()
        report.agreement = data["agreement"]
        report.commitments = data["commitments"]
        report.year = data["year"] or date.today().year
        report.reported_by = actor.get("user_id")
        session.flush()
        uow.emit("unit.reported", {"work_unit_id": unit.id, "name": unit.name, "community_id": community["id"],
                                   "commitments": data["commitments"]})
        view = _unit_report_view(session, report)
        uow.commit()
    return view


def list_unit_reports(store: Store, actor: dict, work_unit_id: int) -> list[dict]:
    """A unit's own co-building reports (共建协议), one per community; staff read them per community
    (``list_co_building_units``)."""
    actor = load(Actor, actor)
    with store.uow() as uow:
        session = uow.session
        unit = _work_unit(session, work_unit_id)
        if actor.get("work_unit_id") != unit.id:
            raise Forbidden(message="只能查看本单位的共建协议")
        reports = session.scalars(select(UnitReport).where(UnitReport.work_unit_id == unit.id)
                                  .order_by(UnitReport.id)).all()
        return [_unit_report_view(session, report) for report in reports]


def list_co_building_units(store: Store, community_id: int) -> list[dict]:
    with store.uow() as uow:
        reports = uow.session.scalars(select(UnitReport).where(UnitReport.community_id == community_id)
                                      .order_by(UnitReport.id)).all()
        return [_unit_report_view(uow.session, r) for r in reports]
