"""on-exit exit through real supervisors: each cell of the table that decides it.

The run of an essential program ends by itself while it is starting,
running or ready: the supervisor exits with its status.  Taken down by d,
on a logger, or once everything is ending anyway: nothing more happens
(pv-servicedir(5), on-exit).  Each run waits for a file the test makes, so
the phase it ends in is the one the test saw.
"""

import os
import signal
import subprocess

import pytest

from support import (LONG_TIMEOUT, SHORT_TIMEOUT, make_service, read, state, svc, wait_pid,
                     wait_state)

# Ends with 5 once S/stop exists; with notification-fd it declares itself ready first.
ENDS_WHEN_TOLD = "#!/bin/sh\n%swhile [ ! -e stop ]; do sleep 0.02; done\nexit 5\n"


@pytest.mark.parametrize("phase", ["starting", "running", "ready"])
def test_an_essential_run_that_ends_ends_pv_run_with_its_code(procs, svdir, phase):
    files = {"on_exit": "exit\n"}
    if phase != "running":
        files["notification-fd"] = "3\n"
    s = svdir(run=ENDS_WHEN_TOLD % ("echo >&3\n" if phase == "ready" else ""), **files)
    proc = procs.pv_run(s, stderr=subprocess.PIPE)
    wait_state(s, phase)
    open(os.path.join(s, "stop"), "w").close()
    assert proc.wait(SHORT_TIMEOUT) == 5
    assert b"on-exit exit: ended with 5; taking everything down" in proc.stderr.read()
    assert state(s)["want"] == "exit" and state(s)["state"] == "down"


def test_an_essential_run_taken_down_by_d_ends_nothing(procs, svdir):
    s = svdir(run="#!/bin/sh\nexec sleep 1000\n", on_exit="exit\n")
    proc = procs.pv_run(s)
    old = wait_pid(s)
    svc(s, "d")
    wait_state(s, "down")
    svc(s, "u")              # pv-run still supervises it
    wait_pid(s, not_pid=old)
    assert proc.poll() is None


def test_a_loggers_on_exit_is_never_read(procs, svdir):
    s = svdir(run="#!/bin/sh\nexec sleep 1000\n")
    log = make_service(s, "log", "#!/bin/sh\nexec sleep 1000\n", {"on_exit": "exit\n"})
    proc = procs.pv_run(s)
    old = wait_pid(log)
    os.kill(old, signal.SIGKILL)
    wait_pid(log, not_pid=old)      # restarted, as any logger
    assert proc.poll() is None


def test_an_essential_run_that_ends_during_the_shutdown_changes_no_code(procs, tmp_path):
    """B's run ends by itself while A, of a higher priority, is still being
    stopped and B not yet: pv-scan is exiting already, and exits 0."""
    d = tmp_path / "D"
    go = str(d / "b" / "go")
    make_service(d, "a", "#!/bin/sh\ntrap 'touch %s' TERM\nwhile :; do sleep 0.05; done\n" % go,
                 {"priority": "2\n", "timeout_kill": "1000\n"})
    b = make_service(d, "b", "#!/bin/sh\nwhile [ ! -e go ]; do sleep 0.02; done\nexit 9\n",
                     {"priority": "1\n", "on_exit": "exit\n"})
    errors = str(tmp_path / "errors")
    with open(errors, "w") as stderr:
        scan = procs.pv_scan(d, ["a", "b"], stderr=stderr)
    wait_pid(b)
    scan.send_signal(signal.SIGTERM)
    assert scan.wait(LONG_TIMEOUT) == 0
    assert os.path.exists(go) and "on-exit" not in read(errors, "")
