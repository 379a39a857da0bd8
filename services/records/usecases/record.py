"""A member's record: who they are, trainings, awards, evaluations, complaints, transfers, the card."""

import uuid
from datetime import date

from sqlalchemy import select

from common.db import Store, utcnow
from common.errors import Conflict, Forbidden, NotFound
from common.schemas import load
from services.records import domain, schemas
from services.records.models import (
    Award,
    Certificate,
    Complaint,
    Entry,
    Evaluation,
    Training,
    Transfer,
    Volunteer,
)
from services.records.usecases._common import aware, entry_views, names_of, place_of, volunteer
from services.records.usecases.entries import load_actor

# ---- fed by registration's and scoring's events ------------------------------------------------

def on_member_known(uow, event: dict):
    """member.accepted / member.updated: the facts a record and a certificate print."""
    data = event["data"]
    row = uow.session.get(Volunteer, data["member_id"])
    facts = {"name": data["name"], "e_branch_id": data.get("e_branch_id"), "work_unit_id": data.get("work_unit_id"),
             "id_number_masked": data.get("id_number_masked")}
    if row is None or row.community_id is None:
        facts["community_id"] = data["community_id"]
    volunteer(uow.session, data["member_id"], **facts).updated_at = utcnow()


def on_member_transferred(uow, event: dict):
    """Moved: the record waits for the member's consent before it goes to the new community."""
    data = event["data"]
    session = uow.session
    row = session.get(Volunteer, data["member_id"])
    holder = (row.community_id if row is not None else None) or data.get("from_community_id")
    on_member_known(uow, {"data": {**data, "community_id": holder or data["community_id"]}})
    if holder is None or holder == data["community_id"]:
        return
    for pending in session.scalars(select(Transfer).where(Transfer.member_id == data["member_id"],
                                                          Transfer.status == "pending")):
        pending.status, pending.decided_at = "superseded", utcnow()
    session.add(Transfer(member_id=data["member_id"], from_community_id=holder,
                         to_community_id=data["community_id"], status="pending", requested_at=utcnow()))


def on_evaluation_recorded(uow, event: dict):
    data = event["data"]
    session = uow.session
    row = session.scalar(select(Evaluation).where(Evaluation.member_id == data["member_id"],
                                                  Evaluation.period == data["period"],
                                                  Evaluation.side == data["source"]))
    if row is None:
        row = Evaluation(member_id=data["member_id"], period=data["period"], side=data["source"])
        session.add(row)
    row.score, row.comment, row.community_id = data["score"], data.get("comment") or "", data.get("community_id")
    row.updated_at = utcnow()


def on_member_recognised(uow, event: dict):
    data = event["data"]
    session = uow.session
    if session.scalar(select(Award.id).where(Award.member_id == data["member_id"], Award.source == "recognition",
                                             Award.ref == data["period"])):
        return
    session.add(Award(member_id=data["member_id"], community_id=data.get("community_id"), title=data["title"],
                      issuer="季度通报表彰", awarded_on=aware(utcnow()).date(), source="recognition",
                      ref=data["period"]))


# ---- staff record trainings, awards, complaints -----------------------------------------------

def _recording_community(registration, actor: dict, given: int | None, action: str) -> tuple[int, dict | None]:
    community_id = given if given is not None else actor.get("community_id")
    if community_id is None:
        raise Forbidden(code="COMMUNITY_REQUIRED", message="请指明记录的社区（community_id）")
    place = place_of(registration, community_id)
    domain.check_can_record(actor, community_id, place, action)
    return community_id, place


def add_training(store: Store, registration, actor: dict, payload: dict) -> list[dict]:
    actor = load_actor(actor)
    data = load(schemas.NewTraining, payload)
    community_id, _ = _recording_community(registration, actor, data["community_id"], "records.records_add_training")
    names = names_of(registration, [community_id])
    with store.uow() as uow:
        rows = []
        for member_id in dict.fromkeys(data["member_ids"]):
            row = Training(member_id=member_id, community_id=community_id, title=data["title"], hours=data["hours"],
                           held_on=data["held_on"], recorded_by=actor["user_id"])
            uow.session.add(row)
            rows.append(row)
        uow.session.flush()
        views = [_training_view(r, names) for r in rows]
        uow.commit()
    return views


def _training_view(row: Training, names: dict) -> dict:
    return schemas.TrainingView().dump({**{c.key: getattr(row, c.key) for c in Training.__table__.columns},
                                        "organisation": names.get(row.community_id, "")})


def add_award(store: Store, registration, actor: dict, payload: dict) -> dict:
    actor = load_actor(actor)
    data = load(schemas.NewAward, payload)
    community_id, place = _recording_community(registration, actor, data["community_id"], "records.records_add_award")
    with store.uow() as uow:
        row = Award(member_id=data["member_id"], community_id=community_id, title=data["title"],
                    issuer=data["issuer"] or place["name"], awarded_on=data["awarded_on"], source="staff",
                    ref=uuid.uuid4().hex, recorded_by=actor["user_id"])
        uow.session.add(row)
        uow.session.flush()
        view = _award_view(row, {community_id: place["name"]})
        uow.commit()
    return view


def _award_view(row: Award, names: dict) -> dict:
    return schemas.AwardView().dump({**{c.key: getattr(row, c.key) for c in Award.__table__.columns},
                                     "organisation": names.get(row.community_id, "")})


def add_complaint(store: Store, registration, actor: dict, payload: dict) -> dict:
    actor = load_actor(actor)
    data = load(schemas.NewComplaint, payload)
    community_id, place = _recording_community(registration, actor, data["community_id"],
                                               "records.records_add_complaint")
    with store.uow() as uow:
        row = Complaint(member_id=data["member_id"], community_id=community_id, summary=data["summary"],
                        received_on=data["received_on"], status="open", recorded_by=actor["user_id"])
        uow.session.add(row)
        uow.session.flush()
        view = _complaint_views(uow.session, [row], {community_id: place["name"]})[0]
        uow.commit()
    return view


def handle_complaint(store: Store, registration, actor: dict, complaint_id: int, payload: dict) -> dict:
    actor = load_actor(actor)
    data = load(schemas.HandleComplaint, payload)
    with store.sessionmaker() as session:
        row = session.get(Complaint, complaint_id)
        if row is None:
            raise NotFound(code="COMPLAINT_NOT_FOUND", message="找不到该投诉记录")
        community_id = row.community_id
    place = place_of(registration, community_id)
    domain.check_can_record(actor, community_id, place, "records.records_handle_complaint")
    with store.uow() as uow:
        row = uow.session.get(Complaint, complaint_id, with_for_update=True)
        if row.status != "open":
            raise Conflict(code="COMPLAINT_CLOSED", message="该投诉已处理完毕")
        row.status, row.handling, row.outcome = "closed", data["handling"], data["outcome"]
        row.handled_by, row.handled_at = actor["user_id"], utcnow()
        view = _complaint_views(uow.session, [row], {community_id: place["name"]})[0]
        uow.commit()
    return view


def list_complaints(store: Store, registration, actor: dict, query: dict) -> list[dict]:
    actor = load_actor(actor)
    q = load(schemas.ComplaintQuery, query)
    community_id, _ = _recording_community(registration, actor, q["community_id"], "records.records_complaints")
    with store.uow() as uow:
        stmt = select(Complaint).where(Complaint.community_id == community_id)
        if q["status"]:
            stmt = stmt.where(Complaint.status == q["status"])
        rows = uow.session.scalars(stmt.order_by(Complaint.id.desc()).limit(200)).all()
        return _complaint_views(uow.session, rows, names_of(registration, [community_id]))


def _complaint_views(session, rows, names) -> list[dict]:
    members = dict(session.execute(select(Volunteer.member_id, Volunteer.name).where(
        Volunteer.member_id.in_({r.member_id for r in rows}))).all()) if rows else {}
    return schemas.ComplaintView(many=True).dump([
        {**{c.key: getattr(r, c.key) for c in Complaint.__table__.columns}, "handled_at": aware(r.handled_at),
         "member_name": members.get(r.member_id, ""), "organisation": names.get(r.community_id, ""),
         "outcome_label": domain.COMPLAINT_OUTCOMES.get(r.outcome) if r.outcome else None} for r in rows])


# ---- transfer with consent ---------------------------------------------------------------------

def decide_transfer(store: Store, registration, actor: dict, transfer_id: int, payload: dict) -> dict:
    actor = load_actor(actor)
    data = load(schemas.TransferDecision, payload)
    with store.uow() as uow:
        session = uow.session
        row = session.get(Transfer, transfer_id, with_for_update=True)
        if row is None:
            raise NotFound(code="TRANSFER_NOT_FOUND", message="找不到该记录转移申请")
        domain.check_transfer_decision(actor, row.member_id, row.status)
        row.status, row.decided_at = ("consented" if data["consent"] else "declined"), utcnow()
        if data["consent"]:
            # the whole record is now kept by the new community; each entry keeps its recorder
            volunteer(session, row.member_id).community_id = row.to_community_id
        view = dict(_transfer_row(row))
        uow.commit()
    names = names_of(registration, [view["from_community_id"], view["to_community_id"]])
    return _transfer_views([view], names)[0]


def _transfer_row(row: Transfer) -> dict:
    return {**{c.key: getattr(row, c.key) for c in Transfer.__table__.columns},
            "requested_at": aware(row.requested_at), "decided_at": aware(row.decided_at)}


def _transfer_views(rows: list[dict], names: dict) -> list[dict]:
    return schemas.TransferView(many=True).dump([
        {**r, "from_organisation": names.get(r["from_community_id"], ""),
         "to_organisation": names.get(r["to_community_id"], "")} for r in rows])


# ---- the record ----------------------------------------------------------------------------------

def get_record(store: Store, registration, actor: dict, member_id: int) -> dict:
    """志愿服务记录: identity, service entries, trainings, awards, evaluations, complaints, stars."""
    actor = load_actor(actor)
    with store.sessionmaker() as session:
        row = session.get(Volunteer, member_id)
        holder = row.community_id if row is not None else None
        pending_to = session.scalars(select(Transfer.to_community_id).where(
            Transfer.member_id == member_id, Transfer.status == "pending")).all()
    if not domain.can_view_record(actor, member_id, place_of(registration, holder), holder):
        if any(domain.can_manage_community(actor, c, place_of(registration, c)) for c in pending_to):
            raise Forbidden(code="TRANSFER_NOT_CONSENTED", message="党员尚未同意转移志愿服务记录，暂不能查看")
        raise Forbidden(code="OUT_OF_SCOPE", message="您不能查看该党员的志愿服务记录")
    with store.uow() as uow:
        session = uow.session
        row = session.get(Volunteer, member_id)
        if row is None:
            raise NotFound(code="RECORD_NOT_FOUND", message="该党员还没有志愿服务记录")
        entries = session.scalars(select(Entry).where(Entry.member_id == member_id)
                                  .order_by(Entry.served_at.desc(), Entry.id.desc())).all()
        trainings = session.scalars(select(Training).where(Training.member_id == member_id)
                                    .order_by(Training.held_on.desc())).all()
        awards = session.scalars(select(Award).where(Award.member_id == member_id)
                                 .order_by(Award.awarded_on.desc())).all()
        evaluations = session.scalars(select(Evaluation).where(Evaluation.member_id == member_id)
                                      .order_by(Evaluation.period.desc(), Evaluation.side)).all()
        complaints = session.scalars(select(Complaint).where(Complaint.member_id == member_id)
                                     .order_by(Complaint.id.desc())).all()
        certificates = session.scalars(select(Certificate).where(Certificate.member_id == member_id)
                                       .order_by(Certificate.id.desc())).all()
        transfers = [_transfer_row(t) for t in session.scalars(
            select(Transfer).where(Transfer.member_id == member_id).order_by(Transfer.id.desc()))]
        ids = ({e.community_id for e in entries} | {t.community_id for t in trainings}
               | {a.community_id for a in awards} | {c.community_id for c in complaints}
               | {t["from_community_id"] for t in transfers} | {t["to_community_id"] for t in transfers}
               | {row.community_id})
        names = names_of(registration, ids)
        plain = [{"status": e.status, "confirmed_hours": e.confirmed_hours} for e in entries]
        confirmed = domain.counted_hours(plain)
        from services.records.usecases.certificates import certificate_row  # one view of a certificate
        record = {
            "member_id": member_id, "name": row.name, "volunteer_number": row.volunteer_number,
            "id_number_masked": row.id_number_masked, "community_id": row.community_id,
            "organisation": names.get(row.community_id, ""), "confirmed_hours": confirmed,
            "pending_hours": round(sum(e.stated_hours or 0 for e in entries if e.status == domain.STATED), 2),
            "training_hours": round(sum(t.hours for t in trainings), 2),
            "volunteer_star": domain.volunteer_star(confirmed, domain.star_thresholds()),
            "entries": entry_views(entries, names, {member_id: row.name}),
            "trainings": [_training_view(t, names) for t in trainings],
            "awards": [_award_view(a, names) for a in awards],
            "evaluations": schemas.EvaluationView(many=True).dump(evaluations),
            "complaints": _complaint_views(session, complaints, names),
            "certificates": [certificate_row(c) for c in certificates],
            "transfers": _transfer_views(transfers, names),
        }
    return record  # every part is already dumped by its own view schema (see schemas.Record)


def star_levels() -> dict:
    return {"thresholds": list(domain.star_thresholds()),
            "levels": [{"level": i + 1, "label": f"{domain.STAR_NAMES[i + 1]}志愿者", "hours": t}
                       for i, t in enumerate(domain.star_thresholds())],
            "note": "按累计确认的志愿服务时长认定（《志愿服务记录办法》），与按积分的季度星级评定不同"}


def today() -> date:
    return aware(utcnow()).date()
