"""Scoring's use cases."""

from sqlalchemy import func, select

from common.actors import STAFF_ROLES, Actor, reaches
from common.db import Store, UnitOfWork
from common.errors import Forbidden
from common.schemas import load
from services.scoring import domain, schemas
from services.scoring.models import LedgerEntry


def credit_confirmed_request(uow: UnitOfWork, event: dict):
    data = event["data"]
    for credit in domain.credits_for_confirmed_request(event["event_id"], data):
        uow.session.add(LedgerEntry(
            entry_key=credit.entry_key, member_id=credit.member_id,
            community_id=data["community_id"], points=credit.points, kind="service",
            reason=credit.reason, source_event_id=event["event_id"]))


def member_points(store: Store, actor: dict, member_id: int) -> dict:
    actor = load(Actor(), actor)
    with store.uow() as uow:
        session = uow.session
        if actor["user_id"] != member_id and actor["role"] != "system":
            community = session.scalar(
                select(LedgerEntry.community_id).where(LedgerEntry.member_id == member_id).limit(1))
            if actor["role"] not in STAFF_ROLES or (
                    community is not None and not reaches(actor, community_id=community)):
                raise Forbidden(message="只能查看本人或本辖区党员的积分")
        balance = session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.points), 0))
            .where(LedgerEntry.member_id == member_id))
        entries = session.scalars(
            select(LedgerEntry).where(LedgerEntry.member_id == member_id)
            .order_by(LedgerEntry.id.desc()).limit(50)).all()
        return schemas.Balance().dump(
            {"member_id": member_id, "balance": int(balance), "entries": entries})
