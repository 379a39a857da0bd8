"""ID numbers and phones never reach a dead letter, a header or an error line."""

from sqlalchemy.exc import IntegrityError

from common.messaging import describe_error, retry_pause
from common.redaction import redact, redact_bytes, redact_text


def test_text_and_structures_are_scrubbed():
    assert redact_text("电话 13800001234，身份证 11010119900307123X") == "电话 138****1234，身份证 [证件号已隐去]"
    assert redact_text("+86 13912345678") == "139****5678"
    assert redact_text("order 2026120100001 and 10 points") == "order 2026120100001 and 10 points"
    assert redact({"caller": {"phone": "13800001234"}, "ids": ["110101199003071234"]}) == {
        "caller": {"phone": "138****1234"}, "ids": ["[证件号已隐去]"]}
    assert redact_bytes(b"\xff13800001234\xfe") == b"\xff138****1234\xfe"
    assert redact_text("[13015208417d4578] ok") == "[13015208417d4578] ok"  # a request id, not a phone
    assert redact({"event_id": "13800001234", "x": "13800001234"}) == {"event_id": "13800001234", "x": "138****1234"}


def test_database_errors_are_described_without_sql_or_values():
    orig = Exception('duplicate key value violates unique constraint "uq_members_phone"\n'
                     "DETAIL:  Key (phone)=(13800001234) already exists.")
    err = IntegrityError("INSERT INTO members (phone) VALUES (%(phone)s)", {"phone": "13800001234"}, orig)
    text = describe_error(err)
    assert "INSERT" not in text and "13800001234" not in text and "DETAIL" not in text


def test_backoff_doubles_and_is_capped():
    assert [retry_pause(n, 1) for n in (1, 2, 3, 4, 5, 6, 7)] == [1, 2, 4, 8, 16, 30, 30]
