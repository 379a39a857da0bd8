"""Groups in a community: e-branches (e支部), volunteer teams and pairings."""

from datetime import date

from sqlalchemy import select

from common.actors import Actor, reaches
from common.db import Store, retried_on_conflict, utcnow
from common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from common.schemas import load
from services.registration import domain, schemas
from services.registration.models import EBranch, Member, Pairing, TeamMember, User, VolunteerTeam
from services.registration.usecases.members import _facts
from services.registration.usecases.tree import _place, _street_district


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


@retried_on_conflict
def create_e_branch(store: Store, actor: dict, community_id: int, payload: dict) -> dict:
    actor = load(Actor, actor)
    data = load(schemas.NewEBranch, payload)
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


@retried_on_conflict
def add_e_branch_members(store: Store, actor: dict, e_branch_id: int, payload: dict) -> dict:
    actor = load(Actor, actor)
    data = load(schemas.MemberIds, payload)
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
    actor = load(Actor, actor)
    data = load(schemas.NewTeam, payload)
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
    actor = load(Actor, actor)
    data = load(schemas.MemberIds, payload)
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
    actor = load(Actor, actor)
    data = load(schemas.NewPairing, payload)
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
    actor = load(Actor, actor)
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
