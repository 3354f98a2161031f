"""Hostile knob values: each gets a one-line warning, never a traceback.

Issue 12, item 2: a value that reached an unguarded os.* call (a NUL byte in
``environment``, a timer 25 days away, a descriptor number beyond int)
crashed pv-run or pv-scan.  Each value here is put in a real service
directory under a real pv-run (and a NUL byte under a running pv-scan).
"""

import os
import signal
import subprocess

import pytest

from support import (SHORT_TIMEOUT, bin_path, state, svc, wait_pid, wait_state,
                     wait_until, alive)

SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"
BIG = "10000000000"           # 10^10: ms -> 115 days; s -> centuries
HUGE = "9" * 400              # beyond a float
FIFO = None                   # a FIFO in place of the file

# (knob file, content, does the run still start?)
HOSTILE = [
    ("environment", "A=b\0c\n", False),
    ("environment", "A\0B=c\n", False),
    ("timeout-kill", BIG + "\n", True),
    ("timeout-kill", HUGE + "\n", True),
    ("timeout-finish", BIG + "\n", True),
    ("start-secs", BIG + "\n", True),
    ("start-secs", HUGE + "\n", True),
    ("max-retries", HUGE + "\n", True),
    ("down-signal", BIG + "\n", True),
    ("down-signal", "TE\0RM\n", True),
    ("notification-fd", "99999999999\n", True),
    ("notification-fd", "2147483647\n", True),
    ("start-timeout", BIG + "\n", "ready"),
    ("user", "ro\0ot\n", False),
    ("user", "99999999999999999999999\n", False),
    ("umask", "0\0" + "\n", False),
    ("limits", "nofile 99999999999999999999999\n", False),
    ("exit-codes", HUGE + "\n", True),
    ("restart", "\0\n", True),
    ("instances", HUGE + "\n", True),
    ("timeout-kill", FIFO, True),       # a FIFO blocked open(2), and with it the supervisor
    ("environment", FIFO, False),
    ("env/A", FIFO, True),
]


def _start(procs, s):
    procs.markers.append(s)
    proc = procs.start([bin_path("pv-run"), s], stderr=subprocess.PIPE)
    os.set_blocking(proc.stderr.fileno(), False)
    return proc


def _err(proc, seen):
    try:
        chunk = proc.stderr.read()
    except (BlockingIOError, TypeError):
        chunk = None
    seen.append(chunk or b"")
    return b"".join(seen)


@pytest.mark.parametrize("knob,text,starts", HOSTILE,
                         ids=["%s=%r" % (k, t[:12] if t else "FIFO") for k, t, _ in HOSTILE])
def test_hostile_knob_gets_a_warning_not_a_crash(procs, svdir, knob, text, starts):
    files = {"finish": "#!/bin/sh\nexit 0\n"}
    if starts == "ready":      # start-timeout is read only with a readiness method
        files["notification-fd"] = "3\n"
    s = svdir(run="#!/bin/sh\necho >&3; exec sleep 1000\n" if starts == "ready" else SLEEP_RUN,
              **files)
    path = os.path.join(s, knob)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if text is FIFO:
        os.mkfifo(path)
    else:
        with open(path, "w") as f:
            f.write(text)
    proc = _start(procs, s)
    seen = []
    if starts:
        wait_pid(s)
    else:
        wait_until(lambda: state(s).get("state") in ("backoff", "fatal"),
                   what="a failed start")
    svc(s, "d")                    # arms the kill (and finish) timers
    wait_state(s, "down")
    assert proc.poll() is None, _err(proc, seen)
    # The warning names the file (down-signal and timeout-* are read at the stop).
    word = "env/" if knob.startswith("env/") else knob
    wait_until(lambda: word.encode() in _err(proc, seen), what="a warning naming " + knob)
    svc(s, "u")                    # and a start after the stop
    if starts:
        wait_pid(s)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=SHORT_TIMEOUT) == 0
    err = _err(proc, seen)
    assert b"Traceback" not in err and b"internal error" not in err, err
    assert all(line.startswith(b"pv-run") and b"warning" in line for line in err.splitlines()), err


def test_nul_in_environment_added_to_a_running_pv_scan(procs, tmp_path):
    """A new entry with a NUL in environment, and the same byte in a running
    service's file: pv-scan goes on supervising the others, and the broken
    service is in backoff, not "running" with a dead pid."""
    scan = tmp_path / "scan"
    scan.mkdir()
    from support import make_service
    good = make_service(scan, "good", SLEEP_RUN, {})
    hit = make_service(scan, "hit", SLEEP_RUN, {})
    proc = procs.pv_scan(scan, stderr=subprocess.PIPE)
    good_pid, hit_pid = wait_pid(good), wait_pid(hit)
    make_service(scan, "new", SLEEP_RUN, {"environment": "A=b\0c\n"})
    with open(os.path.join(hit, "environment"), "w") as f:
        f.write("X=1\0\n")
    os.kill(proc.pid, signal.SIGHUP)
    wait_until(lambda: state(os.path.join(str(scan), "new")).get("state") in ("backoff", "fatal"),
               what="the new entry to fail its start")
    os.kill(hit_pid, signal.SIGKILL)
    wait_until(lambda: state(hit).get("state") in ("backoff", "fatal"),
               what="the hit service to fail its restart")
    assert proc.poll() is None
    assert supervise_alive(good, good_pid)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=SHORT_TIMEOUT)
    assert proc.returncode == 0 and b"Traceback" not in err, err


def supervise_alive(service, pid):
    return alive(pid) and state(service).get("pid") == pid
