"""The launcher's pure pieces: --scale parsing, the single-instance lock, make's stop signal."""

import os

import pytest

from cli import run


def test_scale_defaults_to_one_of_each_and_reads_counts():
    counts = run.parse_scale("dispatch=3, gateway=2,scoring=0")
    assert counts["dispatch"] == 3 and counts["gateway"] == 2 and counts["scoring"] == 0
    assert set(counts) == set(run.PROCESSES) and counts["registration"] == 1


@pytest.mark.parametrize("spec, message", [("dispach=2", "没有名为"), ("dispatch=x", "0–32"), ("dispatch=99", "0–32")])
def test_scale_mistakes_are_explained_in_chinese(spec, message):
    with pytest.raises(ValueError, match=message):
        run.parse_scale(spec)


def test_the_lock_admits_one_platform_per_data_directory(tmp_path):
    fd, holder = run.acquire_lock(tmp_path)
    assert fd is not None and holder is None
    try:
        again, holder = run.acquire_lock(tmp_path)
        assert again is None and holder == str(os.getpid())
    finally:
        os.close(fd)
    fd, _ = run.acquire_lock(tmp_path)  # released with its last holder
    assert fd is not None
    os.close(fd)


def test_a_parent_that_is_gone_counts_as_stopping():
    assert run._make_is_stopping(os.getppid() + 10**6)  # not our parent: as if make had exited


# --- connection budget (N instances within PostgreSQL's max_connections) -------------------------

def test_pools_shrink_to_fit_the_servers_free_connections(monkeypatch):
    from common.db import plan_pools

    monkeypatch.delenv("DB_POOL_OVERFLOW", raising=False)
    monkeypatch.setenv("DB_POOL_SIZE", "10")
    pg = "postgresql+psycopg2://u@db:5432/"
    urls = {"dispatch": pg + "dispatch", "scoring": pg + "scoring", "notify": "sqlite:///n.db"}
    # 5 PostgreSQL processes (notify is on SQLite), 60 free less 5 spare: 11 each, pool 10 + a probe's
    assert plan_pools({"dispatch": 3, "scoring": 2, "notify": 4}, urls, 10, free=lambda url: 60) == (10, [])
    size, notes = plan_pools({"dispatch": 3, "scoring": 2}, urls, 10, free=lambda url: 40)
    assert size == 6 and notes  # 35 // 5 = 7 a process: 6 pooled + 1 for probes
    with pytest.raises(ValueError):
        plan_pools({"dispatch": 30, "scoring": 2}, urls, 10, free=lambda url: 40)


def test_pool_defaults_to_the_worker_pool(monkeypatch):
    from common.db import connections_per_process, pool_size

    monkeypatch.delenv("DB_POOL_SIZE", raising=False)
    monkeypatch.delenv("DB_POOL_OVERFLOW", raising=False)
    monkeypatch.setenv("MAX_WORKERS", "7")
    assert pool_size() == 7 and connections_per_process() == 8
