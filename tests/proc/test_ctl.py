"""pv-ctl through its command, against real pv-run supervisors in a temp scan directory."""

import json
import os
import shutil
import signal
import subprocess
import sys

import pytest

from support import (SHORT_TIMEOUT, bin_path, make_service, supervise_pid, wait_pid,
                     wait_state, wait_until)

SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"
DEAF_RUN = "#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 0.05; done\n"
FAIL_RUN = "#!/bin/sh\nexit 1\n"


def ctl(scandir, *args, env=None, timeout=SHORT_TIMEOUT + 15):
    """Run pv-ctl with the test's own Python (no pyenv shim in the way)."""
    return subprocess.run([sys.executable, bin_path("pv-ctl"), "-d", str(scandir)] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                          universal_newlines=True, env=env)


def service(scan, name, run=SLEEP_RUN, **files):
    return make_service(scan, name, run, files)


def test_status_exit_codes_json_and_half_made_dirs(procs, scan):
    a = service(scan, "a")
    b = service(scan, "b", down="")
    os.makedirs(os.path.join(scan, ".c.tmp-99"))
    procs.pv_run(a)
    procs.pv_run(b)
    pid = wait_pid(a)
    wait_state(b, "down")
    out = ctl(scan, "status", "a")
    assert out.returncode == 0 and out.stdout.split()[:3] == ["a", "running", str(pid)]
    out = ctl(scan, "status")
    assert out.returncode == 3 and [l.split()[0] for l in out.stdout.splitlines()] == ["a", "b"]
    records = json.loads(ctl(scan, "--json", "status").stdout)
    assert [(r["name"], r["state"], r["pid"]) for r in records] == [
        ("a", "running", pid), ("b", "down", 0)]
    service(scan, "c")    # never supervised
    assert ctl(scan, "status").returncode == 4
    out = ctl(scan, "status", "a", "nope")
    assert out.returncode == 4
    assert "pv-ctl: warning: unable to control nope: no such service" in out.stderr


def test_status_of_a_missing_scan_directory_is_unknown(tmp_path):
    out = ctl(tmp_path / "nope", "status")
    assert out.returncode == 4 and out.stdout == ""
    assert out.stderr == "pv-ctl: warning: unable to read %s: No such file or directory\n" % (
        tmp_path / "nope")


def test_groups_and_globs(procs, scan):
    for name, group in (("web1", "front"), ("web2", "front"), ("db", "back")):
        procs.pv_run(service(scan, name, group=group + "\n", down=""))
    for name in ("web1", "web2", "db"):
        wait_state(os.path.join(scan, name), "down")
    out = ctl(scan, "start", "front:*")
    assert out.returncode == 0, out.stderr
    assert [l.split()[:3] for l in out.stdout.splitlines()] == [
        ["ok:", "run:", "web1"], ["ok:", "run:", "web2"]]
    assert supervise_pid(os.path.join(scan, "db")) == 0
    out = ctl(scan, "stop", "web*")
    # Only the count: "down" is reached when the run has ended (pv.wait.DOWN_PHASES), so
    # a line may show a service still in finish.
    assert out.returncode == 0 and out.stdout.count("ok: ") == 2


def test_start_stop_restart_and_pid(procs, scan):
    s = service(scan, "s", down="")
    procs.pv_run(s)
    wait_state(s, "down")
    out = ctl(scan, "start", "s")
    pid = supervise_pid(s)
    assert out.returncode == 0 and out.stdout.startswith("ok: run: s (pid %d) " % pid)
    assert ctl(scan, "pid", "s").stdout == "%d\n" % pid
    out = ctl(scan, "restart", "s")
    new = supervise_pid(s)
    assert out.returncode == 0 and new != pid and "(pid %d)" % new in out.stdout
    out = ctl(scan, "stop", "all")
    assert out.returncode == 0 and out.stdout.startswith("ok: down: s ")
    assert ctl(scan, "pid", "s").stdout == "0\n"


def test_restart_of_a_term_ignoring_service_escalates(procs, scan):
    s = service(scan, "deaf", DEAF_RUN, timeout_kill="300\n")
    procs.pv_run(s)
    pid = wait_pid(s)
    out = ctl(scan, "restart", "deaf")
    assert out.returncode == 0, out.stdout + out.stderr
    assert supervise_pid(s) not in (0, pid)


def test_stop_timeout_exits_1(procs, scan):
    s = service(scan, "deaf", DEAF_RUN, timeout_kill="0\n")
    procs.pv_run(s)
    pid = wait_pid(s)
    out = ctl(scan, "-w", "0.3", "stop", "deaf")
    assert out.returncode == 1 and out.stdout.startswith("timeout: run: deaf (pid %d)" % pid)
    assert "want down" in out.stdout
    os.kill(pid, signal.SIGKILL)


def test_start_of_an_unsupervised_service_is_102(scan):
    service(scan, "lonely")
    out = ctl(scan, "start", "lonely")
    assert out.returncode == 102 and "supervisor not running" in out.stderr


def test_signal_once_and_check(procs, scan):
    ok = service(scan, "ok")
    bad = service(scan, "bad", FAIL_RUN, down="")
    procs.pv_run(ok)
    procs.pv_run(bad)
    wait_pid(ok)
    wait_state(bad, "down")
    out = ctl(scan, "check", "ok")
    assert (out.returncode, out.stdout.split(" |")[0]) == (0, "PV OK - 1/1 up")
    assert ctl(scan, "check").stdout.startswith("PV OK - 1/2 up, 1 down by request")
    ctl(scan, "--no-wait", "start", "bad")
    # bad crash-loops: between two deaths it is briefly running, so judge one
    # answer of check, not two taken at different moments.
    critical = wait_until(lambda: (lambda out: out.returncode == 2 and out.stdout)(
        ctl(scan, "check")), what="check to turn CRITICAL")
    assert "PV CRITICAL - bad " in critical
    pid = supervise_pid(ok)
    assert ctl(scan, "signal", "KILL", "ok").returncode == 0
    wait_pid(ok, not_pid=pid)
    assert ctl(scan, "signal", "SEGV", "ok").returncode == 100


def test_status_agrees_with_sv(procs, scan):
    sv = shutil.which("sv") or "/usr/bin/sv"
    if not os.access(sv, os.X_OK):
        pytest.skip("runit's sv is not installed")
    up, down = service(scan, "up"), service(scan, "down", down="")
    procs.pv_run(up)
    procs.pv_run(down)
    pid = wait_pid(up)
    wait_state(down, "down")
    records = {r["name"]: r for r in json.loads(ctl(scan, "--json", "status").stdout)}
    for name, path in (("up", up), ("down", down)):
        line = subprocess.run([sv, "status", path], stdout=subprocess.PIPE, timeout=10,
                              universal_newlines=True).stdout
        word = line.split(":")[0]
        assert word == ("run" if records[name]["state"] == "running" else "down"), line
        if word == "run":
            assert "(pid %d)" % pid in line and records[name]["pid"] == pid


def test_add_start_status_stop_remove(procs, scan):
    out = ctl(scan, "add", "echo", "--group", "g", "--down", "--log-size", "4096", "--",
              sys.executable, "-c", "import time\nwhile 1: print('tick', flush=True); "
              "time.sleep(0.05)")
    assert out.returncode == 0, out.stderr
    path = os.path.join(scan, "echo")
    run = procs.pv_run(path)
    wait_state(path, "down")
    assert ctl(scan, "status", "g:*").returncode == 3
    assert ctl(scan, "start", "echo").returncode == 0
    assert ctl(scan, "status", "g:*").returncode == 0
    log = os.path.join(path, "log", "main", "current")
    wait_until(lambda: os.path.exists(log) and open(log).read().count("tick") >= 2,
               what="two log lines")
    tail = ctl(scan, "tail", "-n", "2", "echo")
    assert tail.returncode == 0 and [l.split()[-1] for l in tail.stdout.splitlines()] == [
        "tick", "tick"]
    out = ctl(scan, "remove", "echo")
    assert out.returncode == 0, out.stdout + out.stderr
    assert not os.path.exists(path)
    assert run.wait(timeout=SHORT_TIMEOUT) == 0


def test_remove_a_symlinked_service_leaves_the_target(scan, tmp_path):
    real = make_service(tmp_path, "real", SLEEP_RUN, {})
    os.symlink(real, os.path.join(scan, "link"))
    assert ctl(scan, "remove", "link").returncode == 0
    assert os.path.isdir(real) and not os.path.lexists(os.path.join(scan, "link"))


def test_reread_without_pv_scan_is_102(scan):
    out = ctl(scan, "reread")
    assert out.returncode == 102 and "pv-scan not running" in out.stderr


def test_version_and_help(scan):
    assert ctl(scan, "version").stdout.startswith("pv-ctl")
    assert "usage:" in ctl(scan, "--help").stdout
    assert ctl(scan, "frobnicate").returncode == 100


def test_bash_completion_offers_verbs_names_and_groups(scan):
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    service(scan, "web", group="front\n")
    service(scan, "db")
    os.makedirs(os.path.join(scan, ".tmp-x"))
    script = ('source %s; COMP_WORDS=(pv-ctl -d %s restart ""); COMP_CWORD=4; _pv_ctl; '
              'echo "${COMPREPLY[*]}"; COMP_WORDS=(pv-ctl re); COMP_CWORD=1; _pv_ctl; '
              'echo "${COMPREPLY[*]}"' % (os.path.join(bin_path(".."), "completion",
                                                       "pv-ctl.bash"), scan))
    out = subprocess.run([bash, "-c", script], stdout=subprocess.PIPE, timeout=10,
                         universal_newlines=True).stdout.splitlines()
    assert out == ["all db web front:*", "restart remove reread"]
