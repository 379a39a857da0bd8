"""Opinions (民意): submitted by residents, assigned, resolved, supervised a level up when overdue.
"""

from datetime import timedelta

from sqlalchemy import case, func, select

from common import timers
from common.actors import Actor
from common.db import Store, utcnow
from common.errors import Forbidden, NotFound, Unprocessable, ValidationFailed
from common.schemas import load
from services.dispatch import domain, schemas
from services.dispatch.models import Opinion
from services.dispatch.usecases._common import SYSTEM, _aware, _name_actors, _subject_history, _transition, place_of
from services.dispatch.usecases.idempotency import Idem, finish, idempotent

# ---- opinions (民意) ----------------------------------------------------------------------

def _opinion_place(op: Opinion) -> domain.Place:
    return domain.Place(community_id=op.community_id, street_id=op.street_id, district_id=op.district_id)


def _opinion_view(session, op: Opinion) -> dict:
    session.flush()
    return schemas.Opinion().dump({**{c.key: getattr(op, c.key) for c in Opinion.__table__.columns},
                                   "state_label": domain.OPINION_LABELS[op.state],
                                   "history": _subject_history(session, "opinion", op.id)})


def _opinion_event(op: Opinion) -> dict:
    return {"opinion_id": op.id, "community_id": op.community_id, "street_id": op.street_id,
            "title": op.title, "kind": op.kind, "resident_id": op.resident_id}


def _check_supervises(actor: dict, op: Opinion):
    if actor["role"] == "system":
        return
    if actor["role"] not in ("community_staff", "street_staff", "district_staff") or \
            not domain.in_scope(actor, _opinion_place(op)):
        raise Forbidden(code="OUT_OF_SCOPE", message="该意见不在您的管辖范围内")


def submit_opinion(store: Store, registration, actor: dict, payload: dict, idempotency_key=None) -> dict:
    actor = load(Actor, actor)
    data = load(schemas.SubmitOpinion, payload)
    if actor["role"] == "system":
        community_id = data["community_id"]
        if not community_id:
            raise ValidationFailed(fields={"community_id": ["请指明社区"]})
    elif actor["role"] in ("resident", "member"):
        community_id = actor.get("community_id")
        if not community_id:
            raise Unprocessable(code="NO_COMMUNITY", message="您的账号未关联社区，暂不能提交意见")
    else:
        raise Forbidden(message="民意由群众提交")
    place = place_of(registration, community_id)
    idem = Idem.of(actor, "submit_opinion", idempotency_key)

    def run():
        with store.uow() as uow:
            now = utcnow()
            op = Opinion(community_id=community_id, street_id=place.get("street_id"),
                         district_id=place.get("district_id"),
                         resident_id=actor["user_id"] if actor["role"] != "system" else None,
                         kind=data["kind"], title=data["title"], content=data["content"],
                         state=domain.opinion_next(None, "submit"), assignee="", overdue=False,
                         supervision_level="community", resolution="", created_at=now,
                         due_at=now + timedelta(days=domain.OPINION_DUE_DAYS[data["kind"]]))
            uow.session.add(op)
            uow.session.flush()
            timers.schedule(uow, "opinion_deadline", op.id, op.due_at)
            _transition(uow.session, "opinion", op.id, actor, "submit", None, op.state)
            uow.emit("opinion.submitted", _opinion_event(op))
            return finish(uow, idem, _opinion_view(uow.session, op))

    return idempotent(store, idem, run)


def _opinion_command(store, actor, opinion_id, command, idempotency_key, body):
    actor = load(Actor, actor)
    idem = Idem.of(actor, f"{command}:opinion:{opinion_id}", idempotency_key)

    def run():
        with store.uow() as uow:
            op = uow.session.scalar(select(Opinion).where(Opinion.id == opinion_id).with_for_update())
            if op is None:
                raise NotFound(code="OPINION_NOT_FOUND", message="找不到该意见")
            _check_supervises(actor, op)
            before = op.state
            reason = body(uow, actor, op)
            _transition(uow.session, "opinion", op.id, actor, command, before, op.state, reason)
            return finish(uow, idem, _opinion_view(uow.session, op))

    return idempotent(store, idem, run)


def assign_opinion(store: Store, actor: dict, opinion_id: int, payload, idempotency_key=None,
                   registration=None) -> dict:
    data = load(schemas.AssignOpinion, payload)

    def body(uow, actor, op):
        op.state = domain.opinion_next(op.state, "assign")
        op.assignee = data["assignee"]
        if data["due_days"]:
            op.due_at = utcnow() + timedelta(days=data["due_days"])
            op.overdue = False
            timers.schedule(uow, "opinion_deadline", op.id, op.due_at)
        uow.emit("opinion.assigned", {**_opinion_event(op), "assignee": op.assignee,
                                      "due_at": _aware(op.due_at).isoformat() if op.due_at else None})
        return f"交办给{op.assignee}。{data['reason']}".strip()

    view = _opinion_command(store, actor, opinion_id, "assign", idempotency_key, body)
    _name_actors(registration, view["history"])
    return view


def resolve_opinion(store: Store, actor: dict, opinion_id: int, payload, idempotency_key=None,
                    registration=None) -> dict:
    data = load(schemas.ResolveOpinion, payload)

    def body(uow, actor, op):
        op.state = domain.opinion_next(op.state, "resolve")
        op.resolution, op.resolved_at = data["resolution"], utcnow()
        timers.cancel(uow, "opinion_deadline", op.id)
        uow.emit("opinion.resolved", {"opinion_id": op.id, "community_id": op.community_id, "title": op.title,
                                      "resident_id": op.resident_id, "resolution": op.resolution})
        return data["resolution"]

    view = _opinion_command(store, actor, opinion_id, "resolve", idempotency_key, body)
    _name_actors(registration, view["history"])
    return view


def on_opinion_deadline(uow, timer):
    """Unresolved by its deadline: marked overdue and supervised one level up (督办)."""
    op = uow.session.scalar(select(Opinion).where(Opinion.id == int(timer["ref"])).with_for_update())
    if op is None or op.state == domain.OP_RESOLVED:
        return
    before = op.state
    op.overdue = True
    up = domain.level_up(op.supervision_level) or op.supervision_level
    op.supervision_level = up
    _transition(uow.session, "opinion", op.id, SYSTEM, "overdue", before, op.state,
                f"超过办理时限未办结，由{domain.LEVEL_LABELS[up]}督办")
    uow.emit("opinion.overdue", {**_opinion_event(op), "supervision_level": up})


def get_opinion(store: Store, actor: dict, opinion_id: int, registration=None) -> dict:
    actor = load(Actor, actor)
    with store.sessionmaker() as session:
        op = session.get(Opinion, opinion_id)
        if op is None:
            raise NotFound(code="OPINION_NOT_FOUND", message="找不到该意见")
        if actor["role"] in ("resident", "member"):
            if op.resident_id != actor["user_id"]:
                raise Forbidden(message="只能查看自己提交的意见")
        else:
            _check_supervises(actor, op)
        view = _opinion_view(session, op)
    _name_actors(registration, view["history"])  # after the session: no connection held across the RPC
    return view


def _opinion_scope(actor: dict, stmt):
    role = actor["role"]
    if role in ("resident", "member"):
        return stmt.where(Opinion.resident_id == actor["user_id"])
    if role == "community_staff":
        return stmt.where(Opinion.community_id == actor.get("community_id"))
    if role == "street_staff":
        return stmt.where(Opinion.street_id == actor.get("street_id"))
    if role == "district_staff":
        return stmt.where(Opinion.district_id == actor.get("district_id"))
    if role == "system":
        return stmt
    raise Forbidden(message="您不能查看民意")


def list_opinions(store: Store, actor: dict, query: dict) -> list[dict]:
    actor = load(Actor, actor)
    q = load(schemas.OpinionQuery, query)
    stmt = _opinion_scope(actor, select(Opinion))
    if q["community_id"]:
        stmt = stmt.where(Opinion.community_id == q["community_id"])
    if q["state"]:
        stmt = stmt.where(Opinion.state == q["state"])
    if q["overdue"] is not None:
        stmt = stmt.where(Opinion.overdue == q["overdue"])
    with store.sessionmaker() as session:
        rows = session.scalars(stmt.order_by(Opinion.id.desc()).offset(q["offset"]).limit(q["limit"])).all()
        return schemas.Opinion(many=True, exclude=("history",)).dump(
            [{**{c.key: getattr(o, c.key) for c in Opinion.__table__.columns},
              "state_label": domain.OPINION_LABELS[o.state]} for o in rows])


def opinion_stats(store: Store, actor: dict, query: dict) -> list[dict]:
    """Collected vs resolved per community (Binhu's "2,352 collected, 783 resolved")."""
    actor = load(Actor, actor)
    q = load(schemas.OpinionStatsQuery, query)
    if actor["role"] in ("resident", "member"):
        raise Forbidden(message="只有工作人员可以查看民意统计")
    resolved = func.sum(case((Opinion.state == domain.OP_RESOLVED, 1), else_=0))
    overdue = func.sum(case(((Opinion.overdue) & (Opinion.state != domain.OP_RESOLVED), 1), else_=0))
    stmt = _opinion_scope(actor, select(Opinion.community_id, func.count(), resolved, overdue))
    if q["street_id"]:
        stmt = stmt.where(Opinion.street_id == q["street_id"])
    if q["community_id"]:
        stmt = stmt.where(Opinion.community_id == q["community_id"])
    with store.sessionmaker() as session:
        rows = session.execute(stmt.group_by(Opinion.community_id).order_by(Opinion.community_id)).all()
    return schemas.OpinionStats(many=True).dump([
        {"community_id": c, "collected": n, "resolved": int(r or 0), "overdue": int(o or 0),
         "resolution_rate": domain.resolution_rate(n, int(r or 0))} for c, n, r, o in rows])
