"""pv-svc through its command line: letters, waits, exit codes, messages."""

import os
import subprocess
import time

from support import (SLEEPER, SLEEPER_TIMEOUT_KILL, bin_path, read, state, wait_pid, wait_state,
                     wait_until)

SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"


def svc(*args):
    return subprocess.run([bin_path("pv-svc")] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=30)


def test_down_and_up_with_waits(procs, svdir):
    s = svdir(run=SLEEP_RUN)
    procs.pv_run(s)
    pid = wait_pid(s)
    out = svc("-d", "-w", "finished", "-T", "10000", s)
    assert (out.returncode, out.stderr) == (0, "")
    assert state(s)["state"] == "down"
    out = svc("-u", "-w", "up", "-T", "10000", s)
    assert out.returncode == 0 and state(s)["pid"] not in (0, pid)


def test_restart_waits_for_a_new_pid(procs, svdir):
    s = svdir(run=SLEEP_RUN)
    procs.pv_run(s)
    pid = wait_pid(s)
    out = svc("-t", "-w", "up", "-T", "10000", s)
    assert out.returncode == 0
    assert state(s)["pid"] != pid      # judged after the TERM, not before


def test_wait_times_out_with_99(procs, svdir):
    s = svdir(run=SLEEP_RUN, down="")
    procs.pv_run(s)
    wait_state(s, "down")
    started = time.monotonic()
    out = svc("-w", "up", "-T", "300", s)
    assert out.returncode == 99
    assert time.monotonic() - started < 10
    assert out.stderr == "pv-svc: fatal: unable to wait for %s to be up: timed out\n" % s


def test_not_supervised_is_102_and_usage_is_100(svdir, tmp_path):
    s = svdir(run=SLEEP_RUN)
    out = svc("-u", s)
    assert out.returncode == 102
    assert out.stderr == "pv-svc: fatal: unable to control %s: supervisor not running\n" % s
    assert svc("-z", s).returncode == 100
    assert svc("-w", "sideways", s).returncode == 100
    assert svc("-T", "soon", "-w", "up", s).returncode == 100
    assert svc("-u").returncode == 100


def test_help_and_h_as_hup(procs, svdir):
    out = svc("-h")
    assert out.returncode == 0 and out.stdout.startswith("usage: pv-svc")
    assert svc("--help").returncode == 0
    s = svdir(run=SLEEPER, timeout_kill=SLEEPER_TIMEOUT_KILL)
    procs.pv_run(s)
    pid = wait_pid(s)
    wait_until(lambda: "started" in (read(os.path.join(s, "signals")) or ""))
    assert svc("-h", s).returncode == 0
    wait_until(lambda: "%d Caught HUP" % pid in read(os.path.join(s, "signals")))


def test_several_targets_warn_each_and_exit_with_the_worst(procs, svdir):
    good = svdir("good", run=SLEEP_RUN)
    lost = svdir("lost", run=SLEEP_RUN)
    procs.pv_run(good)
    pid = wait_pid(good)
    out = svc("-k", "-w", "up", "-T", "10000", lost, good)
    assert out.returncode == 102
    assert out.stderr == "pv-svc: warning: unable to control %s: supervisor not running\n" % lost
    assert state(good)["pid"] != pid    # the good one was still acted on, and waited for
