"""pv-ctl over a thousand services: poll(2), a bounded number of descriptors.

select(2) cannot take a descriptor >= 1024, and a listener per service used
to hold two: ``pv-ctl restart all`` over 1,000 services died with a
traceback (exit 101) after the letters were sent, or with EMFILE under
``ulimit -n 1024``.  These tests run the real pv-ctl against a real pv-scan.
"""

import os
import resource
import subprocess

import pytest

from support import LONG_TIMEOUT, bin_path, read, wait_until

N = 1000
# Twenty restart-alls at once restart each service up to twenty times: at
# 1,000 services that is minutes of pv-scan's time on two CPUs.  The
# descriptor bound is what 1,000 tests; here it is the concurrency.
N_CONCURRENT = 150
SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"


def pids(d, names):
    """name -> the pid in its supervise/pid (0 if none)."""
    found = {}
    for name in names:
        text = read(os.path.join(d, name, "supervise", "pid"), "")
        found[name] = int(text) if text.strip() else 0
    return found


@pytest.fixture
def thousand(procs, tmp_path):
    """(D, names, pv-scan) with N sleeping services, all up."""
    return scan_of(procs, tmp_path, N)


@pytest.fixture
def some(procs, tmp_path):
    return scan_of(procs, tmp_path, N_CONCURRENT)


def scan_of(procs, tmp_path, count):
    d = tmp_path / "D"
    d.mkdir()
    names = ["s%04d" % n for n in range(count)]
    for name in names:
        os.mkdir(d / name)
        with open(d / name / "run", "w") as f:
            f.write(SLEEP_RUN)
        os.chmod(d / name / "run", 0o755)
    scan = procs.pv_scan(d, stderr=subprocess.DEVNULL)
    wait_until(lambda: all(pids(str(d), names).values()) or scan.poll() is not None,
               timeout=LONG_TIMEOUT * 2, what="%d services up" % count)
    assert scan.poll() is None
    return str(d), names, scan


def limit_files(n):
    def preexec():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return preexec


def ctl(d, *args, nofile=None):
    return subprocess.Popen([bin_path("pv-ctl"), "-d", d, "-w", "120"] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=limit_files(nofile) if nofile else None)


def finish(proc):
    try:
        out, err = proc.communicate(timeout=LONG_TIMEOUT * 4)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err


def assert_all_restarted(d, names, before, rc, out, err):
    assert "Traceback" not in err and rc == 0, (rc, err[-2000:])
    after = pids(d, names)
    assert [n for n in names if not after[n] or after[n] == before[n]] == []
    assert out.count(": run: ") == len(names), out[-2000:]


def test_restart_all_over_a_thousand_services(thousand):
    d, names, scan = thousand
    before = pids(d, names)
    rc, out, err = finish(ctl(d, "restart", "all"))
    assert_all_restarted(d, names, before, rc, out, err)
    assert scan.poll() is None


def test_restart_all_over_a_thousand_services_under_ulimit_n_1024(thousand):
    d, names, _ = thousand
    before = pids(d, names)
    rc, out, err = finish(ctl(d, "restart", "all", nofile=1024))
    assert_all_restarted(d, names, before, rc, out, err)
    # Every listener FIFO was removed: nothing is left in the event dirs.
    left = [n for n in names if os.listdir(os.path.join(d, n, "supervise", "event"))]
    assert left == []


def test_twenty_restart_alls_at_once(some):
    d, names, scan = some
    before = pids(d, names)
    running = [ctl(d, "restart", "all", nofile=1024 if n % 2 else None) for n in range(20)]
    results = [finish(proc) for proc in running]
    for rc, out, err in results:
        assert_all_restarted(d, names, before, rc, out, err)
    assert scan.poll() is None
