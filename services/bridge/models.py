"""The bridge's tables: the systems allowed in (by hashed API key) and the commands carried out."""

from sqlalchemy import JSON, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import new_metadata, utcnow


class Base(DeclarativeBase):
    metadata = new_metadata()


class ApiKey(Base):
    """One key of one outside system (a 12345 hotline, the organisation department's roster).

    Only the key's SHA-256 is kept; the key itself is shown once, when it is created.
    """

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    system: Mapped[str] = mapped_column(String(80), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(12))
    communities: Mapped[list | None] = mapped_column(JSON, default=None)  # None: every community
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))


class Command(Base):
    """A command carried out (or refused) for a system, keyed by that system's idempotency key.

    Written in the same commit as the outcome event, so a resend finds it and does nothing twice.
    """

    __tablename__ = "commands"
    __table_args__ = (UniqueConstraint("system", "command_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    system: Mapped[str] = mapped_column(String(80))
    command_key: Mapped[str] = mapped_column(String(120), index=True)
    command_type: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))  # amqp | open311
    status: Mapped[str] = mapped_column(String(20))  # succeeded | rejected
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[dict | None] = mapped_column(JSON, default=None)
    service_request_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
