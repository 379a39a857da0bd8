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
