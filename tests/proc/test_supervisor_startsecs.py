"""startsecs=0, autorestart=false and a separate stderr log, imported and run under pv-scan."""

import os
import subprocess

from support import LONG_TIMEOUT, pv_import, read, state, wait_until, write_conf

CONF = """\
[program:ticker]
command=/bin/sh -c 'sleep 0.2; exit 0'
startsecs=0
autorestart=true
stdout_logfile=NONE

[program:oneshot]
command=/bin/sh -c 'exit 1'
autorestart=false
startretries=2
stdout_logfile=NONE

[program:split]
command=/bin/sh -c 'echo to-out; echo to-err >&2; exec sleep 1000'
stdout_logfile=%(tmp)s/split.out
stderr_logfile=%(tmp)s/split.err
"""


def test_startsecs_zero_autorestart_false_and_stderr_log(procs, tmp_path):
    conf = write_conf(tmp_path, CONF)
    scan = str(tmp_path / "service")
    pv_import(conf, scan)
    procs.pv_scan(scan, stderr=subprocess.DEVNULL)
    ticker, oneshot = os.path.join(scan, "ticker"), os.path.join(scan, "oneshot")
    # startsecs=0: no run is a failed start; it comes back each time, never fatal
    wait_until(lambda: state(ticker).get("restarts", 0) >= 5, LONG_TIMEOUT, "5 restarts")
    assert state(ticker)["state"] != "fatal" and state(ticker)["fails"] == 0
    # autorestart=false, but a death before startsecs is a failed start: retried, then fatal
    wait_until(lambda: state(oneshot).get("state") == "fatal", LONG_TIMEOUT, "oneshot fatal")
    assert state(oneshot)["fails"] == 3
    # stderr to a path of its own: its own log, linked where the conf says
    for name, line in (("split.out", "to-out"), ("split.err", "to-err")):
        path = str(tmp_path / name)
        wait_until(lambda: line in (read(path) or ""), what="%s in %s" % (line, name))
    assert "to-err" not in read(str(tmp_path / "split.out"))
    assert os.path.realpath(str(tmp_path / "split.err")) == os.path.realpath(
        os.path.join(scan, "split", "log-stderr", "main", "current"))
