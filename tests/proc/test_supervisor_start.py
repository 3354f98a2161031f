"""pv-ctl start/restart wait out start-secs and report a spawn error, as supervisorctl does."""

import os
import subprocess
import sys
import time

from support import bin_path, state, wait_pid, wait_state


def ctl(*args):
    return subprocess.run([sys.executable, bin_path("pv-ctl")] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                          universal_newlines=True)


def test_start_of_a_run_that_dies_within_start_secs_is_a_spawn_error(procs, svdir, tmp_path):
    s = svdir("dies", run="#!/bin/sh\nsleep 0.5\nexit 4\n", down="", start_secs="2\n",
              restart="on-failure\n", max_retries="5\n")
    procs.pv_run(s)
    began = time.monotonic()
    out = ctl("start", s)
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert "unable to start dies: spawn error (exited 4 before start-secs)" in out.stderr
    assert time.monotonic() - began < 2.0 + 2.0
    out = ctl("restart", s)
    assert out.returncode == 1 and "spawn error" in out.stderr


def test_start_reports_ok_only_once_start_secs_have_passed(procs, svdir):
    s = svdir("lives", run="#!/bin/sh\nexec sleep 1000\n", down="", start_secs="1\n")
    procs.pv_run(s)
    wait_state(s, "down")
    began = time.monotonic()
    out = ctl("start", s)
    assert out.returncode == 0 and out.stdout.startswith("ok: run: lives"), out.stderr
    assert time.monotonic() - began >= 1.0
    assert state(s)["state"] == "running"
    pid = wait_pid(s)
    out = ctl("restart", s)
    assert out.returncode == 0 and state(s)["state"] == "running" and state(s)["pid"] != pid
    out = ctl("--no-wait", "stop", s)
    assert out.returncode == 0
    assert os.path.isdir(s)
