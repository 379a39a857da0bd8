"""Accounts: password hashing, signing in, and the principal an account acts as."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select

from common.db import Store
from common.errors import Unauthorized
from common.schemas import load
from services.registration import schemas
from services.registration.domain import ACCEPTED
from services.registration.models import EBranch, Member, User

# OWASP's minimum argon2id profile: a real KDF that keeps a login near 20 ms on one core
PASSWORDS = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = PASSWORDS.hash("not-a-password")


def hash_password(password: str) -> str:
    return PASSWORDS.hash(password)


MEMBER_ROLES = ("member", "grid_leader")


def principal_of(session, user: User) -> dict:
    """Who the account acts as *now*: a member whose registration is not accepted (submitted,
    rejected, revoked, moving to another community) is an ``applicant``, who sees their own status
    and nothing else; ``tv`` is the token version the gateway compares on every request."""
    role, status = user.role, None
    if user.role in MEMBER_ROLES:
        member = session.get(Member, user.id)
        status = member.status if member is not None else None
        # a grid leader appointed without a registration of their own stays a grid leader
        if (member is not None and status != ACCEPTED) or (member is None and user.role == "member"):
            role = "applicant"
    secretary_of = list(session.scalars(select(EBranch.id).where(EBranch.secretary_id == user.id)
                                        .order_by(EBranch.id))) if role in MEMBER_ROLES else []
    return schemas.Principal().dump({
        "user_id": user.id, "role": role, "name": user.name,
        "district_id": user.district_id, "street_id": user.street_id,
        "community_id": user.community_id, "grid_id": user.grid_id,
        "work_unit_id": user.work_unit_id, "e_branch_id": user.e_branch_id,
        "e_branch_ids": [user.e_branch_id] if user.e_branch_id else [],
        "secretary_of": secretary_of, "e_branch_secretary": bool(secretary_of),
        "registration_status": status, "tv": user.token_version or 0,
    })


def bump_token_version(session, user_id: int):
    """Tokens issued before this stop working within seconds (the gateway re-reads ``tv``)."""
    user = session.get(User, user_id)
    if user is not None:
        user.token_version = (user.token_version or 0) + 1


def session_state(store: Store, user_ids: list[int]) -> dict:
    """{user_id: {"tv": .., "active": ..}}: what the gateway checks a token's ``tv`` against."""
    ids = [int(i) for i in user_ids][:500]
    with store.sessionmaker() as session:
        rows = session.execute(select(User.id, User.token_version, User.active).where(User.id.in_(ids))).all()
    found = {str(i): {"tv": tv or 0, "active": bool(active)} for i, tv, active in rows}
    return {str(i): found.get(str(i), {"tv": None, "active": False}) for i in ids}


def authenticate(store: Store, credentials: dict) -> dict:
    data = load(schemas.Login, credentials)
    with store.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == data["username"]))
        try:
            if user is None or not user.password_hash or not user.active:
                PASSWORDS.verify(_DUMMY_HASH, data["password"])  # same cost either way
                raise VerifyMismatchError
            PASSWORDS.verify(user.password_hash, data["password"])
        except (VerifyMismatchError, InvalidHashError):
            raise Unauthorized(code="INVALID_CREDENTIALS", message="用户名或密码错误") from None
        return principal_of(uow.session, user)
