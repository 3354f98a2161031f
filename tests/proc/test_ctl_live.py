"""pv-ctl's long-lived verbs: tail -f across a real pv-log rotation, and the shell on a pty."""

import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest

from support import SHORT_TIMEOUT, bin_path, make_service, wait_pid, wait_until


def file_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def read_until(fd, needle, buffer, timeout=SHORT_TIMEOUT):
    """Read ``fd`` into ``buffer`` (a bytearray) until ``needle`` is in it; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while needle not in buffer:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("timed out waiting for %r; got %r" % (needle, bytes(buffer)))
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:     # EIO: the pty's other side is closed
                chunk = b""
            if not chunk:
                raise AssertionError("EOF waiting for %r; got %r" % (needle, bytes(buffer)))
            buffer += chunk
    return bytes(buffer)


@pytest.fixture
def killer():
    started = []
    yield started.append
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=SHORT_TIMEOUT)


def test_tail_follows_current_across_rotation(tmp_path, killer):
    svc = make_service(tmp_path, "svc", "#!/bin/sh\nexec sleep 1000\n", {})
    logdir = os.path.join(svc, "log", "main")
    os.makedirs(logdir)
    logger = subprocess.Popen([sys.executable, bin_path("pv-log"), "-t", logdir],
                              stdin=subprocess.PIPE)
    killer(logger)
    logger.stdin.write(b"before\n")
    logger.stdin.flush()
    current = os.path.join(logdir, "current")
    wait_until(lambda: b"before" in (file_bytes(current)), what="first line")
    tail = subprocess.Popen([sys.executable, bin_path("pv-ctl"), "-d", str(tmp_path),
                             "tail", "-f", "-n", "1", "svc"], stdout=subprocess.PIPE)
    killer(tail)
    got = bytearray()
    read_until(tail.stdout.fileno(), b"before\n", got)
    assert not got.startswith(b"@")          # the stamp is shown in local time
    logger.stdin.write(b"second\n")
    logger.stdin.flush()
    read_until(tail.stdout.fileno(), b"second\n", got)
    ino = os.stat(current).st_ino
    logger.send_signal(signal.SIGALRM)       # rotate now
    wait_until(lambda: os.stat(current).st_ino != ino, what="rotation")
    logger.stdin.write(b"after rotation\n")
    logger.stdin.flush()
    read_until(tail.stdout.fileno(), b"after rotation\n", got)
    assert got.count(b"second") == 1
    logger.stdin.close()


def spawn_shell(scan, home):
    """pv-ctl shell with its stdin/stdout on a pty: (process, master fd)."""
    master, slave = pty.openpty()
    env = dict(os.environ, HOME=str(home), TERM="dumb", NO_COLOR="1")
    env.pop("PV_SCANDIR", None)
    proc = subprocess.Popen([sys.executable, bin_path("pv-ctl"), "-d", scan, "shell"],
                            stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    return proc, master


def test_shell_on_a_pty_completes_runs_and_keeps_history(procs, tmp_path, killer):
    scan = str(tmp_path / "service")
    os.makedirs(scan)
    web = make_service(scan, "webserver", "#!/bin/sh\nexec sleep 1000\n", {})
    procs.pv_run(web)
    pid = wait_pid(web)
    proc, master = spawn_shell(scan, tmp_path)
    killer(proc)
    try:
        got = bytearray()
        read_until(master, b"pv> ", got)
        os.write(master, b"stat\twebs\t\n")      # completes to "status webserver"
        read_until(master, b"running", got)
        assert b"webserver" in got and str(pid).encode() in got
        os.write(master, b"help restart\n")
        read_until(master, b"new pid", got)
        os.write(master, b"pid webserver\n")
        read_until(master, b"%d\r\n" % pid, got)
        os.write(master, b"quit\n")
        assert proc.wait(timeout=SHORT_TIMEOUT) == 0
    finally:
        os.close(master)
    history = open(str(tmp_path / ".pv_ctl_history")).read()
    assert "status webserver" in history and "quit" in history


def test_shell_reads_commands_line_by_line_from_a_pipe(procs, tmp_path):
    scan = str(tmp_path)
    web = make_service(scan, "web", "#!/bin/sh\nexec sleep 1000\n", {})
    procs.pv_run(web)
    pid = wait_pid(web)
    out = subprocess.run([sys.executable, bin_path("pv-ctl"), "-d", scan, "shell"],
                         input="# a comment\npid web\nversion\nstatus nope\n",
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=SHORT_TIMEOUT)
    assert out.stdout.splitlines()[:2] == [str(pid), out.stdout.splitlines()[1]]
    assert "pv>" not in out.stdout and out.stdout.splitlines()[1].startswith("pv-ctl")
    assert out.returncode == 4 and "no such service" in out.stderr
