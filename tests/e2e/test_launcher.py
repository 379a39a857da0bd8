"""``baodao run`` / ``make run`` leave nothing behind, refuse a second platform, and scale.

Each test starts a small platform of its own (the gateway and scoring, no demo) because it ends
it: the guarantees are about the launcher and its children, not about what the services do.
"""

import os
import re
import signal
import subprocess
import sys
import time
import uuid

import psutil
import pytest
import requests

from common.config import ROOT, SERVICES
from tests import support

# every service left out but scoring: two kinds of child are enough to prove the rules
SMALL = ",".join(f"{name}=0" for name in SERVICES if name != "scoring")
STOP_WITHIN = 10.0


def _restore_sigint():
    # a job started in the background by a script has SIGINT ignored, and so would the launcher
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    os.setsid()  # its own group: signals from the test reach only what the test means


class Launched:
    def __init__(self, proc, log_path, port, env):
        self.proc, self.log_path, self.port, self.env = proc, log_path, port, env

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_started(self):
        support.wait_for(lambda: "按 Ctrl-C 停止全部服务" in self.log() or self.proc.poll() is not None,
                         timeout=240, interval=0.2, message="the launcher to start")
        assert self.proc.poll() is None, self.log()
        return self

    def descendants(self):
        return psutil.Process(self.proc.pid).children(recursive=True)

    def serve_processes(self):
        return [p for p in self.descendants() if "cli.serve" in " ".join(p.cmdline())]

    def cleanup(self):
        try:
            procs = [*self.descendants(), psutil.Process(self.proc.pid)] if self.proc.poll() is None else []
        except psutil.NoSuchProcess:
            procs = []
        for p in procs:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass


@pytest.fixture(scope="module")
def launch(tmp_path_factory):
    vhost = f"baodao-launcher-{uuid.uuid4().hex[:10]}"
    support.create_vhost(vhost)
    root = tmp_path_factory.mktemp("launcher")
    started = []

    def start(*args, via_make=False, data_dir=None, port=None, scale=SMALL):
        data_dir = data_dir or root / f"var-{len(started)}"
        port = port or support.free_port()
        env = dict(os.environ, AMQP_URI=support.amqp_uri_for(vhost), GATEWAY_PORT=str(port),
                   BAODAO_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
        for name in SERVICES:
            env.pop(f"{name.upper()}_DATABASE_URL", None)
        run_args = ["--no-demo", "--scale", scale, *args]
        if via_make:
            # -o: the venv and the web build are taken as made (CI made them): make goes straight to the launcher
            cmd = ["make", "-s", "-o", ".venv/.installed", "-o", "web/dist/.built", "run", f"PY={sys.executable}",
                   f"ARGS={' '.join(run_args)}"]
        else:
            cmd = [sys.executable, "-m", "cli.main", "run", *run_args]
        log_path = root / f"launcher-{len(started)}.log"
        with open(log_path, "w") as log:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    preexec_fn=_restore_sigint)
        launched = Launched(proc, log_path, port, env)
        launched.data_dir = data_dir
        started.append(launched)
        return launched

    yield start
    for launched in started:
        launched.cleanup()
    support.delete_vhost(vhost)


@pytest.fixture(scope="module")
def fleet(launch):
    """Every platform these tests end, started at once: the starts overlap instead of adding up."""
    return {"sigint": launch(), "scaled": launch(scale=SMALL + ",scoring=2,gateway=2"), "killed": launch(),
            "make": launch(via_make=True)}


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_gone(procs, timeout: float) -> list:
    """psutil.wait_procs needs select.poll, which eventlet's monkey-patching removes."""
    deadline = time.monotonic() + timeout
    while (alive := [p for p in procs if _running(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def _stop_and_check(launched, signum, target=None):
    """Signal, then: the launcher reports its stop took < 10 s (it SIGKILLs what is left at 7 s),
    and no child is left. Wall-clock bounds here are generous: a loaded CI machine is slow."""
    children = launched.serve_processes()
    assert children, launched.log()
    os.kill(target or launched.proc.pid, signum)
    launched.proc.wait(60)
    alive = _wait_gone(children, 30 if signum == signal.SIGKILL else 10)
    assert not alive, f"still running: {[p.pid for p in alive]}\n{launched.log()}"
    if signum != signal.SIGKILL:
        took = float(re.search(r"已停止（([\d.]+) 秒）", launched.log()).group(1))
        assert took < STOP_WITHIN, f"stopping took {took:.1f}s"


def test_ctrl_c_ends_every_child_within_10s(fleet):
    launched = fleet["sigint"].wait_started()
    _stop_and_check(launched, signal.SIGINT)
    assert "已停止" in launched.log()


def test_scaled_processes_share_the_gateway_port_and_end_on_sighup(fleet):
    """The terminal closed (SIGHUP) ends a scaled platform too; two gateways answer on one port."""
    launched = fleet["scaled"].wait_started()
    names = sorted(p.cmdline()[-1] for p in launched.serve_processes())
    assert names == ["gateway", "gateway", "scoring", "scoring"]
    assert "gateway×2" in launched.log() and "scoring×2" in launched.log()
    for _ in range(10):  # the kernel spreads connections over both; every one is answered
        assert requests.get(f"http://127.0.0.1:{launched.port}/health", timeout=10).status_code in (200, 503)
    _stop_and_check(launched, signal.SIGHUP)


def test_second_platform_refused_and_killed_launcher_leaves_nothing(fleet, launch, tmp_path):
    first = fleet["killed"].wait_started()
    # the same data directory: the lock in var/ refuses, naming the running launcher
    second = launch(data_dir=first.data_dir)
    assert second.proc.wait(60) == 1
    assert "已有一个宝岛平台在运行" in second.log() and str(first.proc.pid) in second.log()
    # another data directory but the same port: the port refuses (no silent SO_REUSEPORT sharing)
    third = launch(data_dir=tmp_path / "other", port=first.port)
    assert third.proc.wait(60) == 1
    assert "已被占用" in third.log()
    # killed outright: the children hear of it from the kernel (PR_SET_PDEATHSIG)
    _stop_and_check(first, signal.SIGKILL)
    # nothing is left holding the lock or the port: the next start works, and SIGTERM ends it
    again = launch(data_dir=first.data_dir, port=first.port).wait_started()
    _stop_and_check(again, signal.SIGTERM)


def test_sigint_sent_to_make_alone_stops_everything(fleet):
    launched = fleet["make"].wait_started()
    launcher = [p for p in launched.descendants() if p.cmdline()[1:4] == ["-m", "cli.main", "run"]]
    assert launcher, launched.log()
    children = launched.serve_processes()
    _stop_and_check(launched, signal.SIGINT)  # to make's pid only, not its group
    assert not _wait_gone([*launcher, *children], 10)
