"""Base marshmallow pieces used on every wire: RPC arguments and results, HTTP bodies."""

import functools
from datetime import UTC, datetime

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from common.errors import from_marshmallow


class StrictSchema(Schema):
    """Unknown fields are an error, not silently dropped."""

    class Meta:
        unknown = RAISE


@functools.cache
def _instance(schema: type[Schema]) -> Schema:
    return schema()


def load(schema: Schema | type[Schema], data, *, partial=False) -> dict:
    """Validate input at a service's edge; a failure is our VALIDATION_ERROR with field messages.

    ``schema``: a schema class (one instance of it is kept and reused — building a schema
    deep-copies its fields, several times the cost of a load) or an instance built with options."""
    if isinstance(schema, type):
        schema = _instance(schema)
    if data is None:
        data = {}
    try:
        return schema.load(data, partial=partial)
    except ValidationError as err:
        raise from_marshmallow(err) from None


class AwareDateTime(fields.DateTime):
    """A datetime that always goes on the wire as ISO 8601 with its offset.

    Services store UTC; SQLite (and any driver that drops the zone) gives it back naive, which
    `fields.DateTime` would send without an offset — read 8 hours off in a Beijing browser. Such a
    value is UTC and is sent as ``…+00:00``. Loading is unchanged: what a client sends is parsed
    as `fields.DateTime` parses it. Every schema uses this field for datetimes.
    """

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class Page(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))


__all__ = ["AwareDateTime", "Page", "StrictSchema", "fields", "load", "validate"]
