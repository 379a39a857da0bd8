"""Base marshmallow pieces used on every wire: RPC arguments and results, HTTP bodies."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from common.errors import from_marshmallow


class StrictSchema(Schema):
    """Unknown fields are an error, not silently dropped."""

    class Meta:
        unknown = RAISE


def load(schema: Schema, data, *, partial=False) -> dict:
    """Validate input at a service's edge; a failure is our VALIDATION_ERROR with field messages."""
    if data is None:
        data = {}
    try:
        return schema.load(data, partial=partial)
    except ValidationError as err:
        raise from_marshmallow(err) from None


class Page(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))


__all__ = ["Page", "StrictSchema", "fields", "load", "validate"]
