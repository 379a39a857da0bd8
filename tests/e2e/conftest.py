import os
import signal
import subprocess
import sys
import uuid

import pytest
import requests

from common.config import ROOT, SERVICES
from tests import support


class Platform:
    """The platform as ``make run`` starts it: five processes on the real broker."""

    def __init__(self, base_url, env, urls, proc, log_path):
        self.base_url, self.env, self.urls, self.proc, self.log_path = base_url, env, urls, proc, log_path

    def url(self, path):
        return self.base_url + path

    def login(self, username, password="demo1234"):
        resp = requests.post(self.url("/api/auth/login"), json={"username": username, "password": password},
                             timeout=10)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        return Client(self, body["token"], body["user"])

    def log(self):
        return self.log_path.read_text(errors="replace")


class Client:
    def __init__(self, platform, token, user):
        self.platform, self.user = platform, user
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path, **kw):
        return self.session.get(self.platform.url(path), timeout=15, **kw)

    def post(self, path, json=None, **kw):
        return self.session.post(self.platform.url(path), json=json if json is not None else {}, timeout=15, **kw)


def _start_platform(database, workdir, urls=None, args=()):
    """``urls``: databases the caller made and owns (e.g. restored from a backup); ``args``: to ``run``."""
    vhost = f"baodao-e2e-{uuid.uuid4().hex[:10]}"
    support.create_vhost(vhost)
    port = support.free_port()
    urls, made = dict(urls or {}), []
    for name in SERVICES:
        if name in urls:
            continue
        if database == "sqlite":
            urls[name] = f"sqlite:///{workdir / (name + '.db')}"
        else:
            urls[name] = support.create_pg_database(f"bd_e2e_{name[:4]}_{uuid.uuid4().hex[:10]}")
            made.append(urls[name])
    env = dict(os.environ, AMQP_URI=support.amqp_uri_for(vhost), GATEWAY_PORT=str(port),
               BAODAO_DATA_DIR=str(workdir), PYTHONUNBUFFERED="1",
               **{f"{name.upper()}_DATABASE_URL": url for name, url in urls.items()})
    log_path = workdir / "platform.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "cli.main", "run", *args], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    platform = Platform(f"http://127.0.0.1:{port}", env, urls, proc, log_path)
    platform.vhost = vhost

    def stop():
        try:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    raise AssertionError("the platform did not stop on SIGTERM") from None
        finally:
            support.delete_vhost(vhost)
            for url in made:
                support.drop_pg_database(url)

    try:
        support.wait_for(lambda: "按 Ctrl-C 停止全部服务" in platform.log() or proc.poll() is not None,
                         timeout=120, interval=0.5, message="the platform to start")
        assert proc.poll() is None, platform.log()
    except BaseException:
        stop()
        raise
    return platform, stop


@pytest.fixture(scope="session")
def platform(database, tmp_path_factory):
    """The whole platform, started once per database and shared by the e2e tests.

    Tests share its demo data: create what you assert on (your own requests, members,
    activities) rather than expecting an empty inbox or a zero balance for demo accounts.
    """
    platform, stop = _start_platform(database, tmp_path_factory.mktemp(f"platform-{database}"))
    yield platform
    stop()
    # after every e2e test on this platform: no process logged an ID number, a phone or a token
    leaks = support.personal_data_in_log(platform.log())
    assert not leaks, f"personal data or tokens in the platform's log: {leaks[:5]}"


@pytest.fixture
def fresh_platform(database, tmp_path):
    """A platform of this test's own, for tests that stop or kill its processes."""
    platform, stop = _start_platform(database, tmp_path)
    yield platform
    stop()
