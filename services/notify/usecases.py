"""Notify's use cases."""

from sqlalchemy import func, select

from common.actors import Actor
from common.db import Store, UnitOfWork, utcnow
from common.errors import NotFound
from common.schemas import load
from services.notify import domain, schemas
from services.notify.models import Message


def deliver_to_inbox(uow: UnitOfWork, event: dict):
    for notice in domain.notices_for(event):
        uow.session.add(Message(dedup_key=notice.dedup_key, recipient_id=notice.recipient_id,
                                kind=notice.kind, title=notice.title, body=notice.body))


def inbox(store: Store, actor: dict) -> dict:
    actor = load(Actor(), actor)
    with store.uow() as uow:
        mine = Message.recipient_id == actor["user_id"]
        messages = uow.session.scalars(
            select(Message).where(mine).order_by(Message.id.desc()).limit(100)).all()
        unread = uow.session.scalar(
            select(func.count()).select_from(Message).where(mine, Message.read_at.is_(None)))
        return schemas.Inbox().dump({"unread": unread, "messages": messages})


def mark_read(store: Store, actor: dict, message_id: int) -> dict:
    actor = load(Actor(), actor)
    with store.uow() as uow:
        message = uow.session.get(Message, message_id)
        if message is None or message.recipient_id != actor["user_id"]:
            raise NotFound(message="找不到该消息")
        message.read_at = message.read_at or utcnow()
        result = schemas.Message().dump(message)
        uow.commit()
    return result
