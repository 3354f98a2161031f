"""Every spawn path resets signal dispositions and the mask (issue 13, item 2).

pv-scan is started the way ``pv-scan DIR &`` in an sh entrypoint starts it:
with QUIT, INT, PIPE and XFSZ ignored (and a blocked signal), which exec
alone would pass on to every service.  The service's own /proc status must
show nothing ignored and nothing blocked, for a plain service and for the
``user``, ``limits`` and ``notification-fd`` spawn paths.
"""

import os
import pwd
import signal
import sys
import time

import pytest
from support import SHORT_TIMEOUT, make_service, state, svc, wait_pid, wait_until

IGNORED = (signal.SIGQUIT, signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ)
SLEEP = "#!/bin/sh\nexec sleep 1000\n"
NOTIFY = "#!/bin/sh\necho >&3\nexec sleep 1000\n"


def ignoring_parent():
    """In the child, before exec: what a careless entrypoint leaves behind."""
    for signum in IGNORED:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2])


def masks(pid):
    """(SigIgn, SigBlk) of ``pid`` as integers."""
    found = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("SigIgn", "SigBlk"):
                found[key] = int(value.strip(), 16)
    return found["SigIgn"], found["SigBlk"]


def bit(signum):
    return 1 << (signum - 1)


# The signals a program may use.  glibc's posix_spawn leaves its own two
# internal signals (32 and 33, outside valid_signals) ignored in the child;
# every program linked with the C library installs its handlers for them at
# start, and no program may touch them.
USABLE = sum(bit(s) for s in signal.valid_signals())


def needs_root():
    if os.getuid() != 0:
        pytest.skip("switching user needs root")


KINDS = {
    "plain": (SLEEP, {}),
    "user": (SLEEP, {"user": "nobody\n"}),
    "limits": (SLEEP, {"limits": "nofile 512\n"}),
    "notify": (NOTIFY, {"notification-fd": "3\n"}),
    "notify-limits": (NOTIFY, {"notification-fd": "3\n", "limits": "nofile 512\n"}),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_no_disposition_or_mask_leaks_into_the_service(procs, tmp_path, kind):
    run, files = KINDS[kind]
    if "user" in files:
        needs_root()
        os.chmod(str(tmp_path), 0o755)
    scandir = str(tmp_path / "service")
    path = make_service(scandir, kind, run, files)
    os.chmod(path, 0o755)
    # Looked at before pv-scan installs its own handlers (INT among them).
    scan = procs.pv_scan(scandir, ready=False, restore_signals=False, preexec_fn=ignoring_parent)
    ignored, _ = masks(scan.pid)
    assert all(ignored & bit(s) for s in IGNORED)      # the parent really ignores them
    pid = wait_pid(path)
    if "notification-fd" in files:
        wait_until(lambda: state(path).get("state") == "ready", what="%s ready" % kind)
    if "user" in files:
        assert os.stat("/proc/%d" % pid).st_uid == pwd.getpwnam("nobody").pw_uid
    ignored, blocked = masks(pid)
    assert (ignored & USABLE, blocked) == (0, 0)


def test_stopsignal_quit_with_user_stops_at_once(procs, tmp_path):
    """The case that made every stop wait out timeout-kill: user= and down-signal QUIT."""
    needs_root()
    os.chmod(str(tmp_path), 0o755)
    scandir = str(tmp_path / "service")
    path = make_service(scandir, "quit", SLEEP, {"user": "nobody\n", "down-signal": "QUIT\n",
                                                   "timeout-kill": "60000\n"})
    os.chmod(path, 0o755)
    procs.pv_scan(scandir, restore_signals=False, preexec_fn=ignoring_parent)
    wait_pid(path)
    began = time.monotonic()
    svc(path, "d")
    wait_until(lambda: state(path).get("state") == "down", SHORT_TIMEOUT, "quit to stop")
    assert time.monotonic() - began < SHORT_TIMEOUT


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
