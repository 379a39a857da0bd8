"""Registration rules, free of I/O: identity checks, privacy, and who may register whom."""

import hashlib
import hmac
import re

from common.errors import Forbidden, ValidationFailed

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def valid_phone(phone: str) -> bool:
    return bool(PHONE_RE.match(phone or ""))


def valid_id_number(id_number: str) -> bool:
    """Mainland resident ID (GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check character."""
    value = (id_number or "").strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == value[17]


def id_number_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def hash_id_number(id_number: str, key: bytes) -> str:
    """Keyed hash: duplicates are found on it; the number itself is never stored."""
    return hmac.new(key, id_number.strip().upper().encode(), hashlib.sha256).hexdigest()


def mask_phone(phone: str | None) -> str | None:
    if not phone or len(phone) < 7:
        return phone
    return phone[:3] + "****" + phone[-4:]


def can_see_phone(actor: dict, member: dict) -> bool:
    """Only the person and the staff of their community see a full phone number."""
    if actor["user_id"] == member["id"]:
        return True
    return actor["role"] == "community_staff" and actor.get("community_id") == member["community_id"]


def check_can_register(actor: dict, community_id: int):
    """Community staff enter members of their own community; anyone else is refused."""
    if actor["role"] == "system":
        return
    if actor["role"] != "community_staff" or actor.get("community_id") != community_id:
        raise Forbidden(message="只有本社区的工作人员可以为党员登记报到")


def check_identity(phone: str, id_number: str):
    errors = {}
    if not valid_phone(phone):
        errors["phone"] = ["手机号码格式不正确，应为11位中国大陆手机号"]
    if not valid_id_number(id_number):
        errors["id_number"] = ["身份证号码不正确（位数或校验位错误）"]
    if errors:
        raise ValidationFailed(fields=errors)


def check_place(community: dict | None, grid: dict | None, building: dict | None, *, grid_id, building_id):
    errors = {}
    if community is None or community["kind"] != "community":
        errors["community_id"] = ["找不到该社区"]
    else:
        if grid_id is not None and (grid is None or grid["parent_id"] != community["id"]):
            errors["grid_id"] = ["该网格不属于所选社区"]
        if building_id is not None and (
            building is None or grid is None or building["parent_id"] != grid["id"]
        ):
            errors["building_id"] = ["该楼栋不属于所选网格"]
    if errors:
        raise ValidationFailed(fields=errors)
