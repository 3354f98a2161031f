"""Side by side: the same supervisorctl commands against real supervisord and against pv-http.

The programs match (web alone, db and worker in group team, each a
sleep), so after normalising pids, uptimes and dates the outputs and exit
codes must be the same.
"""

import re
import sys

import pytest

from support import wait_pid, wait_until
from test_http_support import has_supervisor, pv_http, service, supervisorctl

pytestmark = pytest.mark.skipif(not has_supervisor(), reason="supervisor (pip) not installed")

CONF = """\
[unix_http_server]
file = {tmp}/sd.sock
[supervisord]
logfile = {tmp}/sd.log
pidfile = {tmp}/sd.pid
childlogdir = {tmp}
nodaemon = true
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
[program:web]
command = sleep 1000
startsecs = 0
[program:db]
command = sleep 1000
startsecs = 0
[program:worker]
command = sleep 1000
startsecs = 0
[group:team]
programs = db,worker
"""
COMMANDS = (
    ["status"], ["stop", "web"], ["status"], ["status", "web"], ["start", "web"],
    ["start", "web"], ["stop", "team:*"], ["status", "team:*"], ["stop", "team:db"],
    ["start", "team:*"], ["restart", "web"], ["status", "nope"], ["start", "nope"],
    ["stop", "nope"], ["start", "ghosts:*"], ["signal", "HUP", "web"],
    ["signal", "BOGUS", "web"], ["pid", "nope"], ["stop", "all"], ["status"],
    ["signal", "HUP", "web"], ["start", "all"], ["avail"], ["reread"],
)


def normal(text):
    text = re.sub(r"pid \d+", "pid N", text)
    text = re.sub(r"uptime \d+:\d\d:\d\d", "uptime U", text)
    text = re.sub(r"[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M", "DATE", text)
    text = re.sub(r"^\d+$", "N", text, flags=re.M)
    return sorted(text.splitlines())


def test_same_answers_as_supervisord(procs, tmp_path):
    conf = tmp_path / "supervisord.conf"
    conf.write_text(CONF.format(tmp=tmp_path))
    procs.start([sys.executable, "-m", "supervisor.supervisord", "-c", str(conf)])
    sd = "unix://%s" % (tmp_path / "sd.sock")
    wait_until(lambda: supervisorctl(sd, "status")[0] == 0, what="supervisord to run all")
    scan = tmp_path / "D"
    scan.mkdir()
    service(scan, "web")
    service(scan, "db", group="team\n")
    service(scan, "worker", group="team\n")
    procs.pv_scan(scan, ["web", "db", "worker"])
    pv_http(procs, scan, listen=["unix:%s" % (tmp_path / "pv.sock")])
    for name in ("web", "db", "worker"):
        wait_pid(str(scan / name))
    pv = "unix://%s" % (tmp_path / "pv.sock")
    differences = []
    for command in COMMANDS:
        theirs, ours = supervisorctl(sd, *command), supervisorctl(pv, *command)
        if (theirs[0], normal(theirs[1])) != (ours[0], normal(ours[1])):
            differences.append((command, theirs, ours))
    assert differences == []
