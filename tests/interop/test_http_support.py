"""Shared helpers for pv-http's tests (no tests here): pv-scan, pv-http, clients.

Every process goes through ``procs`` (killed in its finaliser); every wait
has a deadline.
"""

import os
import socket
import subprocess
import sys

from support import SHORT_TIMEOUT, bin_path, make_service, wait_until

SLEEP_RUN = "#!/bin/sh\nexec 2>&1\necho started $$\nexec sleep 1000\n"
TICK_RUN = "#!/bin/sh\nexec 2>&1\nwhile :; do echo tick; sleep 0.2; done\n"
LOG_RUN = "#!/bin/sh\nexec %s -tt ./main\n" % bin_path("pv-log")


def service(scandir, name, run=SLEEP_RUN, log=False, **files):
    path = make_service(scandir, name, run, files)
    if log:
        os.makedirs(os.path.join(make_service(path, "log", LOG_RUN, {}), "main"))
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connectable(where):
    if where.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX)
        address = where[5:]
    else:
        host, _, port = where.rpartition(":")
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        address = (host.strip("[]"), int(port))
    try:
        s.connect(address)
        return True
    except OSError:
        return False
    finally:
        s.close()


def pv_http(procs, scandir, *args, listen=(), stderr=subprocess.PIPE, user=None):
    """Start pv-http; wait until every listener accepts.  ``user``: (uid, gid) to run as."""
    argv = [sys.executable, bin_path("pv-http"), "-d", str(scandir)]
    for where in listen:
        argv += ["--listen", where]
    kwargs = {}
    if user is not None:
        kwargs["preexec_fn"] = lambda: (os.setgroups([]), os.setgid(user[1]), os.setuid(user[0]))
    proc = procs.start(argv + list(args), stderr=stderr, **kwargs)
    wait_until(lambda: proc.poll() is not None or all(connectable(w) for w in listen),
               what="pv-http to listen on %s" % " ".join(listen))
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else proc.returncode
    return proc


def has_supervisor():
    try:
        import importlib
        importlib.import_module("supervisor.supervisorctl")
        return True
    except ImportError:
        return False


def supervisorctl(url, *args, user=None, password=None, timeout=SHORT_TIMEOUT + 20,
                  stdin=subprocess.DEVNULL):
    """Run the real supervisorctl; (exit code, stdout)."""
    argv = [sys.executable, "-m", "supervisor.supervisorctl", "-s", url]
    if user is not None:
        argv += ["-u", user, "-p", password]
    out = subprocess.run(argv + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=stdin, timeout=timeout, universal_newlines=True)
    return out.returncode, out.stdout


def lines(text):
    return [line.split() for line in text.splitlines() if line.strip()]


def read_until(stream, done, timeout=SHORT_TIMEOUT):
    """Read a pipe (select-bounded) until ``done(text so far)``; the text."""
    import select
    import time
    deadline = time.monotonic() + timeout
    text = b""
    while not done(text.decode("utf-8", "replace")):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("timed out reading; got %r" % text[-500:])
        readable, _, _ = select.select([stream], [], [], left)
        if readable:
            data = os.read(stream.fileno(), 65536)
            if not data:
                raise AssertionError("end of stream; got %r" % text[-500:])
            text += data
    return text.decode("utf-8", "replace")
