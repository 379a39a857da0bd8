"""The log filters: nothing personal in a line, expected errors quiet, JSON lines when asked."""

import io
import json
import logging

import pytest

from common import logs


@pytest.fixture(autouse=True)
def _restore_root_logger():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def _logger(monkeypatch, fmt="text"):
    monkeypatch.setenv("LOG_FORMAT", fmt)
    stream = io.StringIO()
    logs.configure("unit", level="INFO", stream=stream)
    return stream


def test_id_numbers_phones_and_tokens_never_reach_a_line(monkeypatch):
    stream = _logger(monkeypatch)
    logging.getLogger("x").info("member 440604198001010018 phone 13800000001 token eyJhbGciOi.eyJzdWIiOi.abc123")
    try:
        raise ValueError("bad 13912345678")
    except ValueError:
        logging.getLogger("x").exception("failed for 440604198001010018")
    out = stream.getvalue()
    for secret in ("440604198001010018", "13800000001", "eyJhbGciOi", "13912345678"):
        assert secret not in out
    assert "138****0001" in out and "Traceback" in out


def test_nameko_expected_errors_become_one_info_line(monkeypatch):
    stream = _logger(monkeypatch)
    try:
        raise RuntimeError("REQUEST_NOT_FOUND")
    except RuntimeError:
        logging.getLogger("nameko.containers").warning("(expected) error handling worker %s: %s", "w", "x",
                                                         exc_info=True)
    out = stream.getvalue()
    assert " INFO nameko.containers" in out and "Traceback" not in out


def test_json_lines_carry_the_request_id(monkeypatch):
    stream = _logger(monkeypatch, "json")
    with logs.request_context("abc123def456"):
        logging.getLogger("x").info("hello %s", "world")
    record = json.loads(stream.getvalue().splitlines()[-1])
    assert record["message"] == "hello world" and record["request_id"] == "abc123def456"
    assert record["level"] == "INFO" and record["process"] == "unit"


def test_a_request_id_offered_by_a_client_is_kept_only_when_sane():
    assert logs.new_request_id("trace-0a1b2c3d4e") == "trace-0a1b2c3d4e"
    assert logs.new_request_id("x\n13800000001 injected") != "x\n13800000001 injected"
    assert logs.new_request_id("13800000001-abc") != "13800000001-abc"  # not a phone on every line
    from common.redaction import ID_NUMBER, PHONE

    for _ in range(2000):  # generated ids never look like personal data
        made = logs.new_request_id()
        assert not PHONE.search(made) and not ID_NUMBER.search(made), made
