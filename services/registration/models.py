"""Registration's tables: the organisation tree, accounts, members' registrations and what hangs on them."""

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import new_metadata, utcnow, version_id


class Base(DeclarativeBase):
    metadata = new_metadata()


class OrgUnit(Base):
    """A node of district → street → community → grid → building."""

    __tablename__ = "org_units"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)


class WorkUnit(Base):
    """An employer and its Party organisation (单位党组织)."""

    __tablename__ = "work_units"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    party_org: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(200))
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class UnitReport(Base):
    """A work unit's report to a community with its co-building agreement (单位报到, 共驻共建)."""

    __tablename__ = "unit_reports"
    __table_args__ = (UniqueConstraint("work_unit_id", "community_id", name="uq_unit_reports_unit_community"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    work_unit_id: Mapped[int] = mapped_column(ForeignKey("work_units.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    agreement: Mapped[str] = mapped_column(Text, default="")
    commitments: Mapped[list] = mapped_column(JSON, default=list)
    year: Mapped[int] = mapped_column(Integer)
    reported_by: Mapped[int | None] = mapped_column(Integer)
    reported_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)  # the first report
    renewed_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))  # the last renewal, if any


class User(Base):
    """A login: residents, members, staff, work-unit organisations and systems alike.

    The place columns repeat the tree above ``org_unit_id`` so that sign-in and the fan-out of
    notices (``recipients``) are one indexed query, not a walk up the tree per user.
    """

    __tablename__ = "users"
    __table_args__ = (
        Index("ix_users_role_community", "role", "community_id"),
        Index("ix_users_role_street", "role", "street_id"),
        Index("ix_users_role_district", "role", "district_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    district_id: Mapped[int | None] = mapped_column(Integer)
    street_id: Mapped[int | None] = mapped_column(Integer)
    community_id: Mapped[int | None] = mapped_column(Integer)
    grid_id: Mapped[int | None] = mapped_column(Integer, index=True)
    work_unit_id: Mapped[int | None] = mapped_column(ForeignKey("work_units.id"), index=True)
    e_branch_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # bumped when the account's standing changes (revoked, rejected, moved): older tokens stop working
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Member(Base):
    """An in-service Party member's one registration (id == users.id); its past is in ``registration_history``."""

    __tablename__ = "members"
    __table_args__ = (Index("ix_members_community_status", "community_id", "status"),)
    id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    id_number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(24))  # for certificates; never the number
    community_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    work_unit: Mapped[str | None] = mapped_column(String(100))
    skills: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="accepted")
    registered_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    work_unit_id: Mapped[int | None] = mapped_column(ForeignKey("work_units.id"), index=True)
    party_org: Mapped[str | None] = mapped_column(String(100))
    profession: Mapped[str | None] = mapped_column(String(50))
    e_branch_id: Mapped[int | None] = mapped_column(ForeignKey("e_branches.id"), index=True)
    decided_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    revoked_on: Mapped[object | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20), default="staff", server_default="staff")
    moving_from: Mapped[int | None] = mapped_column(Integer)  # a move awaiting the new community
    updated_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    # optimistic concurrency: every ORM UPDATE checks and bumps it (common.db.version_id)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    __mapper_args__ = version_id(version)


class MemberSkill(Base):
    """Skills as rows, so the candidates query is an index lookup rather than a JSON scan."""

    __tablename__ = "member_skills"
    __table_args__ = (Index("ix_member_skills_community_skill", "community_id", "skill", "member_id"),)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    skill: Mapped[str] = mapped_column(String(30), primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer)


class FreeTime(Base):
    """A weekly window a member is free: ISO weekday, minutes after local midnight [start, end)."""

    __tablename__ = "member_free_time"
    # by slot for "who is free at T" across a street; by member for "is this candidate free at T"
    __table_args__ = (Index("ix_member_free_time_slot", "weekday", "start_minute", "end_minute"),
                      Index("ix_member_free_time_member_slot", "member_id", "weekday", "start_minute"))
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)


class ServicePost(Base):
    """A service post (服务岗位) a community offers; members choose theirs."""

    __tablename__ = "service_posts"
    __table_args__ = (UniqueConstraint("community_id", "name", name="uq_service_posts_community_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    category: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class MemberPost(Base):
    __tablename__ = "member_posts"
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("service_posts.id"), primary_key=True, index=True)


class Commitment(Base):
    """A member's commitment (承诺) for a year."""

    __tablename__ = "commitments"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(500))


class RegistrationHistory(Base):
    """Every step of a registration: submitted, accepted, rejected, transferred, revoked, updated."""

    __tablename__ = "registration_history"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    community_id: Mapped[int] = mapped_column(Integer)
    grid_id: Mapped[int | None] = mapped_column(Integer)
    building_id: Mapped[int | None] = mapped_column(Integer)
    work_unit_id: Mapped[int | None] = mapped_column(Integer)
    work_unit: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500), default="")
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str] = mapped_column(String(20))
    at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class EBranch(Base):
    """An e-branch (e支部): a virtual branch grouping a community's in-service members."""

    __tablename__ = "e_branches"
    __table_args__ = (UniqueConstraint("community_id", "name", name="uq_e_branches_community_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    secretary_id: Mapped[int | None] = mapped_column(Integer)
    chat_url: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class VolunteerTeam(Base):
    """A volunteer team (义工队/小分队): policy, medical, mediation, legal, environment, patrol…"""

    __tablename__ = "volunteer_teams"
    __table_args__ = (UniqueConstraint("community_id", "name", name="uq_volunteer_teams_community_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30), default="")
    leader_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class TeamMember(Base):
    __tablename__ = "team_members"
    team_id: Mapped[int] = mapped_column(ForeignKey("volunteer_teams.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True, index=True)


class Pairing(Base):
    """A member or an e-branch paired with a household in difficulty for a year (结对)."""

    __tablename__ = "pairings"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    e_branch_id: Mapped[int | None] = mapped_column(ForeignKey("e_branches.id"), index=True)
    household: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200), default="")
    difficulty: Mapped[str] = mapped_column(String(500), default="")
    starts_on: Mapped[object] = mapped_column(Date)
    ends_on: Mapped[object] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class ServiceRecord(Base):
    """A service done, from dispatch's request.confirmed or activities' activity.attended (the card)."""

    __tablename__ = "service_records"
    __table_args__ = (UniqueConstraint("source", "ref_id", "member_id", name="uq_service_records_ref"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    source: Mapped[str] = mapped_column(String(20))
    ref_id: Mapped[int] = mapped_column(Integer)
    community_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200), default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    hours: Mapped[float] = mapped_column(Float, default=0.0)
    at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class Training(Base):
    __tablename__ = "trainings"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    hours: Mapped[float] = mapped_column(Float, default=0.0)
    held_on: Mapped[object] = mapped_column(Date)
    recorded_by: Mapped[int | None] = mapped_column(Integer)


class RosterImport(Base):
    """One roster import: who, what came of it, and the bad rows for the downloadable report."""

    __tablename__ = "roster_imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    community_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200), default="")
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list] = mapped_column(JSON, default=list)
    at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class Mutex(Base):
    """A job that runs once at a time across instances (a roster import): who holds it, until when
    (see ``common.db.exclusive``)."""

    __tablename__ = "mutexes"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(32))
    held_until: Mapped[object | None] = mapped_column(DateTime(timezone=True))


class SignupReview(Base):
    """A public sign-up that collided with an existing registration (ID number) or account (phone):
    the caller was told the same as everyone; the community's staff see it here and follow up."""

    __tablename__ = "signup_reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40))  # id_number_registered | phone_in_use
    status: Mapped[str] = mapped_column(String(20), default="open", server_default="open")
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
