"""A run's start time from the clock read around its spawn, against /proc."""

import os
import signal

import pytest

from pv.supervise import procs, spawn
from pv.supervise.runner import CLOCK_CHECKS, Runner


@pytest.fixture
def spawned(tmp_path, monkeypatch):
    """spawned(count): (Child, /proc's start) of real children, each killed and reaped."""
    monkeypatch.chdir(tmp_path)     # a spawn leaves the cwd at / (the supervisor's)

    def run(count):
        out = []
        for _ in range(count):
            child = spawn.spawn(["/bin/sleep", "30"], str(tmp_path), {})
            try:
                out.append((child, procs.read_proc(child.pid).start))
            finally:
                os.kill(child.pid, signal.SIGKILL)
                os.waitpid(child.pid, 0)
        return out
    return run


@pytest.fixture
def runner(monkeypatch):
    """A Runner that does not make the test process a subreaper for good."""
    monkeypatch.setattr(procs, "become_subreaper", lambda: False)
    made = []

    def make():
        made.append(Runner("pv-test"))
        return made[-1]
    yield make
    for each in reversed(made):     # each loop restores the signal state it found
        each.loop.close()


def test_the_start_the_clock_tells_is_the_one_proc_shows(spawned):
    told = [(child.start, start) for child, start in spawned(100) if child.start is not None]
    assert len(told) >= 20      # a spawn straddles a tick of 10 ms only now and then
    assert all(mine == theirs for mine, theirs in told)


def _no_such_pid():
    with open("/proc/sys/kernel/pid_max") as f:
        return int(f.read()) + 1


def test_the_clock_is_trusted_only_once_proc_agreed_with_it(runner):
    me = procs.read_proc(os.getpid()).start
    nobody = _no_such_pid()
    trusting = runner()
    assert trusting.start_of(nobody, 12345) == 0        # nothing to check it against
    for _ in range(CLOCK_CHECKS):
        assert trusting.start_of(nobody, 12345) == 0    # unchecked: /proc's word
        assert trusting.start_of(os.getpid(), me) == me
    assert trusting.start_of(nobody, 12345) == 12345    # agreed often enough: trusted
    doubting = runner()
    assert doubting.start_of(os.getpid(), me) == me
    assert doubting.start_of(os.getpid(), me + 1) == me     # disagrees: /proc for good
    assert doubting.start_of(os.getpid(), me) == me
    assert doubting.start_of(nobody, 12345) == 0
