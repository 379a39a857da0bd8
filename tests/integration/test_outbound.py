"""Outbound calls to configured receivers: http(s) only, no internal addresses unless allow-listed,
time-outs, and one error whatever stopped the call. Real sockets on 127.0.0.1, no mocks."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from common import outbound
from services.notify.channels import UNREACHABLE, ChannelError, Outgoing, WebhookChannel
from tests import support


class Receiver:
    def __init__(self, delay=0.0):
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                hits.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                time.sleep(delay)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", support.free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


MESSAGE = Outgoing(kind="test", title="标题", body="正文", dedup_key="d-1")


@pytest.mark.parametrize("url", ["ftp://example.org/x", "file:///etc/passwd", "http://127.0.0.1:9/x",
                                 "http://10.1.2.3/hook", "http://192.168.0.1/", "http://169.254.169.254/latest",
                                 "http://[::1]/x", "http://0.0.0.0/", "http://localhost/x", "http://100.64.0.1/",
                                 "http://[::ffff:127.0.0.1]/"])
def test_internal_and_odd_addresses_are_refused(url, monkeypatch):
    monkeypatch.setenv("OUTBOUND_ALLOW", "")
    with pytest.raises(outbound.NotAllowed):
        outbound.check_url(url)


def test_public_and_unresolvable_names_pass_the_registration_check(monkeypatch):
    monkeypatch.setenv("OUTBOUND_ALLOW", "")
    outbound.check_url("https://93.184.216.34/hook")
    outbound.check_url("https://no-such-host.invalid/hook")  # checked again when called


def test_the_same_error_for_every_way_of_not_reaching_the_receiver(receiver, monkeypatch):
    closed = support.free_port()
    hanging = socket.socket()
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(1)  # accepts the connection, never answers
    slow = f"http://127.0.0.1:{hanging.getsockname()[1]}/hook"
    channel = WebhookChannel(timeout=0.5)
    config = {"secret": "k"}

    monkeypatch.setenv("OUTBOUND_ALLOW", "")
    errors = []
    for url in (receiver.url, f"http://127.0.0.1:{closed}/hook", "http://no-such-host.invalid/hook"):
        with pytest.raises(ChannelError) as info:
            channel.send({**config, "url": url}, MESSAGE)
        errors.append((info.value.reason, info.value.permanent))
    assert receiver.hits == []  # blocked before any byte left

    monkeypatch.setenv("OUTBOUND_ALLOW", "127.0.0.1")
    started = time.monotonic()
    with pytest.raises(ChannelError) as info:
        channel.send({**config, "url": slow}, MESSAGE)
    assert time.monotonic() - started < 3  # the read time-out held
    errors.append((info.value.reason, info.value.permanent))
    with pytest.raises(ChannelError) as info:
        channel.send({**config, "url": f"http://127.0.0.1:{closed}/hook"}, MESSAGE)
    errors.append((info.value.reason, info.value.permanent))
    assert set(errors) == {(f"webhook: {UNREACHABLE}", False)}, errors
    hanging.close()

    channel.send({**config, "url": receiver.url}, MESSAGE)  # allow-listed: delivered
    assert len(receiver.hits) == 1


def test_a_name_on_the_allow_list_may_resolve_inside(receiver, monkeypatch):
    monkeypatch.setenv("OUTBOUND_ALLOW", "localhost")
    outbound.check_url("http://localhost/x")
    resp = outbound.post(receiver.url.replace("127.0.0.1", "localhost"), data=b"{}", headers={},
                         connect_timeout=1, read_timeout=1)
    assert resp.status_code == 200
