"""What crosses the bridge's wires: AMQP commands, Open311 forms and queries, RPC results."""

from datetime import UTC

from marshmallow import EXCLUDE, Schema, fields, validate

from common.schemas import StrictSchema
from services.bridge.domain import COMMAND_TYPES

PHONE = validate.Regexp(r"^\+?[0-9-]{5,20}$", error="电话号码格式不对")  # as dispatch checks it


class SystemPrincipal(Schema):
    """What ``check_api_key`` answers; the gateway passes it back as the calling system."""

    class Meta:
        unknown = EXCLUDE

    system = fields.String(required=True, validate=validate.Length(min=1, max=80))
    user_id = fields.Integer(allow_none=True, load_default=None)
    role = fields.String(load_default="system", validate=validate.Equal("system"))
    name = fields.String(load_default="")
    communities = fields.List(fields.Integer(), allow_none=True, load_default=None)


class CreateApiKey(StrictSchema):
    system = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$", error="系统名只能用字母、数字、点、横线和下划线"))
    communities = fields.List(fields.Integer(), allow_none=True, load_default=None)


class Caller(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    phone = fields.String(required=True, validate=PHONE, metadata={"description": "for the call back"})


class PlaceRequest(StrictSchema):
    """``request.place``: a request for a caller without an account (a 12345 hotline call)."""

    community_id = fields.Integer(required=True, metadata={"description": "the community (Open311 jurisdiction)"})
    menu_item_id = fields.Integer(required=True, metadata={"description": "the menu item (Open311 service_code)"})
    fields_ = fields.Dict(keys=fields.String(), data_key="fields", attribute="fields", load_default=dict,
                          metadata={"description": "answers to the item's fields, by field code"})
    description = fields.String(load_default="", validate=validate.Length(max=4000))
    address = fields.String(load_default="", validate=validate.Length(max=200))
    caller = fields.Nested(Caller, required=True)


class ConfirmRequest(StrictSchema):
    """``request.confirm``: the caller, called back, confirms the service and rates it."""

    service_request_id = fields.Integer(required=True)
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(load_default="", validate=validate.Length(max=1000))


class MembersUpdate(StrictSchema):
    """``members.update``: rows of the organisation department's roster (all or nothing)."""

    rows = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1, max=5000),
                       metadata={"description": "name, phone, id_number, community_id, grid_id?, "
                                                "building_id?, work_unit?, skills?"})
    community_id = fields.Integer(load_default=None, allow_none=True,
                                  metadata={"description": "the community of rows that name none"})


COMMAND_DATA = {"request.place": PlaceRequest, "request.confirm": ConfirmRequest,
                "members.update": MembersUpdate}


class CommandEnvelope(Schema):
    """Every command on ``baodao.commands``. Extra envelope keys are ignored (later versions)."""

    class Meta:
        unknown = EXCLUDE

    command_id = fields.String(required=True, validate=validate.Length(min=1, max=100),
                               metadata={"description": "idempotency key, unique per sending system"})
    command_type = fields.String(required=True, validate=validate.OneOf(COMMAND_TYPES))
    version = fields.Integer(required=True, validate=validate.Equal(1))
    source = fields.String(required=True, validate=validate.Length(min=1, max=80),
                           metadata={"description": "the sending system's registered name"})
    sent_at = fields.String(load_default=None, allow_none=True)
    data = fields.Dict(required=True)


class Open311Post(StrictSchema):
    """POST requests.json, form fields per GeoReport v2 (``attribute[...]`` are taken apart first)."""

    api_key = fields.String(required=True, validate=validate.Length(min=1, max=200))
    jurisdiction_id = fields.Integer(load_default=None, allow_none=True)
    service_code = fields.Integer(required=True)
    lat = fields.Float(load_default=None, allow_none=True)
    long = fields.Float(load_default=None, allow_none=True)
    address_string = fields.String(load_default="", validate=validate.Length(max=200))
    address_id = fields.String(load_default="")
    email = fields.String(load_default="")
    device_id = fields.String(load_default="")
    account_id = fields.String(load_default="")
    first_name = fields.String(load_default="", validate=validate.Length(max=25))
    last_name = fields.String(load_default="", validate=validate.Length(max=25))
    phone = fields.String(load_default="", validate=validate.Length(max=20))
    description = fields.String(load_default="", validate=validate.Length(max=4000))
    media_url = fields.String(load_default="")


class Open311Query(Schema):
    """GET requests.json query string."""

    class Meta:
        unknown = EXCLUDE

    api_key = fields.String(load_default=None)
    jurisdiction_id = fields.Integer(load_default=None, allow_none=True)
    service_request_id = fields.String(load_default=None)
    service_code = fields.String(load_default=None)
    start_date = fields.AwareDateTime(load_default=None, default_timezone=UTC)
    end_date = fields.AwareDateTime(load_default=None, default_timezone=UTC)
    status = fields.String(load_default=None, validate=validate.Regexp(r"^(open|closed)(,(open|closed))*$",
                                                                        error="只能是 open、closed 或 open,closed"))


class Placed(Schema):
    service_request_id = fields.Integer()
    token = fields.String()
    state = fields.String()
    status = fields.String()
    duplicate = fields.Boolean()


class ApiKeyCreated(Schema):
    system = fields.String()
    api_key = fields.String()
    prefix = fields.String()
    communities = fields.List(fields.Integer(), allow_none=True)
