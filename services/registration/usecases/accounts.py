"""Accounts: password hashing, signing in, and the principal an account acts as."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select

from common.db import Store
from common.errors import Unauthorized
from common.schemas import load
from services.registration import schemas
from services.registration.models import User

# OWASP's minimum argon2id profile: a real KDF that keeps a login near 20 ms on one core
PASSWORDS = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = PASSWORDS.hash("not-a-password")


def hash_password(password: str) -> str:
    return PASSWORDS.hash(password)


def principal_of(session, user: User) -> dict:
    return schemas.Principal().dump({
        "user_id": user.id, "role": user.role, "name": user.name,
        "district_id": user.district_id, "street_id": user.street_id,
        "community_id": user.community_id, "grid_id": user.grid_id,
        "work_unit_id": user.work_unit_id, "e_branch_id": user.e_branch_id,
    })


def authenticate(store: Store, credentials: dict) -> dict:
    data = load(schemas.Login(), credentials)
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
