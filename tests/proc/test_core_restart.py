"""A restart the user asks for is not a crash (issue 16.4), through the commands."""

import subprocess

from support import SHORT_TIMEOUT, bin_path, state, supervise_pid, svc, wait_pid

SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"


def pv_svc(*args):
    return subprocess.run([bin_path("pv-svc")] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=SHORT_TIMEOUT)


def test_six_quick_pv_svc_t_never_count_as_failed_starts(procs, svdir):
    s = svdir(run=SLEEP_RUN)
    procs.pv_run(s)
    pid = wait_pid(s)
    for n in range(1, 7):
        # -w up waits for a new pid: each run has lived far less than a second.
        out = pv_svc("-t", "-w", "up", s)
        assert out.returncode == 0, out.stderr
        record = state(s)
        assert record["pid"] != pid and record["state"] == "running"
        assert record["fails"] == 0 and record["next_try"] is None
        assert record["restarts"] == n
        pid = record["pid"]


def test_k_restarts_without_counting_either(procs, svdir):
    s = svdir(run=SLEEP_RUN)
    procs.pv_run(s)
    for _ in range(3):
        old = wait_pid(s)
        svc(s, "k")
        wait_pid(s, not_pid=old)
        assert state(s)["fails"] == 0


def test_d_then_u_restarts_even_with_restart_never(procs, svdir):
    # pv-ctl restart writes "du": the user asked for a new run, whatever the
    # restart knob says about runs that end by themselves.
    s = svdir(run=SLEEP_RUN, restart="never")
    procs.pv_run(s)
    old = wait_pid(s)
    svc(s, "du")
    new = wait_pid(s, not_pid=old)
    assert supervise_pid(s) == new and state(s)["want"] == "up" and state(s)["fails"] == 0
