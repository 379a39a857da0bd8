"""Micro-wishes (微心愿): posted for a resident in difficulty, claimed and fulfilled by members.
"""


from sqlalchemy import select, update

import authz
from common.actors import Actor
from common.db import Store, utcnow
from common.errors import Conflict, Forbidden, NotFound, Unprocessable, ValidationFailed
from common.schemas import load
from services.dispatch import domain, schemas
from services.dispatch.models import Wish
from services.dispatch.usecases._common import (
    _name_actors,
    _subject_history,
    _transition,
    area_communities,
    place_facts,
)
from services.dispatch.usecases.idempotency import Idem, finish, idempotent

# ---- micro-wishes (微心愿) -----------------------------------------------------------------

def _wish_view(session, wish: Wish) -> dict:
    session.flush()
    return schemas.Wish().dump({**{c.key: getattr(wish, c.key) for c in Wish.__table__.columns},
                                "state_label": domain.WISH_LABELS[wish.state],
                                "history": _subject_history(session, "wish", wish.id)})


def _wish_event(wish: Wish) -> dict:
    return {"wish_id": wish.id, "community_id": wish.community_id, "title": wish.title,
            "resident_id": wish.resident_id, "state": wish.state}


def _get_wish(session, wish_id: int, lock=False) -> Wish:
    query = select(Wish).where(Wish.id == wish_id)
    wish = session.scalar(query.with_for_update() if lock else query)
    if wish is None:
        raise NotFound(code="WISH_NOT_FOUND", message="找不到该微心愿")
    return wish


def _wish_place(wish: Wish) -> domain.Place:
    return domain.Place(community_id=wish.community_id)


def post_wish(store: Store, actor: dict, payload: dict, idempotency_key=None) -> dict:
    """Posted by a resident in difficulty, or by staff or a grid leader on their behalf."""
    actor = load(Actor, actor)
    data = load(schemas.PostWish, payload)
    role = actor["role"]
    if role == "resident":
        community_id, resident_id = actor["community_id"], actor["user_id"]
    elif role in ("community_staff", "grid_leader", "system"):
        community_id = data["community_id"] or actor.get("community_id")
        resident_id = data["resident_id"]
        if not community_id:
            raise ValidationFailed(fields={"community_id": ["请指明社区"]})
        if role != "system" and community_id != actor.get("community_id"):
            raise Forbidden(code="OUT_OF_SCOPE", message="只能为本社区的群众发布微心愿")
        if not data["beneficiary"] and resident_id is None:
            raise ValidationFailed(fields={"beneficiary": ["代发微心愿请填写困难群众称呼"]})
    else:
        raise Forbidden(message="微心愿由居民本人或社区工作人员、网格长代为发布")
    idem = Idem.of(actor, "post_wish", idempotency_key)

    def run():
        with store.uow() as uow:
            wish = Wish(community_id=community_id, resident_id=resident_id, beneficiary=data["beneficiary"],
                        title=data["title"], description=data["description"], state=domain.wish_next(None, "post"),
                        posted_by=actor["user_id"], note="")
            uow.session.add(wish)
            uow.session.flush()
            _transition(uow.session, "wish", wish.id, actor, "post", None, wish.state)
            uow.emit("wish.posted", _wish_event(wish))
            return finish(uow, idem, _wish_view(uow.session, wish))

    return idempotent(store, idem, run)


def _wish_command(store, actor, wish_id, command, idempotency_key, body):
    actor = load(Actor, actor)
    idem = Idem.of(actor, f"{command}:wish:{wish_id}", idempotency_key)

    def run():
        with store.uow() as uow:
            wish = _get_wish(uow.session, wish_id, lock=True)
            before = wish.state
            reason = body(uow, actor, wish)
            _transition(uow.session, "wish", wish.id, actor, command, before, wish.state, reason)
            return finish(uow, idem, _wish_view(uow.session, wish))

    return idempotent(store, idem, run)


def claim_wish(store: Store, actor: dict, wish_id: int, payload=None, idempotency_key=None) -> dict:
    data = load(schemas.ClaimWish, payload or {})

    def body(uow, actor, wish):
        if actor["role"] not in ("member", "grid_leader"):
            raise Forbidden(message="微心愿由报到党员或e支部认领")
        if actor.get("community_id") != wish.community_id:
            raise Forbidden(code="OUT_OF_SCOPE", message="只能认领本社区的微心愿")
        target = domain.wish_next(wish.state, "claim")
        e_branch = actor.get("e_branch_id") if data["as_e_branch"] else None
        if data["as_e_branch"] and not e_branch:
            raise Unprocessable(code="NO_E_BRANCH", message="您尚未加入e支部，请以个人名义认领")
        won = uow.session.execute(update(Wish).where(Wish.id == wish.id, Wish.state == domain.WISH_POSTED)
                                  .values(state=target, member_id=actor["user_id"], e_branch_id=e_branch,
                                          updated_at=utcnow())).rowcount
        if not won:
            raise Conflict(code="ALREADY_TAKEN", details={"current_state": domain.WISH_CLAIMED},
                           message="该微心愿已被认领")
        uow.session.refresh(wish)
        uow.emit("wish.claimed", {**_wish_event(wish), "member_id": actor["user_id"], "e_branch_id": e_branch})
        return "以e支部名义认领" if e_branch else ""

    return _wish_command(store, actor, wish_id, "claim", idempotency_key, body)


def fulfil_wish(store: Store, actor: dict, wish_id: int, payload, idempotency_key=None) -> dict:
    data = load(schemas.FulfilWish, payload)

    def body(uow, actor, wish):
        by_member = actor["user_id"] == wish.member_id
        by_branch = wish.e_branch_id is not None and actor.get("e_branch_id") == wish.e_branch_id
        if not (by_member or by_branch):
            raise Forbidden(code="NOT_CLAIMER", message="只有认领人（或其所在e支部的党员）可以完成该心愿")
        wish.state = domain.wish_next(wish.state, "fulfil")
        wish.note, wish.updated_at = data["note"], utcnow()
        return data["note"]

    return _wish_command(store, actor, wish_id, "fulfil", idempotency_key, body)


def confirm_wish(store: Store, actor: dict, wish_id: int, payload=None, idempotency_key=None) -> dict:
    data = load(schemas.Transition, payload or {})

    def body(uow, actor, wish):
        if actor["role"] == "resident":
            if wish.resident_id != actor["user_id"]:
                raise Forbidden(message="只能确认自己的微心愿")
        elif not (actor["role"] in domain.ROLE_LEVEL or actor["role"] == "system") or \
                not domain.in_scope(actor, _wish_place(wish)):
            raise Forbidden(message="只有心愿人或本社区工作人员可以确认")
        wish.state = domain.wish_next(wish.state, "confirm")
        wish.updated_at = utcnow()
        uow.emit("wish.fulfilled", {"wish_id": wish.id, "community_id": wish.community_id, "title": wish.title,
                                    "resident_id": wish.resident_id,
                                    "member_ids": [wish.member_id] if wish.member_id else [],
                                    "e_branch_id": wish.e_branch_id})
        return data["reason"]

    return _wish_command(store, actor, wish_id, "confirm", idempotency_key, body)


def get_wish(store: Store, registration, actor: dict, wish_id: int) -> dict:
    actor = load(Actor, actor)
    with store.sessionmaker() as session:
        wish = _get_wish(session, wish_id)
        # finding 5: one wish is read within the same scope as the list (404: not told it exists)
        authz.check(actor, "dispatch.get_wish", place_facts(
            registration, wish.community_id, owner_ids=[wish.resident_id], assigned_ids=[wish.member_id]),
            hide=True)
        view = _wish_view(session, wish)
    _name_actors(registration, view["history"])
    return view


def list_wishes(store: Store, registration, actor: dict, query: dict) -> list[dict]:
    """Residents see their own; members and staff the wishes of their community, street, district."""
    actor = load(Actor, actor)
    q = load(schemas.WishQuery, query)
    authz.check(actor, "dispatch.list_wishes", message="您不能查看微心愿")
    stmt = select(Wish)
    scope = authz.list_filter(actor, "dispatch.list_wishes")
    if scope is not None and "owner_ids" in scope:
        stmt = stmt.where(Wish.resident_id == scope["owner_ids"])
    else:
        communities = area_communities(registration, actor, "dispatch.list_wishes")
        if communities is not None:
            stmt = stmt.where(Wish.community_id.in_(communities))
    if q["community_id"]:
        stmt = stmt.where(Wish.community_id == q["community_id"])
    if q["state"]:
        stmt = stmt.where(Wish.state == q["state"])
    with store.sessionmaker() as session:
        rows = session.scalars(stmt.order_by(Wish.id.desc()).offset(q["offset"]).limit(q["limit"])).all()
        return schemas.Wish(many=True, exclude=("history",)).dump(
            [{**{c.key: getattr(w, c.key) for c in Wish.__table__.columns},
              "state_label": domain.WISH_LABELS[w.state]} for w in rows])
