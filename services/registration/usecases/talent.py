"""The talent pool: searching and exporting members within the actor's reach."""

from sqlalchemy import exists, func, select

import authz
from common.actors import Actor
from common.db import Store
from common.errors import Forbidden
from common.schemas import load
from services.registration import domain, schemas
from services.registration.models import FreeTime, Member, MemberPost, MemberSkill, User
from services.registration.usecases.members import _shown, _views


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
    if data["phone"]:  # whole number only, so a search never lists numbers by their prefix
        stmt = stmt.where(Member.phone == data["phone"].strip())
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
    actor = load(Actor, actor)
    data = load(schemas.TalentQuery, query)
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
    actor = load(Actor, actor)
    data = load(schemas.TalentQuery, {k: v for k, v in (query or {}).items() if k != "format"})
    stmt = _talent_statement(actor, data)
    rows = []
    with store.uow() as uow:
        members = uow.session.scalars(stmt.order_by(Member.id).limit(EXPORT_LIMIT)).all()
        for view in _views(uow.session, members):
            shown = dict(view, phone=authz.shown_phone(actor, view["phone"], domain.phone_subject(view)))
            rows.append({
                "id": view["id"], "name": view["name"], "phone": shown["phone"],
                "community_name": view["community_name"] or "", "grid_name": view["grid_name"] or "",
                "building_name": view["building_name"] or "", "work_unit": view["work_unit"] or "",
                "party_org": view["party_org"] or "", "skills": view["skills"],
                "post_names": [p["name"] for p in view["posts"]],
                "free_time_text": [w["label"] for w in view["free_time"]], "status_label": view["status_label"]})
    return rows
