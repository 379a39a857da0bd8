"""Chinese messages for every marshmallow field and validator; the storage bounds on every load."""

import importlib
import inspect
import re

import pytest
from marshmallow import Schema, fields, validate

import common  # noqa: F401  (installs the messages and bounds)
from common.errors import ValidationFailed
from common.schemas import StrictSchema, load
from common.validation import FIELD_MESSAGES, INT_MAX, STRING_MAX
from gateway import edge

CJK = re.compile("[\u4e00-\u9fff]")
SERVICES = ("dispatch", "registration", "activities", "scoring", "notify", "bridge")


def _field_classes():
    return [c for c in vars(fields).values()
            if inspect.isclass(c) and issubclass(c, fields.Field)]


@pytest.mark.parametrize("cls", _field_classes(), ids=lambda c: c.__name__)
def test_every_field_type_speaks_chinese(cls):
    messages = {}
    for klass in reversed(cls.__mro__):
        messages.update(getattr(klass, "default_error_messages", {}))
    assert messages, cls
    english = {k: v for k, v in messages.items() if not CJK.search(v)}
    assert not english, f"{cls.__name__}: {english}"


def test_every_validator_speaks_chinese():
    samples = [validate.Range(min=1), validate.Range(max=5), validate.Range(1, 5, min_inclusive=False),
               validate.Length(min=1), validate.Length(max=2), validate.Length(1, 2), validate.Length(equal=3),
               validate.Equal(1), validate.Regexp("^a$"), validate.OneOf(["a"]), validate.NoneOf(["a"]),
               validate.ContainsOnly(["a"]), validate.ContainsNoneOf(["a"]), validate.URL(), validate.Email(),
               validate.Predicate("isdigit")]
    bad = {validate.Range: 0, validate.Length: "abcdef", validate.Equal: 2, validate.Regexp: "b",
           validate.OneOf: "z", validate.NoneOf: "a", validate.ContainsOnly: ["z"],
           validate.ContainsNoneOf: ["a"], validate.URL: "x", validate.Email: "x", validate.Predicate: "x"}
    for validator in samples:
        value = bad[type(validator)] if type(validator) is not validate.Range or validator.min is not None else 9
        if isinstance(validator, validate.Length) and validator.min == 1 and validator.max is None:
            value = ""
        with pytest.raises(Exception) as info:
            validator(value)
        assert CJK.search(str(info.value.messages)), (validator, info.value.messages)


def _input_schemas():
    for service in SERVICES:
        module = importlib.import_module(f"services.{service}.schemas")
        for name, cls in vars(module).items():
            if inspect.isclass(cls) and issubclass(cls, StrictSchema) and cls.__module__ == module.__name__:
                yield pytest.param(cls, id=f"{service}.{name}")


@pytest.mark.parametrize("cls", list(_input_schemas()))
def test_every_input_schema_answers_in_chinese(cls):
    """Garbage for every field of every schema: each message a person would read is Chinese."""
    data = {name: {"deep": [object()]} for name in cls._declared_fields}
    data["unknown_field"] = 1
    with pytest.raises(ValidationFailed) as info:
        load(cls(), data)
    messages = list(_leaves(info.value.fields))
    assert messages
    assert all(CJK.search(m) for m in messages), (cls, messages)


def _leaves(tree):
    """Field errors nest as {field: [message] | {field: ...}}; the strings are what people read."""
    if isinstance(tree, dict):
        for value in tree.values():
            yield from _leaves(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _leaves(value)
    elif isinstance(tree, str):
        yield tree

class Sample(StrictSchema):
    n = fields.Integer()
    wide = fields.Integer(validate=validate.Range(min=0, max=2**40))
    x = fields.Float()
    minutes = fields.Float(validate=validate.Range(min=0.01, max=100))
    s = fields.String()
    answers = fields.Dict()


@pytest.mark.parametrize("data,field", [
    ({"n": INT_MAX + 1}, "n"), ({"n": "99999999999999999999"}, "n"), ({"n": 1e300}, "n"),
    ({"wide": 2**41}, "wide"), ({"x": 1.8e19}, "x"), ({"x": "nan"}, "x"), ({"minutes": 1.8e19}, "minutes"),
    ({"s": "\ud800"}, "s"), ({"s": "x" * (STRING_MAX + 1)}, "s"),
])
def test_bounds_on_every_load(data, field):
    with pytest.raises(ValidationFailed) as info:
        load(Sample(), data)
    assert list(info.value.fields) == [field] and CJK.search(str(info.value.fields))


def test_values_within_bounds_load():
    assert load(Sample(), {"n": INT_MAX, "wide": 2**40, "x": 1e9, "minutes": 100, "s": "好" * 100}) == {
        "n": INT_MAX, "wide": 2**40, "x": 1e9, "minutes": 100, "s": "好" * 100}


def test_marshmallow_messages_reach_no_person_in_english():
    class Plain(Schema):
        when = fields.DateTime(required=True)

    with pytest.raises(ValidationFailed) as info:
        load(Plain(), {"when": "yesterday", "other": 1})
    assert info.value.fields == {"when": ["应为日期时间，如 2026-11-21T09:00:00+08:00"], "other": ["不认识的字段"]}
    assert FIELD_MESSAGES[fields.Field]["required"] == "必填项，不能为空"


@pytest.mark.parametrize("raw,code", [
    (b"[" * 100_000, "JSON_TOO_DEEP"), (b'{"a":' * 40 + b"1" + b"}" * 40, "JSON_TOO_DEEP"),
    (b'{"a": "\\ud800"}', "INVALID_TEXT"), (b'{"\\udc00": 1}', "INVALID_TEXT"),
    (b'{"a": [1, 100000000000000000000]}', "NUMBER_OUT_OF_RANGE"), (b'{"a": NaN}', "MALFORMED_JSON"),
    (b'{"a": Infinity}', "MALFORMED_JSON"), (b"\xff{}", "MALFORMED_JSON"), (b'{"a": ' + b"9" * 5000 + b"}",
                                                                           "MALFORMED_JSON"),
])
def test_edge_json_limits(raw, code):
    with pytest.raises(ValidationFailed) as info:
        edge.parse_json_body(raw)
    assert info.value.code == code and CJK.search(info.value.message)


def test_edge_accepts_ordinary_json():
    assert edge.parse_json_body('{"a": [1, {"b": "好"}], "n": 9223372036854775807}'.encode()) == {
        "a": [1, {"b": "好"}], "n": 2**63 - 1}


def test_allow_header_from_declared_routes():
    import gateway.service  # noqa: F401  (declares the routes)
    from gateway.http import ROUTES

    assert edge.methods_for(ROUTES, "/api/requests/12") >= {"GET"}
    assert edge.methods_for(ROUTES, "/api/requests/abc") == set()
    assert "OPTIONS" in edge.allow_header({"GET"}) and "HEAD" in edge.allow_header({"GET"})
