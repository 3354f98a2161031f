"""Hardening of supervise/: what another user plants there is never written through.

Issue 12, item 4: ``supervise/event/`` is writable by anyone (1733).  The
supervisor must open only FIFOs there, never follow a link, remove what
is not a waiter's FIFO, and bound the work one publish does.
"""

import os
import shutil
import subprocess

import pytest

from support import SHORT_TIMEOUT, bin_path, read, svc, wait_pid, wait_state, wait_until

SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"
NOBODY = 65534
PLANTER = """
import os, sys
os.symlink(sys.argv[1], "evil-link")
os.symlink("/nonexistent/x", "dangling")
for i in range(int(sys.argv[2])):
    open("junk%d" % i, "w").close()
os.mkdir("a-directory")
"""

needs_root = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                                reason="planting as another user needs root and setpriv")


def as_nobody(argv, cwd):
    """Run ``argv`` as uid/gid 65534 in ``cwd`` (entered as root, then dropped)."""
    return subprocess.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                           "--clear-groups", "--"] + argv, cwd=cwd, timeout=30,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def refused(procs, s):
    """(exit status, stderr) of a pv-run that should refuse ``s`` at once."""
    proc = procs.start([bin_path("pv-run"), s], stderr=subprocess.PIPE)
    procs.markers.append(s)
    _, err = proc.communicate(timeout=SHORT_TIMEOUT)
    return proc.returncode, err


def event_names(s):
    return sorted(os.listdir(os.path.join(s, "supervise", "event")))


@needs_root
def test_planted_symlink_and_junk_in_event_are_removed_not_written(procs, svdir, tmp_path):
    s = svdir(run=SLEEP_RUN)
    secret = tmp_path / "root-only"
    secret.write_text("secret\n")
    os.chmod(str(secret), 0o600)
    procs.pv_run(s)
    wait_pid(s)
    done = as_nobody(["python3", "-c", PLANTER, str(secret), "40"],
                     os.path.join(s, "supervise", "event"))
    assert done.returncode == 0, done.stderr
    assert "evil-link" in event_names(s)
    svc(s, "d")                                  # a state change: publish pokes event/
    wait_state(s, "down")
    wait_until(lambda: event_names(s) == [], what="event/ to be emptied of planted entries")
    assert secret.read_text() == "secret\n"      # the supervisor never wrote through the link
    assert oct(os.stat(str(secret)).st_mode & 0o777) == "0o600"


@needs_root
def test_a_waiter_still_wakes_beside_planted_entries(procs, svdir):
    s = svdir(run=SLEEP_RUN)
    procs.pv_run(s)
    wait_pid(s)
    as_nobody(["python3", "-c", PLANTER, "/etc/shadow", "5"],
              os.path.join(s, "supervise", "event"))
    done = subprocess.run([bin_path("pv-svc"), "-d", "-w", "down", "-T", "5000", s],
                          timeout=30, stderr=subprocess.PIPE)
    assert done.returncode == 0, done.stderr


def test_publish_looks_at_a_bounded_number_of_entries(procs, svdir):
    """20,000 planted files must not be opened at every publish: each state
    change removes at most a bounded batch, and later ones finish the job."""
    s = svdir(run=SLEEP_RUN)
    procs.pv_run(s)
    pid = wait_pid(s)
    events = os.path.join(s, "supervise", "event")
    for i in range(6000):
        open(os.path.join(events, "junk%d" % i), "w").close()
    svc(s, "d")
    wait_state(s, "down")
    left = len(os.listdir(events))
    assert 0 < left < 6000          # one batch went, not everything at once

    def cycle_until_empty():
        svc(s, "u")
        wait_pid(s, not_pid=pid)
        svc(s, "d")
        wait_state(s, "down")
        return not os.listdir(events)
    wait_until(cycle_until_empty, what="later publishes to remove the rest")


def test_supervise_as_a_regular_file_names_the_problem(procs, svdir):
    s = svdir(run=SLEEP_RUN)
    with open(os.path.join(s, "supervise"), "w") as f:
        f.write("not a directory\n")
    code, err = refused(procs, s)
    assert code == 111
    assert b"supervise: it exists and is not a directory" in err, err


def test_supervise_writable_by_others_is_refused(procs, svdir, tmp_path):
    s = svdir(run=SLEEP_RUN)
    target = tmp_path / "shared"
    target.mkdir()
    os.chmod(str(target), 0o777)
    os.symlink(str(target), os.path.join(s, "supervise"))
    code, err = refused(procs, s)
    assert code == 111
    assert b"writable by another user" in err, err
    assert not os.path.exists(str(target / "control"))
    assert read(os.path.join(s, "run")) == SLEEP_RUN
