"""Scoring's tables: the append-only points ledger."""

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import new_metadata, utcnow


class Base(DeclarativeBase):
    metadata = new_metadata()


class LedgerEntry(Base):
    """One credit or debit; ``entry_key`` (from the source event) makes re-delivery harmless."""

    __tablename__ = "ledger"
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_key: Mapped[str] = mapped_column(String(120), unique=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    community_id: Mapped[int | None] = mapped_column(Integer, index=True)
    points: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    source_event_id: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
