"""The bridge's pure rules: keys, scope, Open311 mapping, field coercion, retries, and the
AsyncAPI document (current, valid AsyncAPI 2.6, and describing what really goes on the wire)."""

import json
import xml.etree.ElementTree as ET

import jsonschema
import pytest
import yaml
from marshmallow import ValidationError

from common import contracts
from common.config import ROOT
from common.db import envelope
from common.errors import Forbidden, ValidationFailed
from services.bridge import asyncapi, domain, open311, schemas

ASYNCAPI_SCHEMA = json.loads((ROOT / "services/bridge/asyncapi-2.6.0.schema.json").read_text())
HOTLINE = {"system": "hotline", "communities": [3]}


def test_api_keys_are_random_and_only_their_hash_is_kept():
    a, b = domain.new_api_key(), domain.new_api_key()
    assert a != b and a.startswith("bd_") and len(a) > 40
    assert domain.hash_api_key(a) == domain.hash_api_key(a)
    assert domain.hash_api_key(a) != domain.hash_api_key(b) and a not in domain.hash_api_key(a)


def test_a_key_limited_to_communities_cannot_act_elsewhere():
    domain.check_community(HOTLINE, 3)
    domain.check_community({"system": "city", "communities": None}, 99)
    with pytest.raises(Forbidden) as err:
        domain.check_community(HOTLINE, 4)
    assert err.value.code == "JURISDICTION_FORBIDDEN"
    assert domain.default_community(HOTLINE) == 3
    assert domain.default_community({"system": "x", "communities": [3, 4]}) is None
    with pytest.raises(Forbidden):
        domain.check_roster_scope(HOTLINE, [{"community_id": 3}, {"community_id": 5}])


def test_form_answers_get_the_type_their_field_declares():
    definitions = [{"code": "people", "datatype": "number"}, {"code": "tags", "datatype": "multivaluelist"},
                   {"code": "topic", "datatype": "singlevaluelist"}]
    assert domain.coerce_fields(definitions, {"people": "2", "tags": "a", "topic": ["family"]}) == {
        "people": 2, "tags": ["a"], "topic": "family"}
    assert domain.coerce_fields(definitions, {"people": "1.5"}) == {"people": 1.5}
    with pytest.raises(ValidationFailed) as err:
        domain.coerce_fields(definitions, {"people": "两个"})
    assert err.value.fields == {"fields": {"people": ["应为数字"]}}


def test_an_address_fills_the_address_field_or_else_the_description():
    with_field = [{"code": "address"}]
    assert domain.fill_address(with_field, {}, "d", "幸福路1号") == ({"address": "幸福路1号"}, "d")
    assert domain.fill_address([], {}, "漏水", "幸福路1号") == ({}, "漏水\n地址：幸福路1号")
    assert domain.fill_address([], {"a": 1}, "漏水", "") == ({"a": 1}, "漏水")


def test_passing_failures_are_retried_a_bounded_number_of_times():
    assert domain.after_transient_failure(0) == domain.Retry(again=True, attempt=1)
    assert domain.after_transient_failure(domain.MAX_ATTEMPTS - 1).again is False


ITEM = {"id": 7, "title": "法律咨询", "category": "公共事务", "description": "", "skills": ["法律"],
        "fields": [{"code": "when", "description": "方便的时间", "datatype": "string", "order": 2},
                   {"code": "topic", "description": "咨询事项", "datatype": "singlevaluelist", "required": True,
                    "order": 1, "values": [{"key": "family", "name": "婚姻家庭"}]}]}


def test_a_menu_item_is_an_open311_service_with_its_definition():
    assert open311.service(ITEM) == {"service_code": "7", "service_name": "法律咨询", "description": "法律咨询",
                                     "metadata": True, "type": "realtime", "keywords": "法律", "group": "公共事务"}
    attributes = open311.definition(ITEM)["attributes"]
    assert [a["code"] for a in attributes] == ["topic", "when"]
    assert attributes[0]["required"] is True and attributes[0]["variable"] is True
    assert attributes[0]["values"] == [{"key": "family", "name": "婚姻家庭"}]


def test_form_attributes_become_answers():
    pairs = [("attribute[topic]", "family"), ("attribute[tags][]", "a"), ("attribute[tags][]", "b"),
             ("service_code", "7"), ("attribute[]", "x")]
    assert open311.parse_attributes(pairs) == {"topic": "family", "tags": ["a", "b"]}


@pytest.mark.parametrize("state,status", [("submitted", "open"), ("dispatched", "open"), ("done", "open"),
                                          ("closed", "closed"), ("rejected", "closed"), ("cancelled", "closed")])
def test_our_lifecycle_folds_into_open_and_closed(state, status):
    request = {"id": 5, "state": state, "menu_item_id": 7, "title": "法律咨询", "created_at": "2026-01-01T00:00:00",
               "updated_at": "2026-01-02T00:00:00", "answers": {"address": "幸福路1号"},
               "history": [{"reason": ""}, {"reason": "按技能匹配派给1名党员"}]}
    out = open311.service_request(request, "东风社区党组织")
    assert out["status"] == status and out["service_request_id"] == "5" and out["service_code"] == "7"
    assert out["status_notes"].startswith(open311.STATE_LABELS[state]) and "派给1名党员" in out["status_notes"]
    assert out["agency_responsible"] == "东风社区党组织" and out["address"] == "幸福路1号"
    assert out["requested_datetime"] == "2026-01-01T00:00:00" and "expected_datetime" in out
    assert open311.states_for(["closed"]) == list(open311.CLOSED_STATES)


def test_xml_nests_the_way_open311_names_things():
    root = ET.fromstring(open311.to_xml("services", [open311.service(ITEM)]))
    assert root.tag == "services" and root.find("service/service_code").text == "7"
    assert root.find("service/metadata").text == "true"
    definition = ET.fromstring(open311.to_xml("service_definition", open311.definition(ITEM)))
    assert definition.find("attributes/attribute/values/value/key").text == "family"
    errors = ET.fromstring(open311.to_xml("errors", open311.errors(400, "缺少 service_code")))
    assert errors.find("error/code").text == "400"


def test_the_open311_form_rejects_what_the_spec_does_not_know():
    with pytest.raises(ValidationError):
        schemas.Open311Post().load({"api_key": "k", "service_code": "1", "colour": "red"})
    assert schemas.Open311Post().load({"api_key": "k", "service_code": "1"})["service_code"] == 1


def test_the_committed_asyncapi_document_is_current():
    committed = asyncapi.DOCUMENT.read_text(encoding="utf-8")
    assert committed == asyncapi.render(), "run: python -m services.bridge.asyncapi"


def test_the_asyncapi_document_is_valid_asyncapi_2_6():
    document = yaml.safe_load(asyncapi.DOCUMENT.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft7Validator(ASYNCAPI_SCHEMA).iter_errors(document), key=str)
    assert not errors, [e.message for e in errors[:5]]
    broken = {**document, "channels": {"x": {"subscribe": {"message": {"payload": {}}}, "bogus": 1}}}
    assert list(jsonschema.Draft7Validator(ASYNCAPI_SCHEMA).iter_errors(broken))  # the check can fail


def test_every_event_type_is_documented_and_real_envelopes_match_their_schema():
    document = asyncapi.build()
    messages = {m["name"]: m for m in document["components"]["messages"].values()}
    assert set(contracts.EVENT_TYPES) <= set(messages)
    sample = {"request_id": 1, "community_id": 3, "resident_id": None, "menu_item_id": 2, "title": "法律咨询",
              "state": "closed", "member_ids": [4], "rating": 5, "points": 15}
    wire = json.loads(json.dumps(envelope("dispatch", "request.confirmed",
                                          contracts.dump_event("request.confirmed", sample))))
    schema = messages["request.confirmed"]["payload"]
    jsonschema.validate(wire, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**wire, "data": {**wire["data"], "rating": "five"}}, schema)


def test_commands_in_the_document_match_what_the_bridge_accepts():
    document = asyncapi.build()
    messages = {m["name"]: m for m in document["components"]["messages"].values()}
    command = {"command_id": "hl-1", "command_type": "request.place", "version": 1, "source": "hotline",
               "data": {"community_id": 3, "menu_item_id": 1, "fields": {"topic": "family"},
                        "caller": {"name": "王大爷", "phone": "13900000000"}}}
    jsonschema.validate(command, messages["request.place"]["payload"])
    schemas.CommandEnvelope().load(command)
    schemas.PlaceRequest().load(command["data"])
    bad = {**command, "data": {**command["data"], "surprise": 1}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, messages["request.place"]["payload"])
