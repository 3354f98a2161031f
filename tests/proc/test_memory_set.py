"""The supervisors' memory tricks, checked: the modules pv-run and pv-scan hold.

Real pv-run and pv-scan processes supervise a service with a finish script
and a logger through a start, a restart and a stop; then their sys.modules,
read by tests/proc/modules_probe.py, must lie inside the set that
lib/pv/README documents under "What the supervisors may hold".
"""

import os
import sys

import pytest

from support import (TOP, bin_path, make_service, read, svc, wait_pid,
                     wait_state, wait_until)

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "modules_probe.py")
README = os.path.join(TOP, "lib", "pv", "README")
SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"
# Never part of the set, whatever the README says: each is a trick's reason.
FORBIDDEN = ("json", "subprocess", "enum", "re", "selectors", "signal", "socket",
             "threading", "logging", "ctypes", "traceback", "collections")


def allowed_set():
    with open(README) as f:
        text = f.read()
    section = text.split("\nWhat the supervisors may hold\n", 1)[1]
    blocks = [p.splitlines() for p in section.split("\n\n")
              if all(line.startswith("    ") for line in p.strip("\n").splitlines())]
    return {word for line in blocks[0] for word in line.split()}


def outside(names, allowed):
    def ok(name):
        return name in allowed or any(
            pattern.endswith(".*") and name.startswith(pattern[:-1]) for pattern in allowed)
    return sorted(n for n in names if not ok(n))


class Probed:
    """A command run under the probe; ``modules()`` asks it for its sys.modules now."""

    def __init__(self, procs, tmp_path, command, target):
        self.fifo = str(tmp_path / "probe.fifo")
        self.out = str(tmp_path / "modules")
        os.mkfifo(self.fifo)
        self.proc = procs.start([sys.executable, "-S", PROBE, self.fifo, self.out,
                                 command, target])

    def modules(self):
        before = read(self.out)
        fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.write(fd, b"?")
        finally:
            os.close(fd)
        text = wait_until(lambda: read(self.out) != before and read(self.out),
                          what="the probe's list of modules")
        return text.split()


def exercise(service):
    """Start, a restart through finish, a stop and a start again: every lazy path of a plain run."""
    pid = wait_pid(service)
    wait_until(lambda: read(os.path.join(service, "log", "seen")) is not None,
               what="the logger to start")
    svc(service, "k")
    pid = wait_pid(service, not_pid=pid)
    wait_until(lambda: (read(os.path.join(service, "finished")) or "").count("\n") >= 1,
               what="finish to run")
    svc(service, "d")
    wait_state(service, "down")
    svc(service, "u")
    wait_pid(service, not_pid=pid)


def make(parent, name):
    return make_service(parent, name, SLEEP_RUN, {
        "finish": "#!/bin/sh\necho \"$@\" >> finished\n",
        "log/run": "#!/bin/sh\n: > seen\nexec cat > /dev/null\n",
        "timeout-kill": "300\n"})


def check(names, allowed):
    assert "pv.supervise.unit" in names and "sys" in names     # the probe saw the real thing
    assert not set(FORBIDDEN) & set(names), sorted(set(FORBIDDEN) & set(names))
    assert outside(names, allowed) == [], (
        "modules loaded outside lib/pv/README's allowed set: %s" % outside(names, allowed))


def test_the_allowed_set_excludes_what_the_tricks_avoid():
    allowed = allowed_set()
    assert "pv.supervise.*" in allowed and "heapq" in allowed
    assert outside(FORBIDDEN + ("pv.ctl.status", "pv.log.pump"), allowed) == sorted(
        FORBIDDEN + ("pv.ctl.status", "pv.log.pump"))


def test_pv_run_holds_only_the_allowed_modules(procs, tmp_path):
    service = make(tmp_path, "svc")
    procs.markers.append(service)
    probed = Probed(procs, tmp_path, bin_path("pv-run"), service)
    exercise(service)
    check(probed.modules(), allowed_set())
    assert probed.proc.poll() is None


def test_pv_scan_holds_only_the_allowed_modules(procs, tmp_path):
    scan = tmp_path / "service"
    services = [make(scan, name) for name in ("a", "b")]
    procs.markers.append(str(scan))
    probed = Probed(procs, tmp_path, bin_path("pv-scan"), str(scan))
    for service in services:
        exercise(service)
    names = probed.modules()
    check(names, allowed_set())
    assert "pv.supervise.scan" in names and probed.proc.poll() is None


@pytest.mark.parametrize("module", ["json", "subprocess"])
def test_a_module_added_to_the_supervisor_path_fails_the_check(procs, tmp_path, module):
    # The same check on a pv-run whose shim imports one module more must fail.
    service = make(tmp_path, "svc")
    procs.markers.append(service)
    shim = tmp_path / "pv-run"
    with open(bin_path("pv-run")) as f:
        text = f.read()
    shim.write_text(text.replace("import os\n", "import os\nimport %s\n" % module, 1).replace(
        "os.path.realpath(__file__)", repr(bin_path("pv-run"))))
    shim.chmod(0o755)
    probed = Probed(procs, tmp_path, str(shim), service)
    wait_pid(service)
    names = probed.modules()
    assert module in names
    with pytest.raises(AssertionError):
        check(names, allowed_set())
