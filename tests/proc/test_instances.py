"""``instances``: one directory, N supervised instances sharing one logger."""

import os
import subprocess

from support import (bin_path, marked_pids, read, state, wait_pid, wait_until, LONG_TIMEOUT)

RUN = "#!/bin/sh\necho \"instance $PV_INSTANCE up\"\nexec sleep 1000\n"


def instance(s, k):
    return os.path.join(s, "instance", str(k))


def test_each_instance_is_a_service_of_its_own(procs, svdir):
    s = svdir(run=RUN, instances="3\n", log__run="#!/bin/sh\nexec cat >> ../logged\n")
    procs.start([bin_path("pv-run"), s])     # no S/supervise: each instance has its own
    procs.markers.append(s)
    pids = [wait_pid(instance(s, k)) for k in range(3)]
    assert len(set(pids)) == 3
    wait_until(lambda: sorted((read(os.path.join(s, "logged")) or "").splitlines()) ==
               ["instance 0 up", "instance 1 up", "instance 2 up"], what="all three logged")
    env = open("/proc/%d/environ" % pids[1], "rb").read().split(b"\0")
    assert b"PV_INSTANCE=1" in env and ("PV_SERVICE=" + instance(s, 1)).encode() in env
    out = subprocess.run([bin_path("pv-svc"), "-k", "-w", "up", "-T", "10000", instance(s, 1)],
                         timeout=20)
    assert out.returncode == 0
    assert wait_pid(instance(s, 1), not_pid=pids[1]) != pids[1]
    assert [state(instance(s, k))["pid"] for k in (0, 2)] == [pids[0], pids[2]]


def test_pv_ctl_names_instances_and_pv_scan_drops_them_all(procs, tmp_path):
    d = tmp_path / "scan"
    d.mkdir()
    real = tmp_path / "worker"
    real.mkdir()
    (real / "run").write_text(RUN)
    os.chmod(str(real / "run"), 0o755)
    (real / "instances").write_text("2\n")
    os.symlink(str(real), str(d / "worker"))
    procs.pv_scan(d)
    for k in range(2):
        wait_pid(instance(str(real), k), timeout=LONG_TIMEOUT)
    out = subprocess.run([bin_path("pv-ctl"), "-d", str(d), "status"], timeout=20,
                         stdout=subprocess.PIPE, universal_newlines=True)
    names = [line.split()[0] for line in out.stdout.splitlines()]
    assert names == ["worker:0", "worker:1"] and out.returncode == 0
    out = subprocess.run([bin_path("pv-ctl"), "-d", str(d), "pid", "worker:1"], timeout=20,
                         stdout=subprocess.PIPE, universal_newlines=True)
    assert out.stdout.split()[-1] == str(state(instance(str(real), 1))["pid"])
    os.unlink(str(d / "worker"))
    os.kill(procs.started[-1].pid, 1)        # SIGHUP: rescan now
    wait_until(lambda: marked_pids(str(real)) == [], LONG_TIMEOUT, "both instances gone")
