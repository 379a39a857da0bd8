import pytest

import authz
from common.errors import Forbidden, ValidationFailed
from services.registration import domain


def make_id(first17="44060419800101001"):
    return first17 + domain.id_number_check_char(first17)


def test_id_number_checksum():
    good = make_id()
    assert domain.valid_id_number(good)
    assert domain.valid_id_number(good.lower())
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    assert not domain.valid_id_number(wrong_check)
    assert not domain.valid_id_number("1234")
    assert domain.valid_id_number("11010519491231002X")  # the standard's published example


@pytest.mark.parametrize("phone,ok", [("13800138000", True), ("12800138000", False),
                                      ("1380013800", False), ("+8613800138000", False)])
def test_phone_format(phone, ok):
    assert domain.valid_phone(phone) is ok


def test_id_hash_is_keyed_and_stable():
    n = make_id()
    assert domain.hash_id_number(n, b"k1") == domain.hash_id_number(n.lower(), b"k1")
    assert domain.hash_id_number(n, b"k1") != domain.hash_id_number(n, b"k2")
    assert n not in domain.hash_id_number(n, b"k1")


def test_phone_is_masked_except_to_self_and_own_community_staff():
    subject = domain.phone_subject({"id": 5, "community_id": 3})
    phone = "13800138000"
    assert authz.shown_phone({"user_id": 5, "role": "member"}, phone, subject) == phone
    assert authz.shown_phone({"user_id": 1, "role": "community_staff", "community_id": 3}, phone, subject) == phone
    assert authz.shown_phone({"user_id": 1, "role": "community_staff", "community_id": 4}, phone, subject) \
        == "138****8000"
    assert authz.shown_phone({"user_id": 1, "role": "street_staff", "street_id": 2}, phone, subject) == "138****8000"


def test_only_own_community_staff_register():
    domain.check_can_register({"user_id": 1, "role": "community_staff", "community_id": 3}, 3)
    with pytest.raises(Forbidden):
        domain.check_can_register({"user_id": 1, "role": "community_staff", "community_id": 4}, 3)
    with pytest.raises(Forbidden):
        domain.check_can_register({"user_id": 1, "role": "resident", "community_id": 3}, 3)


def test_grid_must_belong_to_the_community():
    community = {"id": 3, "kind": "community", "parent_id": 2}
    grid = {"id": 10, "kind": "grid", "parent_id": 4}
    with pytest.raises(ValidationFailed) as err:
        domain.check_place(community, grid, None, grid_id=10, building_id=None)
    assert "grid_id" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        domain.check_place(None, None, None, grid_id=None, building_id=None)
    assert "community_id" in err.value.fields


def test_identity_errors_are_reported_per_field():
    with pytest.raises(ValidationFailed) as err:
        domain.check_identity("123", "440604198001010010")
    assert set(err.value.fields) == {"phone", "id_number"}
