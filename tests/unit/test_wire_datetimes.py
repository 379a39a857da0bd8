"""Every datetime on the wire carries its offset, whatever the database gave back."""

import importlib
import inspect
from datetime import UTC, datetime, timedelta, timezone

from marshmallow import Schema, fields

from common.config import SERVICES
from common.schemas import AwareDateTime


class Sample(Schema):
    at = AwareDateTime()


def test_a_naive_stored_value_goes_out_as_utc_with_its_offset():
    assert Sample().dump({"at": datetime(2026, 3, 5, 2, 30)}) == {"at": "2026-03-05T02:30:00+00:00"}


def test_an_aware_value_keeps_its_own_offset():
    beijing = timezone(timedelta(hours=8))
    assert Sample().dump({"at": datetime(2026, 3, 5, 10, 30, tzinfo=beijing)})["at"] == "2026-03-05T10:30:00+08:00"
    assert Sample().dump({"at": None})["at"] is None


def test_loading_is_unchanged():
    loaded = Sample().load({"at": "2026-03-05T10:30:00+08:00"})["at"]
    assert loaded.astimezone(UTC) == datetime(2026, 3, 5, 2, 30, tzinfo=UTC)


def _datetime_fields(field, path):
    if isinstance(field, fields.Nested) and isinstance(field.nested, type):
        return []  # the nested schema class is checked on its own
    if isinstance(field, fields.List):
        return _datetime_fields(field.inner, path + "[]")
    if isinstance(field, fields.DateTime) and not isinstance(field, AwareDateTime | fields.AwareDateTime):
        return [path]
    return []


def test_every_service_schema_uses_the_aware_field():
    naive = []
    for service in SERVICES:
        try:
            module = importlib.import_module(f"services.{service}.schemas")
        except ModuleNotFoundError:
            continue
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Schema) and cls.__module__ == module.__name__:
                for field_name, field in cls._declared_fields.items():
                    naive += _datetime_fields(field, f"{service}.{name}.{field_name}")
    assert not naive, f"use common.schemas.AwareDateTime for: {naive}"
