"""A slow dependency with priorities, as a desktop-in-a-container conf has it.

The X server stand-in is up only after 1.5 s; its four clients die at once
until then.  Under Supervisor (startretries=3, waits of 1, 2, 3 s, start in
priority order) all end RUNNING; so must they under pv.  At shutdown the
clients (priority 20) stop before the server (priority 10) gets its signal.
"""

import os
import signal
import subprocess

from support import LONG_TIMEOUT, SHORT_TIMEOUT, pv_import, read, state, wait_until, \
    write_conf

STACK = """\
[supervisord]
nodaemon=true

[program:xserver]
command=/bin/sh -c 'trap "echo xserver >> %(tmp)s/stopped; exit 0" TERM;
  sleep 1.5; touch %(tmp)s/x-ready; while :; do sleep 0.05; done'
priority=10
stdout_logfile=NONE

[program:client]
process_name=%%(program_name)s_%%(process_num)d
numprocs=4
command=/bin/sh -c 'test -e %(tmp)s/x-ready || exit 1;
  trap "echo client >> %(tmp)s/stopped; exit 0" TERM; while :; do sleep 0.05; done'
priority=20
startretries=3
stdout_logfile=NONE
"""


def test_clients_wait_for_a_slow_server_and_stop_before_it(procs, tmp_path):
    conf = write_conf(tmp_path, STACK)
    scan = str(tmp_path / "service")
    pv_import(conf, scan)
    proc = procs.pv_scan(scan, stderr=subprocess.DEVNULL)
    clients = [os.path.join(scan, "client", "instance", str(k)) for k in range(4)]
    for path in clients + [os.path.join(scan, "xserver")]:
        wait_until(lambda: state(path).get("state") == "running" or
                   state(path).get("state") == "fatal", LONG_TIMEOUT, "%s to settle" % path)
    assert [state(p)["state"] for p in clients] == ["running"] * 4
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=SHORT_TIMEOUT) == 0
    assert read(str(tmp_path / "stopped")).split() == ["client"] * 4 + ["xserver"]
