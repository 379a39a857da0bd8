"""Message contracts: the envelope every event travels in and the data each event type carries.

One module per publishing service registers its event types here; consumers validate against
the same schema, and the AsyncAPI document is generated from this registry. Payloads are JSON
primitives only (ISO 8601 strings for times), so non-nameko consumers can read them.
"""

from marshmallow import Schema, ValidationError, fields, validate

EVENT_TYPES: dict[str, type[Schema]] = {}
EVENT_SOURCES: dict[str, str] = {}
_INSTANCES: dict[str, Schema] = {}


class Envelope(Schema):
    event_id = fields.String(required=True, validate=validate.Length(min=1, max=80))
    event_type = fields.String(required=True)
    version = fields.Integer(required=True)
    source = fields.String(required=True)
    occurred_at = fields.String(required=True)
    data = fields.Dict(required=True)
    # the HTTP request that caused the event, to follow it across services in the logs
    request_id = fields.String(load_default=None, validate=validate.Length(max=80))


def event(source: str, event_type: str):
    """Register a data schema for ``event_type`` published by ``source``."""

    def register(schema_cls):
        EVENT_TYPES[event_type] = schema_cls
        EVENT_SOURCES[event_type] = source
        schema_cls.event_type = event_type
        return schema_cls

    return register


ENVELOPE = Envelope()


def _schema(event_type: str) -> Schema:
    """One instance per event type, built on first use: every event published or consumed passes
    here, and marshmallow 4 schemas keep no per-call state, while building one costs more than using it."""
    schema = _INSTANCES.get(event_type)
    if schema is None:
        schema = _INSTANCES[event_type] = EVENT_TYPES[event_type]()
    return schema


def load_event(body, expected_type: str | None = None) -> dict:
    if not isinstance(body, dict):
        raise ValidationError({"_schema": ["message body is not a JSON object"]})
    envelope = ENVELOPE.load(body)
    if expected_type and envelope["event_type"] != expected_type:
        raise ValidationError({"event_type": [f"expected {expected_type}"]})
    if envelope["event_type"] not in EVENT_TYPES:
        raise ValidationError({"event_type": ["unknown event type"]})
    envelope["data"] = _schema(envelope["event_type"]).load(envelope["data"])
    return envelope


def dump_events(event_type: str, items: list[dict]) -> list[dict]:
    """Validate and serialise outgoing event data; a publisher bug fails loudly, at the source."""
    schema = _schema(event_type)
    dumped = []
    for data in items:
        errors = schema.validate(data)
        if errors:
            raise ValidationError(errors)
        dumped.append(schema.dump(data))
    return dumped


def dump_event(event_type: str, data: dict) -> dict:
    return dump_events(event_type, [data])[0]


# register every publisher's contracts
from common.contracts import activities, bridge, dispatch, notify, records, registration, scoring  # noqa: E402,F401
