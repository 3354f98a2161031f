"""A run's start time from the clock read around its spawn, against /proc."""

import os
import signal

from pv.supervise import procs, spawn
from pv.supervise.runner import Runner


def _spawned(tmp_path, count):
    """(Child, /proc's start) of ``count`` real children, each killed and reaped."""
    out = []
    for _ in range(count):
        child = spawn.spawn(["/bin/sleep", "30"], str(tmp_path), {})
        try:
            out.append((child, procs.read_proc(child.pid).start))
        finally:
            os.kill(child.pid, signal.SIGKILL)
            os.waitpid(child.pid, 0)
    return out


def test_the_start_the_clock_tells_is_the_one_proc_shows(tmp_path):
    spawned = _spawned(tmp_path, 100)
    told = [(child.start, start) for child, start in spawned if child.start is not None]
    assert len(told) >= 50                      # a spawn rarely straddles a 10 ms tick
    assert all(mine == theirs for mine, theirs in told)


def test_the_clock_is_trusted_only_once_seen_to_agree(tmp_path):
    (child, start), = _spawned(tmp_path, 1)
    runner = Runner("pv-test")
    try:
        gone = child.pid            # reaped: /proc has nothing for it now
        assert runner.start_of(gone, start + 1) == 0    # unchecked: /proc's word
        assert runner.start_of(gone, start + 1) == 0    # still unchecked (nothing seen)
        me = procs.read_proc(os.getpid()).start
        assert runner.start_of(os.getpid(), me + 1) == me   # disagrees: /proc for good
        assert runner.start_of(os.getpid(), me + 7) == me
        other = Runner("pv-test")
        try:
            assert other.start_of(os.getpid(), me) == me    # agrees: trusted from now on
            assert other.start_of(gone, 12345) == 12345
        finally:
            other.loop.close()
    finally:
        runner.loop.close()
