"""What other services ask of registration: candidates for a request, member facts, notice recipients."""

from sqlalchemy import exists, func, literal, or_, select

from common.db import Store
from common.schemas import load
from services.registration import domain, schemas
from services.registration.models import EBranch, FreeTime, Member, MemberSkill, OrgUnit, User, WorkUnit
from services.registration.usecases._common import _chunks

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


def names(store: Store, query: dict) -> dict:
    """Display names for ids other services keep: places (communities, grids…), e-branches, units,
    and users (who acted on a record: the account's display name).

    Keys come back as strings (JSON object keys); an unknown id is simply absent.
    """
    tables = {"places": OrgUnit, "e_branches": EBranch, "work_units": WorkUnit, "users": User}
    found = {}
    with store.uow() as uow:
        for key, model in tables.items():
            ids = sorted({int(i) for i in (query or {}).get(key) or [] if i is not None})[:10000]
            found[key] = {}
            for chunk in _chunks(ids):
                found[key].update({str(i): n for i, n in uow.session.execute(
                    select(model.id, model.name).where(model.id.in_(chunk)))})
    return found


def recipients(store: Store, query: dict) -> list[int]:
    """Ids of active accounts matching every given filter; members count only while accepted."""
    data = load(schemas.RecipientQuery, query)
    stmt = (select(User.id).outerjoin(Member, Member.id == User.id)
            .where(User.active, or_(User.role != "member", Member.status == domain.ACCEPTED)))
    if data["roles"]:
        stmt = stmt.where(User.role.in_(data["roles"]))
    for key in ("district_id", "street_id", "community_id", "grid_id", "e_branch_id", "work_unit_id"):
        if data[key] is not None:
            stmt = stmt.where(getattr(User, key) == data[key])
    with store.uow() as uow:
        return list(uow.session.scalars(stmt.order_by(User.id)))


def existing_work_units(store: Store, work_unit_ids: list[int]) -> list[int]:
    """Which of these work units exist (a joint meeting may only name real ones)."""
    ids = [int(i) for i in (work_unit_ids or [])][:1000]
    with store.sessionmaker() as session:
        return sorted(session.scalars(select(WorkUnit.id).where(WorkUnit.id.in_(ids))))
