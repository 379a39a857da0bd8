"""The e-volunteer card (电子义工证): service records, trainings, and the card itself."""

from datetime import date

from sqlalchemy import select

import authz
from common.actors import Actor
from common.db import Store, utcnow
from common.schemas import load
from services.registration import domain, schemas
from services.registration.models import EBranch, ServiceRecord, TeamMember, Training, VolunteerTeam
from services.registration.usecases.members import _check_can_view_private, _member, _views
from services.registration.usecases.tree import _place


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
    """The service counts on the card; its hours only once the organiser confirms them (records)."""
    data = event["data"]
    record_service(uow, "request", data["request_id"], data["member_ids"], community_id=data["community_id"],
                   title=data["title"], place=data.get("place", ""), hours=0.0)


def on_entry_confirmed(uow, event: dict):
    """Records confirmed or corrected an entry's hours: the card shows confirmed hours only."""
    data = event["data"]
    if data.get("ref_id") is None:
        return  # an entry staff added by hand has no request or activity to show on the card
    session = uow.session
    row = session.scalar(select(ServiceRecord).where(ServiceRecord.source == data["source"],
                                                     ServiceRecord.ref_id == data["ref_id"],
                                                     ServiceRecord.member_id == data["member_id"]))
    if row is None:
        record_service(uow, data["source"], data["ref_id"], [data["member_id"]], community_id=data["community_id"],
                       title=data["title"], place=data.get("place", ""), hours=data["hours"])
    else:
        row.hours = data["hours"]


def on_activity_attended(uow, event: dict):
    data = event["data"]
    record_service(uow, "activity", data["activity_id"], [data["member_id"]], community_id=data["community_id"],
                   title=data["title"], place=data.get("place", ""), hours=data.get("hours", 0.0))


def add_training(store: Store, actor: dict, member_id: int, payload: dict) -> dict:
    actor = load(Actor, actor)
    data = load(schemas.NewTraining, payload)
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
    actor = load(Actor, actor)
    with store.uow() as uow:
        session = uow.session
        member = _member(session, member_id)
        _check_can_view_private(session, actor, member)
        view = _views(session, [member])[0]
        view["phone"] = authz.shown_phone(actor, view["phone"], domain.phone_subject(view))
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
