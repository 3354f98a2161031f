"""pv-ctl remove deletes only service directories (issue 12, item 6).

It used to rm -r any directory given with a slash: one without run, or the
scan directory itself while its services ran.
"""

import os
import subprocess
import sys

from support import SHORT_TIMEOUT, bin_path, make_service, wait_pid, alive, wait_until

SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"


def ctl(scandir, *args):
    return subprocess.run([sys.executable, bin_path("pv-ctl"), "-d", str(scandir)] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=SHORT_TIMEOUT + 15,
                          universal_newlines=True)


def test_a_directory_without_run_is_refused_and_kept(scan, tmp_path):
    victim = tmp_path / "precious"
    victim.mkdir()
    (victim / "data").write_text("keep me\n")
    out = ctl(scan, "remove", str(victim))
    assert out.returncode == 100, out.stderr
    assert out.stderr.count("\n") == 1 and "unable to remove" in out.stderr, out.stderr
    assert (victim / "data").read_text() == "keep me\n"


def test_the_scan_directory_and_its_parents_are_refused_while_services_run(procs, scan):
    a = make_service(scan, "a", SLEEP_RUN, {})
    pv_scan = procs.pv_scan(scan)
    pid = wait_pid(a)
    for word in (scan, scan + "/", os.path.dirname(scan)):   # never "/": not even to test
        out = ctl(scan, "remove", word)
        assert out.returncode == 100, (word, out.stderr)
        assert "scan directory" in out.stderr, out.stderr
    assert os.path.isfile(os.path.join(a, "run")) and alive(pid) and pv_scan.poll() is None


def test_a_service_outside_the_scan_directory_needs_outside(procs, scan, tmp_path):
    other = make_service(tmp_path, "other", SLEEP_RUN, {})
    out = ctl(scan, "remove", other)
    assert out.returncode == 100 and "--outside" in out.stderr, out.stderr
    assert os.path.isdir(other)
    out = ctl(scan, "remove", "--outside", other)
    assert out.returncode == 0, out.stderr
    assert not os.path.exists(other)


def test_remove_under_pv_scan_takes_it_down_first_and_keeps_a_linked_supervise(procs, scan,
                                                                                tmp_path):
    elsewhere = tmp_path / "elsewhere"
    a = make_service(scan, "a", SLEEP_RUN, {})
    b = make_service(scan, "b", SLEEP_RUN, {})
    os.symlink(str(elsewhere), os.path.join(a, "supervise"))
    pv_scan = procs.pv_scan(scan)
    pid, other = wait_pid(a), wait_pid(b)
    out = ctl(scan, "remove", "a")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "a: removed\n"
    assert not os.path.lexists(a)
    wait_until(lambda: not alive(pid), what="the removed service's run to be gone")
    assert (elsewhere / "status").exists()        # rmtree never followed the link
    assert alive(other) and pv_scan.poll() is None


def test_an_instanced_entry_is_removed_once_after_every_instance_is_down(procs, scan):
    s = make_service(scan, "multi", SLEEP_RUN, {"instances": "2\n"})
    procs.markers.append(s)
    procs.start([bin_path("pv-run"), s])
    pids = [wait_pid(os.path.join(s, "instance", str(k))) for k in range(2)]
    out = ctl(scan, "remove", "multi")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "multi: removed\n"
    assert not os.path.lexists(s) and not any(alive(p) for p in pids)
