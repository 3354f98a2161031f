"""Readiness, start-up policy, ordering and systemd notification (real processes)."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from support import (bin_path, read, state, wait_pid, wait_state, wait_until, write_exec,
                     LONG_TIMEOUT)

PY = sys.executable


def test_notification_fd(procs, svdir):
    s = svdir(run="#!/bin/sh\nsleep 0.3\necho >&3\nexec sleep 1000\n", notification_fd="3")
    procs.pv_run(s)
    wait_until(lambda: state(s).get("state") == "starting")
    assert state(s)["readiness"] == "notification-fd"
    out = subprocess.run([bin_path("pv-svc"), "-w", "ready", "-T", "10000", s], timeout=20)
    assert out.returncode == 0
    rec = state(s)
    assert rec["state"] == "ready" and rec["ready_since"] >= rec["since"]


def test_sd_notify_ready_status_and_private_socket(procs, svdir):
    run = ("#!%s\nimport os, socket, time\naddr = os.environ['NOTIFY_SOCKET']\n"
           "addr = '\\0' + addr[1:] if addr[0] == '@' else addr\n"
           "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ntime.sleep(0.2)\n"
           "s.sendto(b'STATUS=warming up\\nREADY=1', addr)\ntime.sleep(1000)\n") % PY
    s = svdir(run=run, sd_notify="")
    procs.pv_run(s)
    wait_state(s, "ready")
    assert state(s)["status"] == "warming up" and state(s)["readiness"] == "sd-notify"


def test_check_script_is_polled(procs, svdir):
    s = svdir(run="#!/bin/sh\nexec sleep 1000\n", check="#!/bin/sh\nexec test -e ok\n")
    procs.pv_run(s)
    wait_state(s, "starting")
    with open(os.path.join(s, "ok"), "w"):
        pass
    wait_state(s, "ready")


def test_without_a_method_ready_means_up(procs, svdir):
    s = svdir(run="#!/bin/sh\nexec sleep 1000\n")
    procs.pv_run(s)
    out = subprocess.run([bin_path("pv-svc"), "-w", "ready", "-T", "10000", s], timeout=20)
    assert out.returncode == 0 and state(s)["state"] == "running"


def test_start_timeout_counts_as_failed_start_then_fatal(procs, svdir):
    s = svdir(run="#!/bin/sh\nexec sleep 1000\n", notification_fd="3", start_timeout="1",
              max_retries="1")
    procs.pv_run(s)
    wait_state(s, "fatal", LONG_TIMEOUT)
    rec = state(s)
    assert rec["fails"] == 2 and rec["reason"] == "not ready within start-timeout"


def test_on_fatal_exit_ends_pv_run_with_3(procs, svdir):
    s = svdir(run="#!/bin/sh\nexit 1\n", max_retries="0", on_fatal="exit")
    proc = procs.pv_run(s)
    assert proc.wait(timeout=LONG_TIMEOUT) == 3


def test_on_fatal_hook_gets_the_name(procs, svdir, tmp_path):
    hook = tmp_path / "hook"
    write_exec(str(hook), "#!/bin/sh\necho \"$1\" > %s/hooked\n" % tmp_path)
    s = svdir(name="web", run="#!/bin/sh\nexit 1\n", max_retries="0", on_fatal=str(hook))
    procs.pv_run(s)
    wait_until(lambda: read(str(tmp_path / "hooked")) == "web\n", LONG_TIMEOUT)


def test_needs_orders_start_and_reverse_stop(procs, tmp_path):
    d = tmp_path / "scan"
    d.mkdir()
    log = str(tmp_path / "order")
    stamp = str(tmp_path / "stamp")
    write_exec(stamp, "#!/bin/sh\necho \"$1\" >> %s\n" % log)
    for name, ready in (("db", "sleep 0.5\necho >&3\n"), ("app", "")):
        (d / name).mkdir()
        write_exec(str(d / name / "run"), "#!/bin/sh\ntrap '%s %s-stop; exit 0' TERM\n"
                   "%s %s-start\n%swhile :; do sleep 0.05; done\n"
                   % (stamp, name, stamp, name, ready))
    (d / "db" / "notification-fd").write_text("3\n")
    (d / "app" / "needs").write_text("db\n")
    proc = procs.pv_scan(str(d))
    wait_state(str(d / "app"), "running", LONG_TIMEOUT)
    wait_until(lambda: read(log, "").split() == ["db-start", "app-start"])
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=LONG_TIMEOUT) == 0
    assert read(log).split() == ["db-start", "app-start", "app-stop", "db-stop"]


def test_needs_unknown_name_and_cycle_are_reported_not_hung(procs, tmp_path):
    d = tmp_path / "scan"
    d.mkdir()
    for name, needs in (("x", "y\n"), ("y", "x\n"), ("z", "nothere\n")):
        (d / name).mkdir()
        write_exec(str(d / name / "run"), "#!/bin/sh\nexec sleep 1000\n")
        (d / name / "needs").write_text(needs)
    err = open(str(tmp_path / "err"), "w")
    procs.pv_scan(str(d), stderr=err)
    for name in "xyz":
        wait_state(str(d / name), "running", LONG_TIMEOUT)
    text = read(str(tmp_path / "err"))
    assert "needs: z needs nothere, but there is no such service here; ignored" in text
    assert "needs: x is part of a cycle" in text and "needs: y is part of a cycle" in text


class FakeSystemd:
    """A datagram socket playing systemd's notify socket."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.path = path
        self.messages = []

    def wait_for(self, text, timeout=LONG_TIMEOUT):
        deadline = time.monotonic() + timeout
        while text not in self.messages:
            left = deadline - time.monotonic()
            assert left > 0, "no %s from the supervisor; got %s" % (text, self.messages)
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096).decode()
            except socket.timeout:
                continue
            self.messages.extend(data.split("\n"))

    def close(self):
        self.sock.close()


@pytest.fixture
def systemd(tmp_path):
    fake = FakeSystemd(str(tmp_path / "notify.sock"))
    yield fake
    fake.close()


def test_pv_run_tells_systemd_ready_and_stopping(procs, svdir, systemd):
    s = svdir(run="#!/bin/sh\nsleep 0.3\necho >&3\nexec sleep 1000\n", notification_fd="3")
    env = dict(os.environ, NOTIFY_SOCKET=systemd.path, WATCHDOG_USEC="200000")
    proc = procs.start([bin_path("pv-run"), s], env=env)
    systemd.wait_for("READY=1")
    assert state(s)["state"] == "ready"           # not before the service was ready
    assert "NOTIFY_SOCKET=" + systemd.path not in read("/proc/%d/environ" % wait_pid(s)
                                                       ).replace("\0", "\n").split("\n")
    systemd.wait_for("WATCHDOG=1")
    proc.send_signal(signal.SIGTERM)
    systemd.wait_for("STOPPING=1")
    assert proc.wait(timeout=LONG_TIMEOUT) == 0


def test_pv_scan_tells_systemd_when_all_are_up(procs, tmp_path, systemd):
    d = tmp_path / "scan"
    d.mkdir()
    for name in ("a", "b"):
        (d / name).mkdir()
        write_exec(str(d / name / "run"), "#!/bin/sh\nexec sleep 1000\n")
    env = dict(os.environ, NOTIFY_SOCKET=systemd.path)
    procs.pv_scan(str(d), env=env)
    systemd.wait_for("READY=1")
    assert "STATUS=2 of 2 services up" in systemd.messages
    assert state(str(d / "a"))["state"] == state(str(d / "b"))["state"] == "running"


def test_pv_ctl_start_waits_for_readiness(procs, tmp_path):
    d = tmp_path / "scan"
    d.mkdir()
    s = svdir_at(d, "slow", "#!/bin/sh\nsleep 0.5\necho >&3\nexec sleep 1000\n")
    (d / "slow" / "notification-fd").write_text("3\n")
    (d / "slow" / "down").write_text("")
    procs.pv_run(s)
    wait_state(s, "down")
    out = subprocess.run([bin_path("pv-ctl"), "-d", str(d), "start", "slow"], timeout=30,
                         stdout=subprocess.PIPE, universal_newlines=True)
    assert out.returncode == 0 and out.stdout.startswith("ok: run: slow")
    assert state(s)["state"] == "ready"      # not merely started


def svdir_at(parent, name, run):
    path = parent / name
    path.mkdir()
    write_exec(str(path / "run"), run)
    return str(path)
