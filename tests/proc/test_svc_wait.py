"""pv-svc's wait: what it loads before the letters go, the old pid, a supervisor that dies."""

import os
import signal
import subprocess
import sys

from support import SHORT_TIMEOUT, TOP, bin_path, wait_pid, wait_until

from pv import wait

LIB = os.path.join(TOP, "lib")
SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"
# What a wait judges with: loaded only after the letters are sent.
JUDGING = {"select", "pv.status", "pv.supervise.states", "struct", "_json"}
# All of pv that pv-svc loads before it sends (pv.signames: the supervisor's).
BEFORE_SENDING = "pv pv.cmd pv.cmd.svc pv.control pv.diag pv.layout pv.wait"


def test_what_pv_svc_loads_before_sending_leaves_out_what_it_judges_with():
    code = ("import sys; sys.path.insert(0, %r)\n"
            "had_os = 'os' in sys.modules\n"
            "from pv.cmd import svc\n"
            "svc.parse(['-t', '-w', 'up', 'S'])\n"
            "from pv import control, wait\n"
            "print(' '.join(sorted(%r & set(sys.modules))))\n"
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] == 'pv')))\n"
            "print(had_os or 'os' not in sys.modules)\n"
            % (LIB, JUDGING))
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                         timeout=SHORT_TIMEOUT)
    assert (out.returncode, out.stdout, out.stderr) == (0, "\n" + BEFORE_SENDING + "\nTrue\n", "")


def test_pv_svc_finds_its_lib_through_symlinks(tmp_path):
    """bin/pv-svc finds ../lib without os.path.realpath: linked by name, and
    through a linked directory (a relative link, followed by the kernel)."""
    os.symlink(bin_path("pv-svc"), str(tmp_path / "pv-svc"))
    os.symlink(os.path.relpath(os.path.dirname(bin_path("pv-svc")), str(tmp_path)),
               str(tmp_path / "bin"))
    for path in (tmp_path / "pv-svc", tmp_path / "bin" / "pv-svc"):
        out = subprocess.run([str(path), "--help"], capture_output=True, text=True,
                             timeout=SHORT_TIMEOUT)
        assert (out.returncode, out.stdout.split("\n")[0], out.stderr) == (
            0, "usage: pv-svc [-udopchaiq12tkx] [-w up|ready|down|finished] [-T ms] DIR...", ""), path
    out = subprocess.run(["./pv-svc", "--help"], capture_output=True, text=True,
                         timeout=SHORT_TIMEOUT, cwd=str(tmp_path / "bin"))
    assert out.returncode == 0, out.stderr


def test_the_old_pid_is_runits_pid_file(tmp_path):
    service = str(tmp_path)
    os.mkdir(os.path.join(service, "supervise"))
    pid_file = os.path.join(service, "supervise", "pid")
    assert wait._pid(service) == 0                  # no pid file: nothing to replace
    for text, pid in (("4242\n", 4242), ("", 0), ("junk\n", 0)):
        with open(pid_file, "w") as f:
            f.write(text)
        assert wait._pid(service) == pid, text


def test_a_supervisor_killed_during_a_wait_is_noticed(procs, svdir):
    s = svdir(run=SLEEP_RUN, down="")
    runner = procs.pv_run(s)
    waiter = procs.start([bin_path("pv-svc"), "-w", "up", "-T", "60000", s],
                         stderr=subprocess.PIPE)
    events = os.path.join(s, "supervise", "event")
    wait_until(lambda: any(n.startswith("w%d." % waiter.pid) for n in os.listdir(events)),
               what="pv-svc's listener")
    os.kill(runner.pid, signal.SIGKILL)
    runner.wait(SHORT_TIMEOUT)
    # Not woken by a supervisor that is gone: its liveness check finds it.
    _, err = waiter.communicate(timeout=wait.LIVENESS_SECS + SHORT_TIMEOUT)
    assert waiter.returncode == 102
    assert err == b"pv-svc: fatal: unable to control %s: supervisor not running\n" % s.encode()


def _poke(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def test_a_waiter_that_sent_letters_judges_only_after_c(tmp_path):
    service = str(tmp_path)
    os.makedirs(os.path.join(service, "supervise", "event"))
    listener = wait.Listener(service, after_command=True)
    try:
        _poke(listener.path, b"s")      # a turn that ended before the letters were read
        listener.drain()
        assert not listener.armed
        _poke(listener.path, b"sc")
        listener.drain()
        assert listener.armed
    finally:
        listener.close()


def test_the_turn_that_reads_letters_says_c_even_when_the_records_changed(procs, svdir):
    s = svdir(run=SLEEP_RUN)
    procs.pv_run(s)
    wait_pid(s)
    fifo = os.path.join(s, "supervise", "event", "wtest")
    os.mkfifo(fifo, 0o600)
    fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    try:
        with open(os.path.join(s, "supervise", "control"), "wb", buffering=0) as control:
            control.write(b"t")         # TERM: the records change in that same turn
        got = b""
        while b"c" not in got and wait_until(lambda: _readable(fd), what="an event"):
            got += os.read(fd, 512)
        assert b"s" in got and b"c" in got
    finally:
        os.close(fd)
        os.unlink(fifo)


def _readable(fd):
    import select
    return bool(select.select([fd], [], [], 0)[0])
