"""superlance's httpok and memmon call back into pv-http (XML-RPC over the unix socket).

They are event listeners; the TICK event they wait for is spoken to them
here in Supervisor's event-listener protocol, so what is tested is their
callbacks: getAllProcessInfo, stopProcess, startProcess.
"""

import os
import subprocess
import sys

import pytest

from support import SHORT_TIMEOUT, wait_pid
from test_http_support import free_port, pv_http, read_until, service

superlance = pytest.importorskip("superlance")

TICK = b"when:1800000000"


def tick(listener):
    """One TICK_5 to a listener that said READY; wait for its RESULT and next READY."""
    read_until(listener.stdout, lambda text: text.endswith("READY\n"))
    header = ("ver:3.0 server:supervisor serial:1 pool:watch poolserial:1 eventname:TICK_5 "
              "len:%d\n" % len(TICK)).encode()
    listener.stdin.write(header + TICK)
    listener.stdin.flush()
    read_until(listener.stdout, lambda text: "RESULT 2\nOK" in text, timeout=SHORT_TIMEOUT + 20)


@pytest.fixture
def served(procs, tmp_path):
    scan = tmp_path / "D"
    scan.mkdir()
    web = service(scan, "web")
    service(scan, "db", group="team\n")
    procs.pv_scan(scan, ["web", "db"])
    sock = tmp_path / "h.sock"
    pv_http(procs, scan, listen=["unix:%s" % sock])
    env = dict(os.environ, SUPERVISOR_SERVER_URL="unix://%s" % sock)
    return web, os.path.join(str(scan), "db"), env


def listener(procs, argv, env):
    return procs.start([sys.executable, "-m"] + argv, stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, env=env)


def test_httpok_restarts_a_service_whose_url_fails(procs, served):
    web, db, env = served
    old = wait_pid(web)
    dead_url = "http://127.0.0.1:%d/" % free_port()     # nobody listens there
    proc = listener(procs, ["superlance.httpok", "-p", "web", "-t", "2", dead_url], env)
    tick(proc)
    assert wait_pid(web, not_pid=old) != old


def test_memmon_restarts_a_service_over_its_limit(procs, served):
    web, db, env = served
    old_web, old_db = wait_pid(web), wait_pid(db)
    proc = listener(procs, ["superlance.memmon", "-p", "web=1", "-g", "team=1GB"], env)
    tick(proc)
    assert wait_pid(web, not_pid=old_web) != old_web
    assert wait_pid(db) == old_db
