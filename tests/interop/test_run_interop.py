"""The real daemontools and runit clients against pv-run, unchanged."""

import os
import re
import shutil
import signal
import subprocess

import pytest

from support import (SLEEPER, SLEEPER_TIMEOUT_KILL, read, state, supervise_pid, wait_pid,
                     wait_state, wait_until)

SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"


def need(tool):
    if shutil.which(tool) is None:
        pytest.skip("%s is not installed (apt-get install daemontools runit)" % tool)
    return tool


def run(argv, cwd=None):
    return subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=30, universal_newlines=True)


def test_svstat_text(procs, svdir):
    need("svstat")
    s = svdir(run=SLEEP_RUN)
    procs.pv_run(s)
    pid = wait_pid(s)
    out = run(["svstat", s]).stdout
    assert re.fullmatch(r"%s: up \(pid %d\) \d+ seconds\n" % (re.escape(s), pid), out)
    run(["svc", "-p", s])
    wait_until(lambda: ", paused" in run(["svstat", s]).stdout)
    run(["svc", "-c", s])
    run(["svc", "-d", s])
    wait_state(s, "down")
    out = run(["svstat", s]).stdout
    assert re.fullmatch(r"%s: down \d+ seconds, normally up\n" % re.escape(s), out)


def test_svstat_normally_down_and_want_up(procs, svdir):
    need("svstat")
    s = svdir(run=SLEEP_RUN, down="")
    procs.pv_run(s)
    wait_state(s, "down")
    run(["svc", "-u", s])
    pid = wait_pid(s)
    out = run(["svstat", s]).stdout
    assert re.fullmatch(r"%s: up \(pid %d\) \d+ seconds, normally down\n" % (re.escape(s), pid),
                        out)


def test_svok(procs, svdir):
    need("svok")
    s = svdir(run=SLEEP_RUN)
    assert run(["svok", s]).returncode != 0
    proc = procs.pv_run(s)
    assert run(["svok", s]).returncode == 0
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    assert run(["svok", s]).returncode == 100


def test_svc_letters(procs, svdir):
    need("svc")
    s = svdir(run=SLEEPER, timeout_kill=SLEEPER_TIMEOUT_KILL)
    procs.pv_run(s)
    pid = wait_pid(s)
    wait_until(lambda: "started" in (read(os.path.join(s, "signals")) or ""))
    for letter, name in (("h", "HUP"), ("a", "ALRM"), ("i", "INT"), ("t", "TERM")):
        assert run(["svc", "-" + letter, s]).returncode == 0
        wait_until(lambda: "%d Caught %s" % (pid, name) in read(os.path.join(s, "signals")))
    run(["svc", "-k", s])
    new = wait_pid(s, not_pid=pid)
    run(["svc", "-d", s])
    wait_state(s, "down")
    run(["svc", "-o", s])
    assert wait_pid(s, not_pid=new)
    assert state(s)["want"] == "down"


def test_svc_on_unsupervised_dir(svdir):
    need("svc")
    s = svdir(run=SLEEP_RUN)
    os.makedirs(os.path.join(s, "supervise"))
    os.mkfifo(os.path.join(s, "supervise", "control"))
    out = run(["svc", "-u", s])
    assert "supervise not running" in out.stderr


def test_sv_status_up_down_with_log(procs, svdir):
    need("sv")
    s = svdir(run=SLEEP_RUN, log__run="#!/bin/sh\nexec cat > /dev/null\n")
    procs.pv_run(s)
    pid = wait_pid(s)
    logpid = wait_pid(os.path.join(s, "log"))
    out = run(["sv", "status", s]).stdout
    assert re.fullmatch(r"run: %s: \(pid %d\) \d+s; run: log: \(pid %d\) \d+s\n"
                        % (re.escape(s), pid, logpid), out), out
    out = run(["sv", "-w", "10", "down", s])
    assert out.returncode == 0 and out.stdout.startswith("ok: down: %s: " % s), out
    out = run(["sv", "-w", "10", "up", s])
    assert out.returncode == 0 and out.stdout.startswith("ok: run: %s: (pid " % s), out


def test_sv_restart_gives_a_new_pid(procs, svdir):
    need("sv")
    s = svdir(run=SLEEP_RUN)
    procs.pv_run(s)
    pid = wait_pid(s)
    out = run(["sv", "-w", "10", "restart", s])
    assert out.returncode == 0 and out.stdout.startswith("ok: run: "), out
    # sv judges "restarted" by the status time, with one second's slack: for a
    # service younger than that it may answer before the TERM was read.
    assert wait_pid(s, not_pid=pid) != pid


def test_sv_once_and_exit(procs, svdir):
    need("sv")
    s = svdir(run="#!/bin/sh\nsleep 0.2\n", down="")
    proc = procs.pv_run(s)
    wait_state(s, "down")
    out = run(["sv", "once", s])
    assert out.returncode == 0
    wait_until(lambda: state(s).get("exit_code") == 0 and state(s)["state"] == "down")
    out = run(["sv", "-w", "10", "exit", s])
    assert out.returncode == 0, out
    assert proc.wait(timeout=10) == 0


def test_sv_status_of_unsupervised(svdir):
    need("sv")
    s = svdir(run=SLEEP_RUN)
    out = run(["sv", "status", s])
    assert out.returncode != 0 and "unable to" in (out.stdout + out.stderr)
