"""Test support: bounded waits, real processes that are always killed.

Every wait has a deadline; nothing sleeps to synchronise.  Every process a
test starts is registered and killed by pid (and by its service marker, so
that grandchildren cannot outlive the test).
"""

import os
import signal
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(TOP, "bin")
SHORT_TIMEOUT = 10.0     # a state that should come at once
LONG_TIMEOUT = 30.0      # a state that takes a few restarts

# The sleeper catches TERM, so a supervisor stopping it waits out timeout-kill
# before SIGKILL: a short one keeps each teardown from costing the default 10 s.
SLEEPER_TIMEOUT_KILL = "300\n"
SLEEPER = """#!%s
import os, signal, sys, time
out = open(sys.argv[1] if len(sys.argv) > 1 else "signals", "a")
def caught(signum, frame):
    out.write("%%d Caught %%s\\n" %% (os.getpid(), signal.Signals(signum).name[3:]))
    out.flush()
for sig in ("HUP", "ALRM", "INT", "QUIT", "USR1", "USR2", "TERM", "CONT"):
    signal.signal(getattr(signal, "SIG" + sig), caught)
out.write("%%d started\\n" %% os.getpid()); out.flush()
while True:
    signal.pause()
""" % sys.executable


def bin_path(name):
    return os.path.join(BIN, name)


def wait_until(predicate, timeout=SHORT_TIMEOUT, what="condition"):
    """Poll ``predicate`` with back-off until it returns a true value; fail at the deadline."""
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def write_exec(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


def make_service(parent, name, run, files):
    """A service directory ``parent/name`` with ``run`` and other files (name -> text)."""
    path = os.path.join(str(parent), name)
    os.makedirs(path, exist_ok=True)
    if run is not None:
        write_exec(os.path.join(path, "run"), run)
    for fname, text in files.items():
        if "/" not in fname:
            fname = fname.replace("__", "/").replace("_", "-")
        fpath = os.path.join(path, fname)
        os.makedirs(os.path.dirname(fpath), exist_ok=True)
        if text.startswith("#!"):
            write_exec(fpath, text)
        else:
            with open(fpath, "w") as f:
                f.write(text)
    return path


def read(path, default=None):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def total_size(paths):
    """The bytes in ``paths`` now; a file renamed away meanwhile (a logger's
    rotation moves current aside before it makes the next) counts as 0."""
    total = 0
    for path in paths:
        try:
            total += os.path.getsize(path)
        except FileNotFoundError:
            pass
    return total


def write_conf(tmp, text, **more):
    """``text`` % (``more`` and tmp=``tmp``) written as TMP/supervisord.conf; its path."""
    conf = os.path.join(str(tmp), "supervisord.conf")
    with open(conf, "w") as f:
        f.write(text % dict(more, tmp=tmp))
    return conf


def pv_import(conf, scan):
    """``pv-ctl import CONF --into SCAN``, which must succeed."""
    out = subprocess.run([sys.executable, bin_path("pv-ctl"), "import", conf, "--into", scan],
                         stderr=subprocess.PIPE, universal_newlines=True, timeout=30)
    assert out.returncode == 0, out.stderr


def supervise_pid(service):
    text = read(os.path.join(service, "supervise", "pid"), "")
    return int(text) if text.strip() else 0


def state(service):
    import json
    text = read(os.path.join(service, "supervise", "state"))
    return json.loads(text) if text else {}


def proc_stat(pid):
    """(state letter, ppid) of ``pid`` from /proc/PID/stat, or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            # The name in parentheses may hold anything, ")" and spaces too.
            fields = f.read().rpartition(b")")[2].split()
    except OSError:
        return None
    return fields[0].decode(), int(fields[1])


def proc_list():
    """[(pid, state letter, ppid)] of every process in /proc (those gone meanwhile left out)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = proc_stat(int(name))
            if stat is not None:
                found.append((int(name),) + stat)
    return found


def marked_pids(marker_value):
    """Live pids whose environment has PV_SERVICE starting with ``marker_value``."""
    found = []
    want = ("PV_SERVICE=" + marker_value).encode()
    for pid, letter, _ in proc_list():
        if letter == "Z":
            continue
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if any(v.startswith(want) for v in env):
            found.append(pid)
    return found


def alive(pid):
    stat = proc_stat(pid)
    return stat is not None and stat[0] != "Z"


class Processes:
    """Processes a test started; ``kill_all`` ends them and everything they marked."""

    def __init__(self):
        self.started = []
        self.markers = []

    def start(self, argv, **kwargs):
        kwargs.setdefault("stdout", subprocess.DEVNULL)
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        proc = subprocess.Popen(argv, start_new_session=True, **kwargs)
        self.started.append(proc)
        return proc

    def pv_run(self, service, stderr=None):
        """Start ``pv-run service`` and wait until it supervises it."""
        self.markers.append(service)
        proc = self.start([bin_path("pv-run"), service], stderr=stderr)
        wait_until(lambda: is_supervised(service) or proc.poll() is not None,
                   what="pv-run to lock %s" % service)
        return proc

    def pv_scan(self, scandir, names=(), ready=True, **popen):
        """Start ``pv-scan scandir`` (``popen``: env, stdout, stderr, preexec_fn,
        ... as Popen takes them) and wait until it is ready: it listens on
        D/.pv-scan/control, its record D/.pv-scan/events/current is there, and
        each of ``names`` (NAME, or NAME/log for a logger) is supervised.  It
        must still run then.  ``ready=False``: return once it is executed, for
        a test that looks at it before it sets itself up.  Killed in the
        finaliser by pid, and with it every process marked with a directory
        beside the scan directory too (its entries may be symbolic links to those)."""
        scandir = str(scandir)
        self.markers.append(os.path.dirname(scandir))
        proc = self.start([bin_path("pv-scan"), scandir], **popen)
        if not ready:
            return proc
        own = os.path.join(scandir, ".pv-scan")
        services = [os.path.join(scandir, name) for name in names]
        wait_until(lambda: proc.poll() is not None or (
            has_reader(os.path.join(own, "control"))
            and os.path.exists(os.path.join(own, "events", "current"))
            and all(is_supervised(s) for s in services)),
            what="pv-scan to supervise %s" % " ".join(names or ["nothing"]))
        assert proc.poll() is None, "pv-scan exited %s" % proc.returncode
        return proc

    def kill_all(self):
        for proc in self.started:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.started:
            try:
                proc.wait(timeout=SHORT_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        for proc in self.started:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                proc.wait(timeout=SHORT_TIMEOUT)
        for marker in self.markers:
            for pid in marked_pids(marker):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


def has_reader(fifo):
    """Whether someone holds ``fifo`` open for reading (else ENXIO), as svok(8) asks."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return False
    os.close(fd)
    return True


def is_supervised(service):
    return has_reader(os.path.join(service, "supervise", "ok"))


def svc(service, letters):
    """Write control letters the way svc(8) does."""
    fd = os.open(os.path.join(service, "supervise", "control"), os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.write(fd, letters.encode())
    finally:
        os.close(fd)


def wait_pid(service, not_pid=0, timeout=SHORT_TIMEOUT):
    """Wait until the service runs with a pid other than ``not_pid``; return it."""
    def new_pid():
        pid = supervise_pid(service)
        record = state(service)
        # supervise/pid and supervise/state are two files, replaced one after the
        # other: only a state record that names the same pid is about this run.
        ok = (pid and pid != not_pid and record.get("pid") == pid
              and record.get("state") in ("running", "ready") and alive(pid))
        return pid if ok else 0
    return wait_until(new_pid, timeout, "a new pid in %s" % service)


def wait_state(service, word, timeout=SHORT_TIMEOUT):
    return wait_until(lambda: state(service).get("state") == word, timeout,
                      "%s to be %s (it is %s)" % (service, word, state(service).get("state")))
