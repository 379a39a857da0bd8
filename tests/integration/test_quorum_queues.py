"""QUORUM_QUEUES=1: the durable event and command queues are RabbitMQ quorum queues, declared alike by
`baodao declare-queues` and by the services themselves, and events flow through them — on this
single-node broker, as on a cluster."""

import os
import subprocess
import sys
import uuid

from nameko.standalone.rpc import ClusterRpcProxy

from common.config import ROOT
from common.db import EventPublisher, Store, envelope
from common.migrations import upgrade
from services.scoring.models import Base as ScoringBase
from services.scoring.models import MemberView
from tests import support


def _member(store, member_id):
    with store.sessionmaker() as session:
        return session.get(MemberView, member_id)


def test_durable_queues_are_quorum_queues_and_events_flow(tmp_path):
    vhost = f"baodao-test-{uuid.uuid4().hex[:10]}"
    support.create_vhost(vhost)
    amqp = support.amqp_uri_for(vhost)
    url = f"sqlite:///{tmp_path / 'scoring.db'}"
    env = dict(os.environ, AMQP_URI=amqp, QUORUM_QUEUES="1", SCORING_DATABASE_URL=url,
               BAODAO_DATA_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    proc = None
    try:
        upgrade("scoring", url)
        subprocess.run([sys.executable, "-m", "cli.main", "declare-queues"], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=120)
        with open(tmp_path / "scoring.log", "w") as log:
            # its own declarations must match (RabbitMQ refuses a queue redeclared with another type)
            proc = subprocess.Popen([sys.executable, "-m", "cli.serve", "scoring"], cwd=ROOT, env=env, stdout=log,
                                    stderr=subprocess.STDOUT)
        queue = "evt-registration-member.accepted--scoring.on_member_accepted"
        support.wait_for(lambda: proc.poll() is None and support.queue_info(vhost, queue).get("consumers"),
                         timeout=60, interval=0.5, message="scoring to consume its quorum queue")
        types = {q["name"]: q.get("type") for q in support.queues(vhost)}
        durable = [n for n in types if n.startswith("evt-") or n in ("baodao.commands", "baodao.dead-letters")]
        assert queue in durable and "baodao.commands" in durable and "baodao.dead-letters" in durable
        assert {types[n] for n in durable} == {"quorum"}, types

        EventPublisher(amqp, "registration").publish(envelope("registration", "member.accepted", {
            "member_id": 91, "name": "仲裁队列", "community_id": 3, "street_id": 2, "district_id": 1}))
        store = Store(ScoringBase.metadata, "scoring", url, amqp)
        member = support.wait_for(lambda: _member(store, 91), timeout=30, message="the event through the queue")
        assert member.name == "仲裁队列" and member.community_id == 3
        with ClusterRpcProxy({"AMQP_URI": amqp}) as rpc:  # the RPC queue (classic, transient work) too
            assert rpc.scoring.member_summary(support.service_actor(), 91)["balance"] == 0
        store.dispose()
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        support.delete_vhost(vhost)
