"""Run a browser scenario in a fresh interpreter.

The test suite monkey-patches eventlet first thing (tests/conftest.py), and Playwright's sync API
hangs under that patch. A "spawn" child starts a new interpreter without it: the scenario (a
module-level function, so it pickles by name) runs there, drives Chromium and calls the API with
plain ``requests``; a failure comes back as its traceback and fails the calling test.
"""

import multiprocessing
import traceback


def _run(conn, target, args):
    try:
        conn.send((True, target(*args)))
    except BaseException:  # noqa: BLE001 — every failure goes back to the test, with its traceback
        conn.send((False, traceback.format_exc()))
    finally:
        conn.close()


def run_in_browser_process(target, *args, timeout: float = 240.0):
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_run, args=(send, target, args), daemon=True)
    proc.start()
    send.close()
    try:
        if not receive.poll(timeout):
            raise AssertionError(f"the browser scenario {target.__name__} did not finish in {timeout:.0f} s")
        ok, payload = receive.recv()
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join(5)
    if not ok:
        raise AssertionError(f"browser scenario {target.__name__} failed:\n{payload}")
    return payload
