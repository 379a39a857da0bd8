"""Registration's tables: the organisation tree, accounts, and members' registrations."""

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import new_metadata, utcnow


class Base(DeclarativeBase):
    metadata = new_metadata()


class OrgUnit(Base):
    """A node of district → street → community → grid → building."""

    __tablename__ = "org_units"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)


class User(Base):
    """A login: residents, members, staff, work-unit organisations and systems alike."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class Member(Base):
    """An in-service Party member's registration with the community of residence."""

    __tablename__ = "members"
    id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    id_number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    work_unit: Mapped[str | None] = mapped_column(String(100))
    skills: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="accepted")
    registered_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
