"""sd-notify trusts only the run's own processes (issue 12, item 5).

MAINPID= used to be taken for any child of pv-scan -- another service's
run -- and any process able to reach the socket (the abstract fallback is
reachable by every local user) could send READY=1.
"""

import os
import signal
import socket
import subprocess
import sys

import pytest

from support import (SHORT_TIMEOUT, bin_path, make_service, state, supervise_pid, wait_pid,
                     wait_state, wait_until, alive)

PY = sys.executable
SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"

# Sends STATUS=sent and MAINPID=<the pid in the file named by argv> once, waits
# until the supervisor has shown STATUS (so MAINPID, in the same datagram, is
# known before the run exits), then exits; later runs just sleep.
HIJACKER = """#!%s
import json, os, socket, time
if os.path.exists("sent"):
    time.sleep(1000)
open("sent", "w").close()
victim = int(open(%r).read())
addr = os.environ["NOTIFY_SOCKET"]
addr = "\\0" + addr[1:] if addr[0] == "@" else addr
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"STATUS=sent\\nMAINPID=%%d\\nREADY=1" %% victim, addr)
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        if json.load(open("supervise/state")).get("status") == "sent":
            break
    except (OSError, ValueError):
        pass
    time.sleep(0.01)
"""

# Waits for a file "go", then sends STATUS=legit; never READY=1.
WAITER = """#!%s
import os, socket, time
addr = os.environ["NOTIFY_SOCKET"]
addr = "\\0" + addr[1:] if addr[0] == "@" else addr
open("addr.tmp", "w").write(os.environ["NOTIFY_SOCKET"])
os.rename("addr.tmp", "addr")   # whole, or not there: the test reads it once it exists
while not os.path.exists("go"):
    time.sleep(0.01)
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"STATUS=legit", addr)
time.sleep(1000)
""" % PY


def test_mainpid_naming_another_services_run_is_ignored(procs, tmp_path):
    scan = tmp_path / "scan"
    b = make_service(scan, "b", SLEEP_RUN, {})
    a = make_service(scan, "a", HIJACKER % (PY, os.path.join(b, "supervise", "pid")),
                     {"sd-notify": "", "down": ""})
    pv_scan = procs.pv_scan(scan, stderr=subprocess.PIPE)
    victim = wait_pid(b)
    subprocess.run([bin_path("pv-svc"), "-u", a], timeout=SHORT_TIMEOUT, check=True)
    # The hijacker's run exits once its datagram was handled: a follows nothing
    # and restarts, rather than adopting b's run as its own.
    wait_until(lambda: state(a).get("restarts", 0) >= 1 and
               state(a).get("state") in ("starting", "running", "ready"), what="a to restart")
    assert supervise_pid(a) != victim and state(a)["pid"] != victim
    subprocess.run([bin_path("pv-svc"), "-k", a], timeout=SHORT_TIMEOUT, check=True)
    wait_until(lambda: state(a).get("restarts", 0) >= 2, what="a to restart after -k")
    assert alive(victim) and supervise_pid(b) == victim
    pv_scan.send_signal(signal.SIGTERM)
    _, err = pv_scan.communicate(timeout=SHORT_TIMEOUT)
    assert pv_scan.returncode == 0
    assert b"ignored MAINPID=%d: not a process of this run" % victim in err, err


@pytest.mark.parametrize("long_path", [False, True], ids=["path", "abstract"])
def test_notifications_from_outside_the_run_are_ignored(procs, tmp_path, long_path):
    parent = tmp_path / ("x" * 90 if long_path else "p")
    s = make_service(parent, "svc", WAITER, {"sd-notify": ""})
    procs.pv_run(s)
    wait_until(lambda: os.path.exists(os.path.join(s, "addr")), what="the run's NOTIFY_SOCKET")
    addr = open(os.path.join(s, "addr")).read()
    assert addr.startswith("@") == long_path
    forged = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    forged.sendto(b"READY=1\nSTATUS=forged", "\0" + addr[1:] if long_path else addr)
    forged.close()
    open(os.path.join(s, "go"), "w").close()
    # The run's own datagram comes after the forged one on the same socket.
    wait_until(lambda: state(s).get("status") == "legit", what="the run's own STATUS")
    assert state(s)["state"] == "starting"


def test_ready_from_a_helper_that_exits_at_once_is_still_heard(procs, svdir):
    """systemd-notify --ready sends and exits: its pid can no longer be traced
    to the run when the datagram is read, so its uid (the run's) vouches."""
    helper = ("import os, socket\naddr = os.environ['NOTIFY_SOCKET']\n"
              "addr = '\\\\0' + addr[1:] if addr[0] == '@' else addr\n"
              "socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b'READY=1', addr)\n")
    run = "#!/bin/sh\n%s -c \"%s\"\nexec sleep 1000\n" % (PY, helper.replace('"', '\\"'))
    s = svdir(run=run, sd_notify="")
    procs.pv_run(s)
    wait_state(s, "ready")


# run forks; the child calls setsid and forks again; the grandchild (a classic
# daemon, out of the run's session) says MAINPID=itself and READY=1; run
# waits until the supervisor shows the STATUS sent with them, then exits.
DAEMON = """#!%s
import json, os, socket, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        addr = os.environ["NOTIFY_SOCKET"]
        addr = "\\0" + addr[1:] if addr[0] == "@" else addr
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(
            b"STATUS=daemon %%d\\nMAINPID=%%d\\nREADY=1" %% (os.getpid(), os.getpid()), addr)
        time.sleep(1000)
    os._exit(0)
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        if json.load(open("supervise/state")).get("status", "").startswith("daemon"):
            break
    except (OSError, ValueError):
        pass
    time.sleep(0.01)
""" % PY


def test_mainpid_of_a_double_forked_daemon_is_followed(procs, svdir):
    s = svdir(run=DAEMON, sd_notify="")
    procs.pv_run(s)
    wait_until(lambda: state(s).get("status", "").startswith("daemon "), what="the daemon's STATUS")
    daemon = int(state(s)["status"].split()[1])
    wait_until(lambda: state(s).get("pid") == daemon and state(s).get("state") == "ready",
               what="the daemon followed as the main process (%s)" % state(s))
    assert alive(daemon) and state(s)["restarts"] == 0
    subprocess.run([bin_path("pv-svc"), "-d", "-w", "down", "-T", "5000", s], timeout=30,
                   check=True)
    wait_until(lambda: not alive(daemon), what="the daemon to be taken down")


@pytest.mark.skipif(os.geteuid() != 0 or not os.access("/usr/bin/python3", os.X_OK),
                    reason="switching user needs root and a system python3")
def test_sd_notify_with_user_hears_the_run_and_no_one_else(procs, open_dir):
    """With user=, the socket is chowned to that user: the credential check is
    what keeps a process of another user (here root, outside the run) out."""
    s = make_service(open_dir, "svc", WAITER.replace(PY, "/usr/bin/python3", 1),
                     {"sd-notify": "", "user": "nobody\n"})
    os.chmod(s, 0o777)          # the run (as nobody) writes its addr file there
    procs.pv_run(s)
    wait_until(lambda: os.path.exists(os.path.join(s, "addr")), what="the run's NOTIFY_SOCKET")
    addr = open(os.path.join(s, "addr")).read()
    forged = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    forged.sendto(b"READY=1", "\0" + addr[1:] if addr.startswith("@") else addr)
    forged.close()
    open(os.path.join(s, "go"), "w").close()
    wait_until(lambda: state(s).get("status") == "legit", what="the run's own STATUS")
    assert state(s)["state"] == "starting"
