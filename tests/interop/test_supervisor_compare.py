"""The same supervisord.conf under the real supervisord and under pv, side by side.

Where Supervisor is installed (pip, tests only: tests/requirements-supervisor.txt)
the conf runs under ``supervisord -n`` and, imported, under pv-scan; the
program states both report must agree.  States settle at different speeds
(Supervisor waits 1, 2, 3 s between retries, pv retries faster), so each side
is polled, with a deadline, until it reaches the expected table.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from support import LONG_TIMEOUT, bin_path, pv_import, wait_until, write_conf

HEADER = """\
[unix_http_server]
file=%(tmp)s/supervisor.sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%(tmp)s/supervisor.sock

[supervisord]
nodaemon=true
logfile=%(tmp)s/supervisord.log
pidfile=%(tmp)s/supervisord.pid
"""

CONF = HEADER + """\
childlogdir=%(tmp)s

[program:web]
command=sleep 1000
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
redirect_stderr=true

[program:crashing]
command=/bin/sh -c "exit 3"
startretries=1
stdout_logfile=NONE

[program:migrate]
command=/bin/sh -c "sleep 1.5; exit 0"
autorestart=false
startsecs=1
stdout_logfile=NONE

[program:manual]
command=sleep 1000
autostart=false

[program:worker]
process_name=%%(program_name)s_%%(process_num)02d
command=sleep 100%%(process_num)d
numprocs=2
stdout_logfile=%(tmp)s/worker.log
"""


def supervisor_tools():
    found = shutil.which("supervisord"), shutil.which("supervisorctl")
    if None in found:
        pytest.skip("Supervisor is not installed (pip install supervisor)")
    return found


def supervisor_states(ctl, conf):
    out = subprocess.run([ctl, "-c", conf, "status"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True, timeout=30)
    states = {}
    for line in out.stdout.splitlines():
        words = line.split()
        if len(words) >= 2 and words[1].isupper():
            states[words[0]] = words[1]
    return states


def pv_state(row):
    """Supervisor's word for a pv-ctl status row."""
    word = {"running": "RUNNING", "ready": "RUNNING", "starting": "STARTING",
            "backoff": "BACKOFF", "fatal": "FATAL", "stopping": "STOPPING"}.get(row["state"])
    if word:
        return word
    if row["state"] == "down":
        return "EXITED" if row.get("exit_code") is not None or row.get("exit_signal") \
            else "STOPPED"
    return row["state"].upper()


def pv_states(scan):
    out = subprocess.run([sys.executable, bin_path("pv-ctl"), "-d", scan, "--json", "status"],
                         stdout=subprocess.PIPE, universal_newlines=True, timeout=30)
    try:
        return {row["name"]: pv_state(row) for row in json.loads(out.stdout)}
    except ValueError:
        return {}


def test_same_states_as_supervisord(procs, tmp_path):
    supervisord, supervisorctl = supervisor_tools()
    tmp = str(tmp_path)
    conf = write_conf(tmp, CONF)
    scan = os.path.join(tmp, "service")
    pv_import(conf, scan)
    began = time.monotonic()
    procs.start([supervisord, "-n", "-c", conf], stderr=subprocess.DEVNULL)
    procs.pv_scan(scan, stderr=subprocess.DEVNULL)
    # Supervisor's own states are the reference: the expected table must be
    # what the real supervisord reaches, then pv must reach the same.
    theirs = wait_until(lambda: _reached(supervisor_states(supervisorctl, conf)), LONG_TIMEOUT,
                        "supervisord to reach %s" % EXPECTED)
    ours = wait_until(lambda: _reached(pv_states(scan)), LONG_TIMEOUT,
                      "pv to reach %s (it has %s)" % (EXPECTED, pv_states(scan)))
    assert ours == theirs
    assert time.monotonic() - began < LONG_TIMEOUT


EXPECTED = {"web": "RUNNING", "crashing": "FATAL", "migrate": "EXITED", "manual": "STOPPED",
            "worker:worker_00": "RUNNING", "worker:worker_01": "RUNNING"}


def _reached(states):
    return states if states == EXPECTED else None


QUICK_DEATH = HEADER + """\

[program:once]
command=/bin/sh -c "exit 1"
autorestart=false
startretries=1
stdout_logfile=NONE
"""


def test_autorestart_false_quick_death_is_fatal(procs, tmp_path):
    supervisord, supervisorctl = supervisor_tools()
    tmp = str(tmp_path)
    conf = write_conf(tmp, QUICK_DEATH)
    scan = os.path.join(tmp, "service")
    pv_import(conf, scan)
    procs.start([supervisord, "-n", "-c", conf], stderr=subprocess.DEVNULL)
    procs.pv_scan(scan, stderr=subprocess.DEVNULL)
    want = {"once": "FATAL"}
    wait_until(lambda: supervisor_states(supervisorctl, conf) == want, LONG_TIMEOUT,
               "supervisord to give up")
    wait_until(lambda: pv_states(scan) in (want, {"once": "EXITED"}), LONG_TIMEOUT,
               "pv to settle")
    assert pv_states(scan) == want


SLOW_STACK = HEADER + """\

[program:xserver]
command=/bin/sh -c 'sleep 1.5; touch %(ready)s; exec sleep 1000'
priority=10
stdout_logfile=NONE

[program:client]
process_name=%%(program_name)s_%%(process_num)d
numprocs=3
command=/bin/sh -c 'test -e %(ready)s || exit 1; exec sleep 1000'
priority=20
stdout_logfile=NONE
"""


def test_a_slow_dependency_ends_all_running_in_both(procs, tmp_path):
    """Supervisor's 1, 2, 3 s between tries carry the clients over the server's 1.5 s."""
    supervisord, supervisorctl = supervisor_tools()
    want = {"xserver": "RUNNING", "client:client_0": "RUNNING", "client:client_1": "RUNNING",
            "client:client_2": "RUNNING"}
    for side in ("supervisor", "pv"):
        tmp = str(tmp_path / side)
        os.makedirs(tmp)
        conf = write_conf(tmp, SLOW_STACK, ready=os.path.join(tmp, "x-ready"))
        if side == "supervisor":
            procs.start([supervisord, "-n", "-c", conf], stderr=subprocess.DEVNULL)
            wait_until(lambda: supervisor_states(supervisorctl, conf) == want, LONG_TIMEOUT,
                       "supervisord's stack to be up")
            continue
        scan = os.path.join(tmp, "service")
        pv_import(conf, scan)
        procs.pv_scan(scan, stderr=subprocess.DEVNULL)
        wait_until(lambda: pv_states(scan) == want or "FATAL" in pv_states(scan).values(),
                   LONG_TIMEOUT, "pv's stack to settle")
        assert pv_states(scan) == want
