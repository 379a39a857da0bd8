"""Open311 GeoReport v2 on the gateway, with registration, dispatch and the bridge on the real broker."""

import xml.etree.ElementTree as ET

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from cli import demo
from common.db import Store
from gateway.service import GatewayService
from services.bridge import usecases
from services.bridge.demo import DEMO_API_KEY
from services.bridge.models import Base as BridgeBase
from services.bridge.service import BridgeService
from services.dispatch.service import DispatchService
from services.registration.service import RegistrationService
from tests import support


class Open311:
    def __init__(self, base, rpc, store):
        self.base, self.rpc, self.store = base, rpc, store

    def get(self, path, **params):
        return requests.get(f"{self.base}/open311/v2/{path}", params=params, timeout=15)

    def post(self, path, data, headers=None):
        return requests.post(f"{self.base}/open311/v2/{path}", data=data, headers=headers or {}, timeout=15)


@pytest.fixture
def open311(start_service, amqp_uri):
    reg = start_service(RegistrationService)
    dis = start_service(DispatchService)
    bri = start_service(BridgeService)
    port = support.free_port()
    start_service(GatewayService, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}")
    demo.seed({"registration": reg["DATABASE_URL"], "dispatch": dis["DATABASE_URL"],
               "bridge": bri["DATABASE_URL"]}, amqp_uri)
    store = Store(BridgeBase.metadata, "bridge", bri["DATABASE_URL"], amqp_uri)
    with ClusterRpcProxy(dis) as rpc:
        yield Open311(f"http://127.0.0.1:{port}", rpc, store)
    store.dispose()


def test_an_open311_client_lists_services_places_and_tracks_a_request(open311):
    staff = open311.rpc.registration.authenticate({"username": "staff1", "password": demo.DEMO_PASSWORD})
    community = staff["community_id"]

    services = open311.get("services.json", jurisdiction_id=community)
    assert services.status_code == 200, services.text
    legal = next(s for s in services.json() if s["service_name"] == "法律咨询")
    assert legal["metadata"] is True and legal["type"] == "realtime" and legal["group"]
    xml = ET.fromstring(open311.get("services.xml", jurisdiction_id=community).content)
    assert "法律咨询" in [s.findtext("service_name") for s in xml.findall("service")]
    definition = open311.get(f"services/{legal['service_code']}.json", jurisdiction_id=community).json()
    topic = next(a for a in definition["attributes"] if a["code"] == "topic")
    assert topic["required"] and topic["datatype"] == "singlevaluelist" and topic["values"]

    form = {"api_key": DEMO_API_KEY, "jurisdiction_id": community, "service_code": legal["service_code"],
            "first_name": "大爷", "last_name": "王", "phone": "13911112222", "description": "邻里纠纷想咨询",
            "address_string": "东风路8号", "attribute[topic]": topic["values"][0]["key"]}
    placed = open311.post("requests.json", form, headers={"Idempotency-Key": "call-20261121-001"})
    assert placed.status_code == 201, placed.text
    [answer] = placed.json()
    request_id = answer["service_request_id"]
    assert answer["token"] == "call-20261121-001" and answer["service_notice"]
    again = open311.post("requests.json", form, headers={"Idempotency-Key": "call-20261121-001"})
    assert again.status_code == 201 and again.json()[0]["service_request_id"] == request_id

    [one] = open311.get(f"requests/{request_id}.json", api_key=DEMO_API_KEY).json()
    assert one["status"] == "open" and one["service_code"] == legal["service_code"]
    assert "东风" in one["agency_responsible"] and one["requested_datetime"] and one["updated_datetime"]
    assert "东风路8号" in one["description"] and one["status_notes"]
    listed = open311.get("requests.json", api_key=DEMO_API_KEY, jurisdiction_id=community, status="open").json()
    assert request_id in [r["service_request_id"] for r in listed]
    assert all(r["status"] == "open" for r in listed)
    closed = open311.get("requests.json", api_key=DEMO_API_KEY, jurisdiction_id=community, status="closed").json()
    assert request_id not in [r["service_request_id"] for r in closed]
    coded = open311.get("requests.json", api_key=DEMO_API_KEY, jurisdiction_id=community,
                        service_code=legal["service_code"]).json()
    assert {r["service_code"] for r in coded} == {legal["service_code"]}
    by_id = open311.get("requests.json", api_key=DEMO_API_KEY, service_request_id=f"{request_id},99999").json()
    assert [r["service_request_id"] for r in by_id] == [request_id]
    tokens = open311.get("tokens/call-20261121-001.json", api_key=DEMO_API_KEY).json()
    assert tokens == [{"service_request_id": request_id, "token": "call-20261121-001"}]
    xml = ET.fromstring(open311.get(f"requests/{request_id}.xml", api_key=DEMO_API_KEY).content)
    assert xml.tag == "service_requests" and xml.findtext("request/status") == "open"


def test_open311_errors_come_in_open311_format(open311):
    community = open311.rpc.registration.authenticate(
        {"username": "staff1", "password": demo.DEMO_PASSWORD})["community_id"]
    limited = usecases.create_api_key(open311.store, {"system": "street-desk", "communities": [community]})
    item = open311.get("services.json", jurisdiction_id=community).json()[0]
    base = {"api_key": DEMO_API_KEY, "jurisdiction_id": community, "service_code": item["service_code"],
            "phone": "13911115555"}
    cases = [
        (open311.get("services.json"), 400, "jurisdiction_id"),
        (open311.get("services.json", jurisdiction_id="abc"), 400, "jurisdiction_id"),
        (open311.get("services/99999.json", jurisdiction_id=community), 404, "99999"),
        (open311.get("services.csv", jurisdiction_id=community), 404, ".json"),
        (open311.post("requests.json", {**base, "api_key": ""}), 400, "api_key"),
        (open311.post("requests.json", {**base, "api_key": "bd_wrong"}), 401, "api_key"),
        (open311.post("requests.json", {**base, "service_code": "99999"}), 404, "服务菜单"),
        (open311.post("requests.json", {**base, "colour": "red"}), 400, "colour"),
        (open311.post("requests.json", {**base, "phone": ""}), 400, "phone"),
        (open311.post("requests.json", {**base, "api_key": limited["api_key"], "jurisdiction_id": community + 1}),
         403, "无权"),
        (open311.get("requests.json"), 400, "jurisdiction_id"),  # public, but of which community?
        (open311.get("requests/99999.json", api_key=DEMO_API_KEY), 404, ""),
        (open311.get("requests.json", api_key=DEMO_API_KEY, jurisdiction_id=community, status="pending"),
         400, "status"),
        (open311.get("tokens/nope.json", api_key=DEMO_API_KEY), 404, "token"),
    ]
    for n, (resp, status, word) in enumerate(cases):
        assert resp.status_code == status, (n, resp.text)
        [error] = resp.json()
        assert error["code"] == status and word in error["description"], (n, error)
    xml = ET.fromstring(open311.get("services.xml").content)
    assert xml.tag == "errors" and xml.findtext("error/code") == "400"
    # a key that covers one community needs no jurisdiction_id
    assert open311.get("services.json", api_key=limited["api_key"]).status_code == 200
