"""A standard Open311 client reads a request's status without a key and sees nothing personal;
with the hotline's key it sees what the key allows."""

import xml.etree.ElementTree as ET

import requests

from services.bridge.demo import DEMO_API_KEY

PERSONAL = ("13922223333", "李", "阿姨", "楼上水管", "幸福里 8 号")
PUBLIC_FIELDS = {"service_request_id", "status", "status_notes", "service_code", "agency_responsible",
                 "requested_datetime", "updated_datetime", "address"}


def test_request_status_is_public_and_impersonal(platform):
    community = platform.login("staff1").user["community_id"]
    open311 = platform.url("/open311/v2")
    services = requests.get(f"{open311}/services.json", params={"jurisdiction_id": community}, timeout=10).json()
    item = next(s for s in services if not s["metadata"]) if any(not s["metadata"] for s in services) else services[0]
    definition = requests.get(f"{open311}/services/{item['service_code']}.json",
                              params={"jurisdiction_id": community}, timeout=10).json()
    answers = {f"attribute[{a['code']}]": (a["values"][0]["key"] if a["values"] else "2026-12-20T10:00:00+08:00")
               for a in definition["attributes"] if a["required"]}
    placed = requests.post(f"{open311}/requests.json", timeout=10, data={
        "api_key": DEMO_API_KEY, "jurisdiction_id": community, "service_code": item["service_code"],
        "last_name": "李", "first_name": "阿姨", "phone": "13922223333", "description": "楼上水管漏水",
        "address_string": "幸福里 8 号", **answers})
    assert placed.status_code == 201, placed.text
    request_id = placed.json()[0]["service_request_id"]

    one = requests.get(f"{open311}/requests/{request_id}.json", timeout=10)
    listed = requests.get(f"{open311}/requests.json", params={"jurisdiction_id": community}, timeout=10)
    by_id = requests.get(f"{open311}/requests.json", params={"service_request_id": f"{request_id},999999"},
                         timeout=10)
    xml = requests.get(f"{open311}/requests/{request_id}.xml", timeout=10)
    for resp in (one, listed, by_id, xml):
        assert resp.status_code == 200, resp.text
        assert not any(value in resp.text for value in PERSONAL), resp.text[:500]
    [shown] = one.json()
    assert set(shown) == PUBLIC_FIELDS
    assert shown["status"] == "open" and shown["service_code"] == item["service_code"]
    assert shown["agency_responsible"].endswith("党组织") and shown["address"] == shown["agency_responsible"][:-3]
    assert shown["requested_datetime"] and shown["updated_datetime"]
    assert request_id in [r["service_request_id"] for r in listed.json()]
    assert all(set(r) == PUBLIC_FIELDS for r in listed.json())
    assert [r["service_request_id"] for r in by_id.json()] == [request_id]
    assert ET.fromstring(xml.content).find("request/status").text == "open"

    keyed = requests.get(f"{open311}/requests/{request_id}.json", params={"api_key": DEMO_API_KEY}, timeout=10)
    assert keyed.status_code == 200 and "楼上水管漏水" in keyed.json()[0]["description"]
    wrong = requests.get(f"{open311}/requests/{request_id}.json", params={"api_key": "not-a-key"}, timeout=10)
    assert wrong.status_code == 401 and wrong.json()[0]["code"] == 401
    assert requests.get(f"{open311}/requests.json", timeout=10).status_code == 400  # which community?
