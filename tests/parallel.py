"""`make test`'s pytest runs, side by side: most of a test's time is waiting for services, so
two runs overlap well even on two cores (one run took 26 minutes alone).

- ``sqlite``: the unit tests, every test that needs no database of its own choosing (the fault
  suite, the launcher) and the SQLite side of the rest;
- ``postgres``: the PostgreSQL side of the tests that run once per database;
- then ``browser``: the web app in Chromium, in a process of its own (Playwright's asyncio cannot
  share a process with eventlet; see tests/conftest.py).

Each run writes its own log (printed whole when it ends) and its own slowest durations; the exit
status is non-zero when any run failed. Extra arguments go to every run.

    python -m tests.parallel [pytest args…]
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RUNS = {
    "sqlite": ["--databases=sqlite"],
    "postgres": ["--databases=postgres", "--only-database-tests"],
}
BROWSER = ["tests/e2e/browser", "--databases=sqlite", "--suppress-nameko-eventlet-notification"]


def start(name: str, args: list[str], logs: Path, env=None):
    log = open(logs / f"{name}.log", "w")
    cmd = [sys.executable, "-m", "pytest", "--durations=20", "-p", "no:cacheprovider",
           f"--basetemp={logs / ('tmp-' + name)}", *args]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    return name, proc, log, time.monotonic()


def finish(run) -> bool:
    name, proc, log, started = run
    code = proc.wait()
    log.close()
    took = time.monotonic() - started
    print(f"\n{'=' * 30} {name}: exit {code} after {took / 60:.1f} min {'=' * 30}", flush=True)
    sys.stdout.write(Path(log.name).read_text(errors="replace"))
    sys.stdout.flush()
    return code == 0


def main(extra: list[str]) -> int:
    logs = Path(tempfile.mkdtemp(prefix="baodao-tests-"))
    print(f"pytest runs side by side ({', '.join(RUNS)}), then the browser tests; logs in {logs}", flush=True)
    runs = [start(name, [*args, *extra], logs) for name, args in RUNS.items()]
    ok = all([finish(run) for run in runs])
    browser_env = dict(os.environ, BAODAO_BROWSER_TESTS="1")
    ok = finish(start("browser", [*BROWSER, *extra], logs, env=browser_env)) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
