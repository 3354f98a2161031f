"""pv-run through its command and its on-disk protocol, with real processes."""

import os
import signal
import subprocess
import time

import pytest

from support import (SLEEPER, SLEEPER_TIMEOUT_KILL, bin_path, read, state, supervise_pid, svc,
                     wait_pid, wait_state, wait_until, alive, marked_pids, LONG_TIMEOUT)

SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"


def test_starts_run_and_writes_every_record(procs, svdir):
    s = svdir(run=SLEEP_RUN)
    procs.pv_run(s)
    pid = wait_pid(s)
    sup = os.path.join(s, "supervise")
    assert read(os.path.join(sup, "stat")) == "run\n"
    assert read(os.path.join(sup, "pid")) == "%d\n" % pid
    assert len(open(os.path.join(sup, "status"), "rb").read()) == 20
    assert oct(os.stat(os.path.join(sup, "control")).st_mode & 0o777) == "0o600"
    rec = state(s)
    assert rec["state"] == "running" and rec["pid"] == pid and rec["want"] == "up"
    assert os.environ.get("PV_SERVICE") is None
    env = open("/proc/%d/environ" % pid, "rb").read().split(b"\0")
    assert ("PV_SERVICE=" + s).encode() in env


def test_kill_9_respawns_at_once(procs, svdir):
    s = svdir(run=SLEEP_RUN)
    procs.pv_run(s)
    pid = wait_pid(s)
    os.kill(pid, signal.SIGKILL)
    new = wait_pid(s, not_pid=pid)
    assert new != pid and state(s)["restarts"] == 1


@pytest.mark.parametrize("letter,name", [
    ("h", "HUP"), ("a", "ALRM"), ("i", "INT"), ("q", "QUIT"), ("1", "USR1"), ("2", "USR2"),
    ("t", "TERM"), ("c", "CONT")])
def test_each_letter_delivers_its_signal(procs, svdir, letter, name):
    s = svdir(run=SLEEPER, timeout_kill=SLEEPER_TIMEOUT_KILL)
    procs.pv_run(s)
    pid = wait_pid(s)
    log = os.path.join(s, "signals")
    wait_until(lambda: "started" in (read(log) or ""))
    svc(s, letter)
    wait_until(lambda: "%d Caught %s\n" % (pid, name) in read(log), what="Caught " + name)
    assert supervise_pid(s) == pid     # the sleeper survives every one of them


def test_pause_and_continue(procs, svdir):
    s = svdir(run=SLEEP_RUN)
    procs.pv_run(s)
    pid = wait_pid(s)
    svc(s, "p")
    wait_until(lambda: open("/proc/%d/stat" % pid).read().rpartition(")")[2].split()[0] == "T")
    wait_until(lambda: open(os.path.join(s, "supervise", "status"), "rb").read()[16] == 1)
    wait_until(lambda: read(os.path.join(s, "supervise", "stat")) == "run, paused\n")
    svc(s, "c")
    wait_until(lambda: open("/proc/%d/stat" % pid).read().rpartition(")")[2].split()[0] == "S")
    wait_until(lambda: open(os.path.join(s, "supervise", "status"), "rb").read()[16] == 0)


def test_kill_letter_then_respawn(procs, svdir):
    s = svdir(run=SLEEP_RUN)
    procs.pv_run(s)
    pid = wait_pid(s)
    svc(s, "k")
    assert wait_pid(s, not_pid=pid) != pid
    assert state(s)["exit_signal"] == signal.SIGKILL


def test_down_file_waits_for_up(procs, svdir):
    s = svdir(run=SLEEP_RUN, down="")
    procs.pv_run(s)
    wait_state(s, "down")
    assert supervise_pid(s) == 0 and state(s)["want"] == "down"
    svc(s, "u")
    wait_pid(s)


def test_down_then_up(procs, svdir):
    s = svdir(run=SLEEP_RUN)
    procs.pv_run(s)
    pid = wait_pid(s)
    svc(s, "d")
    wait_state(s, "down")
    assert not alive(pid)
    svc(s, "u")
    assert wait_pid(s) != pid


def test_once_runs_once(procs, svdir):
    s = svdir(run="#!/bin/sh\necho ran >> count\nsleep 0.2\n", down="")
    procs.pv_run(s)
    wait_state(s, "down")
    svc(s, "o")
    wait_until(lambda: read(os.path.join(s, "count")) == "ran\n")
    wait_until(lambda: state(s).get("exit_code") == 0 and state(s)["state"] == "down")
    assert read(os.path.join(s, "count")) == "ran\n"
    assert open(os.path.join(s, "supervise", "status"), "rb").read()[17:18] == b"d"


def test_finish_gets_runit_arguments(procs, svdir):
    s = svdir(run="#!/bin/sh\n[ -e stop ] && exec sleep 1000\nexit 3\n",
              finish="#!/bin/sh\necho \"$1 $2\" >> finished\n[ \"$1\" = 3 ] && touch stop\n")
    procs.pv_run(s)
    wait_until(lambda: read(os.path.join(s, "finished")) == "3 0\n")
    pid = wait_pid(s)
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: read(os.path.join(s, "finished")) == "3 0\n-1 9\n")


def test_finish_is_killed_after_timeout_finish(procs, svdir):
    s = svdir(run="#!/bin/sh\nexit 0\n", down="", timeout_finish="200",
              finish="#!/bin/sh\necho $$ > finish.pid\nexec sleep 1000\n")
    procs.pv_run(s)
    wait_state(s, "down")
    svc(s, "o")
    fpid = int(wait_until(lambda: read(os.path.join(s, "finish.pid"))))
    wait_until(lambda: not alive(fpid), what="finish to be killed")
    wait_state(s, "down")


def test_term_ignoring_service_is_killed_after_timeout_kill(procs, svdir):
    s = svdir(run="#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 1; done\n", timeout_kill="300")
    procs.pv_run(s)
    pid = wait_pid(s)
    svc(s, "d")
    wait_state(s, "stopping")
    wait_state(s, "down")
    assert not alive(pid) and marked_pids(s) == []
    assert state(s)["exit_signal"] == signal.SIGKILL


def test_timeout_kill_zero_never_escalates(procs, svdir):
    s = svdir(run="#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 1; done\n", timeout_kill="0")
    procs.pv_run(s)
    pid = wait_pid(s)
    svc(s, "d")
    wait_state(s, "stopping")
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:     # observe: still alive throughout
        assert alive(pid)
        time.sleep(0.05)
    svc(s, "k")
    wait_state(s, "down")


def test_down_signal_knob(procs, svdir):
    s = svdir(run=SLEEPER, down_signal="USR1\n", timeout_kill="200")
    procs.pv_run(s)
    pid = wait_pid(s)
    wait_until(lambda: "started" in (read(os.path.join(s, "signals")) or ""))
    svc(s, "d")
    wait_until(lambda: "%d Caught USR1" % pid in read(os.path.join(s, "signals")))
    wait_state(s, "down")


def test_background_grandchild_is_killed_on_down(procs, svdir):
    # The grandchild leaves the process group (setsid): only the marker finds it.
    s = svdir(run="#!/bin/sh\nsetsid sleep 1000 &\necho $! > bg.pid\nexec sleep 1000\n")
    procs.pv_run(s)
    wait_pid(s)
    bg = int(wait_until(lambda: read(os.path.join(s, "bg.pid"))))
    wait_until(lambda: alive(bg))
    svc(s, "d")
    wait_state(s, "down")
    assert not alive(bg)


def test_daemon_that_forks_away_is_never_doubled(procs, svdir):
    # run daemonizes and exits: the daemon is taken down before the next run starts.
    s = svdir(run="#!/bin/sh\necho x >> starts\nsetsid sleep 1000 &\nsleep 0.3\nexit 0\n")
    procs.pv_run(s)
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        sessions = {os.getsid(p) for p in marked_pids(s) if alive(p)}
        assert len(sessions) <= 2       # the run's own session and at most one daemon
        daemons = [p for p in marked_pids(s)
                   if (read("/proc/%d/cmdline" % p) or "").startswith("sleep\x001000")]
        assert len(daemons) <= 1
        time.sleep(0.02)
    assert read(os.path.join(s, "starts")).count("x") >= 3


def test_no_pile_up_of_slow_starting_term_ignoring_service(procs, svdir):
    run = ("#!/bin/sh\ntrap '' TERM\necho $$ >> starts\nsleep 3 &\nwait\n"
           "exec sleep 1000\n")
    s = svdir(run=run, timeout_kill="500")
    procs.pv_run(s)
    pid = wait_pid(s)
    for i in range(5):
        wait_until(lambda: len(read(os.path.join(s, "starts")).split()) == i + 1)
        svc(s, "t")
        svc(s, "k")
        deadline = time.monotonic() + 10
        while supervise_pid(s) in (pid, 0) or state(s)["state"] != "running":
            sessions = {os.getsid(p) for p in marked_pids(s) if alive(p)}
            assert len(sessions) <= 1, "two instances alive at once"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        pid = supervise_pid(s)
    wait_until(lambda: len(read(os.path.join(s, "starts")).split()) == 6)


def test_missing_run_is_reported_and_started_once_fixed(procs, svdir, tmp_path):
    s = svdir()
    err = open(str(tmp_path / "err"), "w")
    procs.pv_run(s, stderr=err)
    wait_until(lambda: "unable to start ./run" in read(str(tmp_path / "err")))
    with open(os.path.join(s, "run"), "w") as f:
        f.write(SLEEP_RUN)
    wait_until(lambda: "Permission denied" in read(str(tmp_path / "err")), LONG_TIMEOUT)
    os.chmod(os.path.join(s, "run"), 0o755)
    wait_pid(s, timeout=LONG_TIMEOUT)
    text = read(str(tmp_path / "err"))
    assert "pv-run %s: warning: unable to start ./run: No such file or directory" % s in text
    assert "pv-run %s: warning: unable to start ./run: Permission denied" % s in text
    assert text.count("Permission denied") == 1   # said once, not at every retry


def test_crash_loop_backs_off(procs, svdir):
    s = svdir(run="#!/bin/sh\necho x >> starts\nexit 1\n")
    procs.pv_run(s)
    wait_until(lambda: state(s).get("state") == "backoff" and state(s)["fails"] >= 4,
               LONG_TIMEOUT)
    rec = state(s)
    assert rec["next_try"] > rec["since"] and rec["exit_code"] == 1
    svc(s, "d")
    wait_state(s, "down")
    starts = read(os.path.join(s, "starts")).count("x")
    # 0 + 0.1 + 0.2 + 0.4 + ... : a handful of starts in the first seconds, not hundreds
    assert starts < 15


def test_max_retries_gives_up(procs, svdir):
    s = svdir(run="#!/bin/sh\nexit 1\n", max_retries="2")
    procs.pv_run(s)
    wait_state(s, "fatal", LONG_TIMEOUT)
    assert state(s)["fails"] == 3
    with open(os.path.join(s, "run"), "w") as f:
        f.write(SLEEP_RUN)
    svc(s, "u")
    wait_pid(s)


def test_restart_never(procs, svdir):
    s = svdir(run="#!/bin/sh\nexit 0\n", restart="never")
    procs.pv_run(s)
    wait_until(lambda: state(s).get("state") == "down" and state(s)["exit_code"] == 0)
    assert state(s)["restarts"] == 0


def test_restart_on_failure_with_exit_codes(procs, svdir):
    s = svdir(run="#!/bin/sh\necho x >> starts\n[ $(wc -l < starts) -ge 2 ] && exit 7\nexit 1\n",
              restart="on-failure", exit_codes="0 7\n")
    procs.pv_run(s)
    wait_until(lambda: state(s).get("state") == "down" and state(s)["exit_code"] == 7)
    assert read(os.path.join(s, "starts")) == "x\nx\n"


def test_garbage_on_control_is_ignored(procs, svdir):
    from pv.control import LETTERS
    s = svdir(run=SLEEPER, timeout_kill=SLEEPER_TIMEOUT_KILL)
    procs.pv_run(s)
    pid = wait_pid(s)
    wait_until(lambda: "started" in (read(os.path.join(s, "signals")) or ""))
    garbage = bytes(b for b in range(256) if chr(b) not in LETTERS) * 4
    fd = os.open(os.path.join(s, "supervise", "control"), os.O_WRONLY | os.O_NONBLOCK)
    os.write(fd, garbage)
    os.close(fd)
    svc(s, "h")   # a letter after the garbage is still read
    wait_until(lambda: "%d Caught HUP" % pid in read(os.path.join(s, "signals")))
    assert supervise_pid(s) == pid and state(s)["state"] == "running"


def test_second_supervisor_is_refused(procs, svdir, tmp_path):
    s = svdir(run=SLEEP_RUN)
    first = procs.pv_run(s)
    pid = wait_pid(s)
    second = subprocess.run([bin_path("pv-run"), s], stderr=subprocess.PIPE, timeout=10)
    assert second.returncode == 111
    assert second.stderr.decode() == (
        "pv-run %s: fatal: unable to lock %s/supervise/lock: another supervisor is running\n"
        % (s, s))
    assert first.poll() is None and supervise_pid(s) == pid


def test_not_a_directory_is_usage(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    r = subprocess.run([bin_path("pv-run"), str(f)], stderr=subprocess.PIPE, timeout=10)
    assert r.returncode == 100
    assert r.stderr.decode() == "pv-run: fatal: unable to supervise %s: not a directory\n" % f
    r = subprocess.run([bin_path("pv-run")], stderr=subprocess.PIPE, timeout=10)
    assert r.returncode == 100
    r = subprocess.run([bin_path("pv-run"), "--help"], stdout=subprocess.PIPE, timeout=10)
    assert r.returncode == 0 and b"usage: pv-run" in r.stdout


def test_sigterm_takes_everything_down_and_exits_0(procs, svdir):
    s = svdir(run=SLEEP_RUN, log__run="#!/bin/sh\nexec cat > /dev/null\n")
    proc = procs.pv_run(s)
    pid = wait_pid(s)
    logpid = wait_pid(os.path.join(s, "log"))
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert not alive(pid) and not alive(logpid)
    assert read(os.path.join(s, "supervise", "stat")) == "down\n"


def test_x_exits_after_service_and_logger(procs, svdir):
    s = svdir(run="#!/bin/sh\necho last words\nexec sleep 1000\n",
              log__run="#!/bin/sh\nexec cat >> ../logged\n")
    proc = procs.pv_run(s)
    wait_pid(s)
    wait_until(lambda: read(os.path.join(s, "logged")) == "last words\n")
    svc(s, "x")
    assert proc.wait(timeout=10) == 0


def test_log_pipe_survives_restarts_of_both_sides(procs, svdir):
    # The service writes numbered lines; both it and its logger restart many
    # times; every number arrives once, in order.
    run = ("#!%s\nimport os, sys, time\nn = int(open('next').read()) if os.path.exists('next') "
           "else 0\nwhile True:\n    sys.stdout.write('%%d\\n' %% n); sys.stdout.flush()\n"
           "    n += 1; open('next.tmp', 'w').write(str(n)); os.replace('next.tmp', 'next')\n"
           "    time.sleep(0.001)\n") % __import__("sys").executable
    # The logger writes all it has read before it goes: a buffered
    # sys.stdin would drop the lines read ahead of the one it stops after.
    logger = ("#!%s\nimport os, signal\nstop = []\n"
              "signal.signal(signal.SIGTERM, lambda *a: stop.append(1))\n"
              "out = os.open('../logged', os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)\n"
              "while not stop:\n    data = os.read(0, 65536)\n    if not data:\n        break\n"
              "    os.write(out, data)\n") % __import__("sys").executable
    s = svdir(run=run, log__run=logger, down_signal="KILL")
    procs.pv_run(s)
    log = os.path.join(s, "log")
    logged = os.path.join(s, "logged")
    for i in range(6):
        wait_pid(s)
        wait_pid(log)
        # Lines flow through both before either is killed: restarts are
        # immediate, so without this a run could die before its first line.
        seen = len(read(logged) or "")
        wait_until(lambda: len(read(logged) or "") > seen, what="a line through the new pair")
        target = s if i % 2 else log
        old = supervise_pid(target)
        svc(target, "t" if target == log else "k")
        wait_pid(target, not_pid=old)
    svc(s, "d")
    wait_state(s, "down")
    # The run may be killed after writing line N but before recording N+1.
    last = int(read(os.path.join(s, "next"))) - 1
    ends = ("%d\n" % last, "%d\n" % (last + 1))
    wait_until(lambda: (read(os.path.join(s, "logged")) or "").endswith(ends),
               what="the logger to catch up")
    numbers = [int(x) for x in read(os.path.join(s, "logged")).split()]
    # A run killed between writing a line and recording it repeats that line
    # when it starts again; nothing is ever missing.
    dedup = [n for i, n in enumerate(numbers) if i == 0 or n != numbers[i - 1]]
    assert dedup == list(range(dedup[-1] + 1))


def test_envdir(procs, svdir):
    s = svdir(run="#!/bin/sh\necho \"$GREETING|${GONE-unset}\" > seen\nexec sleep 1000\n",
              **{"env/GREETING": "hello world  \nsecond line\n", "env/GONE": ""})
    os.environ["GONE"] = "here"
    try:
        procs.pv_run(s)
    finally:
        del os.environ["GONE"]
    wait_until(lambda: read(os.path.join(s, "seen")) == "hello world|unset\n")


def test_supervise_may_be_a_symlink(procs, svdir, tmp_path):
    s = svdir(run=SLEEP_RUN)
    target = tmp_path / "elsewhere" / "svc"
    os.symlink(str(target), os.path.join(s, "supervise"))
    procs.pv_run(s)
    wait_pid(s)
    assert (target / "status").exists() and (target / "control").exists()
