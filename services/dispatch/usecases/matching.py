"""Matching members to a request: their load and last service, ranked candidates.
"""

from datetime import UTC

from sqlalchemy import func, select

from common import assertions
from common.actors import Actor
from common.db import Store, utcnow
from common.schemas import load
from services.dispatch import domain, schemas
from services.dispatch.models import Assignment, MenuItem, Request
from services.dispatch.usecases._common import _get, _place

# ---- matching ----------------------------------------------------------------------------

CANDIDATE_POOL = 50  # candidates fetched from registration before our own ranking


def member_stats(session, member_ids: list[int]) -> dict[int, dict]:
    """Open load and last service of each member, from dispatch's own tables (two queries)."""
    if not member_ids:
        return {}
    stats = {m: {"open_load": 0, "last_served_at": None} for m in member_ids}
    open_rows = session.execute(
        select(Assignment.member_id, func.count())
        .join(Request, Request.id == Assignment.request_id)
        .where(Assignment.member_id.in_(member_ids), Assignment.status == "claimed",
               Request.state.in_((domain.DISPATCHED, domain.CLAIMED, domain.IN_SERVICE)))
        .group_by(Assignment.member_id))
    for member_id, count in open_rows:
        stats[member_id]["open_load"] = count
    last_rows = session.execute(
        select(Assignment.member_id, func.max(Request.completed_at))
        .join(Request, Request.id == Assignment.request_id)
        .where(Assignment.member_id.in_(member_ids), Assignment.status == "claimed",
               Request.completed_at.is_not(None))
        .group_by(Assignment.member_id))
    for member_id, last in last_rows:
        if last is not None and last.tzinfo is None:  # SQLite gives naive UTC back
            last = last.replace(tzinfo=UTC)
        stats[member_id]["last_served_at"] = last
    return stats


def _find_ranked(store: Store, registration, community_id: int, skills: list, grid_id, building_id,
                 at=None, limit: int = CANDIDATE_POOL) -> list[dict]:
    query = {"community_id": community_id, "skills": list(skills or []), "limit": limit}
    for key, value in (("grid_id", grid_id), ("building_id", building_id), ("at", at)):
        if value:
            query[key] = value
    candidates = registration.find_candidates(assertions.system("dispatch"), query)
    with store.sessionmaker() as session:
        stats = member_stats(session, [c["member_id"] for c in candidates])
    return domain.rank_candidates(candidates, grid_id=grid_id, building_id=building_id, stats=stats,
                                  now=utcnow())


def candidates(store: Store, registration, actor: dict, request_id: int, limit: int = 20) -> list[dict]:
    """Ranked candidates for a request, with the reasons for each rank, for dispatching staff."""
    actor = load(Actor, actor)
    with store.sessionmaker() as session:
        request = _get(session, request_id)
        domain.check_can_manage(actor, _place(request))
        item = session.get(MenuItem, request.menu_item_id)
        ctx = (request.community_id, list(item.skills or []), request.grid_id, request.building_id,
               domain.service_time(item.fields or [], request.answers or {}))
        taken = {a.member_id for a in session.scalars(select(Assignment).where(
            Assignment.request_id == request_id, Assignment.status == "claimed"))}
    ranked = [c for c in _find_ranked(store, registration, *ctx) if c["member_id"] not in taken]
    return schemas.Candidate(many=True).dump(ranked[:limit])
