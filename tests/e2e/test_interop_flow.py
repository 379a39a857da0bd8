"""An outside system runs the resident flow with only the published contracts: Open311 over HTTP to
place and track a caller's request, and plain AMQP (the examples/ scripts, pika) to confirm it and to
hear every step on ``baodao.public``."""

import json
import subprocess
import sys

import requests

from common.config import ROOT
from services.bridge.demo import DEMO_API_KEY, DEMO_SYSTEM
from tests import support


def _example(platform, script, *args, amqp_uri=None):
    done = subprocess.run([sys.executable, str(ROOT / "examples" / script), "--amqp-uri",
                           amqp_uri or platform.env["AMQP_URI"], *args],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    return done.returncode, done.stdout, done.stderr


def test_a_hotline_runs_the_resident_flow_over_open311_and_amqp(platform):
    # the city hall's own durable queue on baodao.public, made before anything happens
    code, _, err = _example(platform, "consume_events.py", "--queue", "city-hall", "--idle-timeout", "0.5")
    assert code == 0, err
    community = platform.login("staff1").user["community_id"]
    open311 = platform.url("/open311/v2")

    services = requests.get(f"{open311}/services.json", params={"jurisdiction_id": community}, timeout=10)
    assert services.status_code == 200, services.text
    legal = next(s for s in services.json() if s["service_name"] == "法律咨询")
    definition = requests.get(f"{open311}/services/{legal['service_code']}.json",
                              params={"jurisdiction_id": community}, timeout=10).json()
    topic = next(a for a in definition["attributes"] if a["code"] == "topic")
    placed = requests.post(f"{open311}/requests.json", timeout=10, data={
        "api_key": DEMO_API_KEY, "jurisdiction_id": community, "service_code": legal["service_code"],
        "last_name": "王", "first_name": "大爷", "phone": "13911112222", "description": "邻居装修漏水到我家",
        f"attribute[{topic['code']}]": topic["values"][0]["key"]})
    assert placed.status_code == 201, placed.text
    request_id = placed.json()[0]["service_request_id"]

    # a member serves it through the platform's own API
    member = platform.login("13800000001")
    assert member.post(f"/api/requests/{request_id}/claim").status_code == 200
    assert member.post(f"/api/requests/{request_id}/complete", {"reason": "已上门调解"}).status_code == 200
    [tracked] = requests.get(f"{open311}/requests/{request_id}.json", params={"api_key": DEMO_API_KEY},
                             timeout=10).json()
    assert tracked["status"] == "open" and "完成" in tracked["status_notes"]

    # the hotline calls the resident back and confirms over AMQP
    # ... with its own broker account (the platform knows it by that, not by the body's source)
    code, out, err = _example(platform, "publish_command.py", "--id", f"confirm-{request_id}",
                              "request.confirm", json.dumps({"service_request_id": int(request_id), "rating": 5}),
                              amqp_uri=support.broker_user(DEMO_SYSTEM, platform.vhost))
    assert code == 0, (out, err)
    assert json.loads(out.splitlines()[-1])["data"]["result"]["status"] == "closed"
    [tracked] = requests.get(f"{open311}/requests/{request_id}.json", params={"api_key": DEMO_API_KEY},
                             timeout=10).json()
    assert tracked["status"] == "closed"

    # every step was on baodao.public, as plain JSON
    code, out, err = _example(platform, "consume_events.py", "--queue", "city-hall", "--idle-timeout", "3")
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    steps = [e["event_type"] for e in events if e["data"].get("request_id") == int(request_id)]
    for step in ("request.submitted", "request.claimed", "request.completed", "request.confirmed"):
        assert step in steps, (step, steps)
    assert any(e["event_type"] == "command.succeeded" and e["data"]["command_id"] == f"confirm-{request_id}"
               for e in events)
    paths = requests.get(platform.url("/openapi.json"), timeout=10).json()["paths"]
    assert "/open311/v2/requests.{format}" in paths
