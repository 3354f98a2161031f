"""The real supervisorctl (pip's supervisor) against pv-http, over unix:// and http://."""

import os
import re
import signal
import subprocess
import sys
import xmlrpc.client

import pytest

from support import SHORT_TIMEOUT, SLEEPER, read, wait_pid, wait_until
from test_http_support import (TICK_RUN, free_port, has_supervisor, lines, pv_http, read_until,
                               service, supervisorctl)

pytestmark = pytest.mark.skipif(not has_supervisor(), reason="supervisor (pip) not installed")


@pytest.fixture(params=["unix", "tcp"])
def setup(request, procs, tmp_path):
    """(scan dir, URL) with web, team:db and team:worker running under pv-scan."""
    scan = tmp_path / "D"
    scan.mkdir()
    service(scan, "web")
    service(scan, "db", group="team\n")
    service(scan, "worker", group="team\n")
    procs.pv_scan(scan, ["web", "db", "worker"])
    if request.param == "unix":
        where = "unix:%s" % (tmp_path / "http.sock")
        url = "unix://%s" % (tmp_path / "http.sock")
    else:
        where = "127.0.0.1:%d" % free_port()
        url = "http://" + where
    pv_http(procs, scan, listen=[where])
    for name in ("web", "db", "worker"):
        wait_pid(str(scan / name))
    return str(scan), url


def test_status_columns_and_exit_codes(setup):
    scan, url = setup
    code, out = supervisorctl(url, "status")
    assert code == 0, out
    rows = lines(out)
    assert [r[0] for r in rows] == ["team:db", "team:worker", "web"]
    pid = int(read(os.path.join(scan, "web", "supervise", "pid")))
    assert rows[2][:4] == ["web", "RUNNING", "pid", "%d," % pid]
    assert re.match(r"^web {30}RUNNING   pid \d+, uptime \d+:\d\d:\d\d$", out.splitlines()[2])
    assert supervisorctl(url, "stop", "web") == (0, "web: stopped\n")
    code, out = supervisorctl(url, "status")
    assert code == 3 and lines(out)[2][:2] == ["web", "STOPPED"]
    code, out = supervisorctl(url, "status", "nope")
    assert code == 4 and "nope: ERROR (no such process)" in out
    code, out = supervisorctl(url, "status", "team:*")
    assert code == 0 and [r[0] for r in lines(out)] == ["team:db", "team:worker"]


def test_start_stop_restart_groups_and_all(setup):
    scan, url = setup
    web = os.path.join(scan, "web")
    old = wait_pid(web)
    assert supervisorctl(url, "restart", "web") == (0, "web: stopped\nweb: started\n")
    assert wait_pid(web, not_pid=old) != old
    assert supervisorctl(url, "start", "web") == (0, "web: ERROR (already started)\n")
    assert supervisorctl(url, "stop", "team:*") == (0, "team:db: stopped\nteam:worker: stopped\n")
    code, out = supervisorctl(url, "stop", "team:db")
    assert code == 0 and out == "team:db: ERROR (not running)\n"   # as against supervisord
    assert supervisorctl(url, "start", "team:*") == (0, "team:db: started\nteam:worker: started\n")
    code, out = supervisorctl(url, "stop", "all")
    assert code == 0 and sorted(out.splitlines()) == [
        "team:db: stopped", "team:worker: stopped", "web: stopped"]
    code, out = supervisorctl(url, "start", "all")
    assert code == 0 and len(out.splitlines()) == 3
    code, out = supervisorctl(url, "start", "nope")
    assert code == 1 and out == "nope: ERROR (no such process)\n"
    code, out = supervisorctl(url, "start", "ghosts:*")
    assert code == 2 and out == "ghosts: ERROR (no such group)\n"


def test_signal_and_pid(procs, tmp_path):
    scan = tmp_path / "D"
    scan.mkdir()
    path = service(scan, "sleeper", SLEEPER)
    procs.pv_scan(scan, ["sleeper"])
    where = "127.0.0.1:%d" % free_port()
    pv_http(procs, scan, listen=[where])
    url = "http://" + where
    pid = wait_pid(path)
    code, out = supervisorctl(url, "pid", "sleeper")
    assert (code, out) == (0, "%d\n" % pid)
    wait_until(lambda: "started" in (read(os.path.join(path, "signals")) or ""))
    assert supervisorctl(url, "signal", "HUP", "sleeper") == (0, "sleeper: signalled\n")
    assert supervisorctl(url, "signal", "USR1", "all") == (0, "sleeper: signalled\n")
    wait_until(lambda: "Caught USR1" in read(os.path.join(path, "signals")))
    assert "%d Caught HUP" % pid in read(os.path.join(path, "signals"))
    code, out = supervisorctl(url, "signal", "BOGUS", "sleeper")
    assert code == 1 and out == "sleeper: ERROR (bad signal name)\n"
    assert supervisorctl(url, "stop", "sleeper")[0] == 0
    code, out = supervisorctl(url, "signal", "HUP", "sleeper")
    assert code == 7 and out == "sleeper: ERROR (not running)\n"
    assert supervisorctl(url, "pid", "sleeper") == (7, "0\n")


def test_tail_tail_f_clear_and_maintail(procs, tmp_path):
    scan = tmp_path / "D"
    scan.mkdir()
    service(scan, "ticker", TICK_RUN, log=True)
    procs.pv_scan(scan, ["ticker"])
    sock = tmp_path / "h.sock"
    pv_http(procs, scan, listen=["unix:%s" % sock])
    url = "unix://%s" % sock
    wait_until(lambda: " tick\n" in supervisorctl(url, "tail", "ticker")[1], what="a tick")
    code, out = supervisorctl(url, "tail", "-30", "ticker")
    assert code == 0 and len(out) <= 31 and "tick" in out
    code, out = supervisorctl(url, "tail", "ticker", "stderr")
    assert code == 1 and "ticker: ERROR (no log file)" in out
    follower = procs.start([sys.executable, "-m", "supervisor.supervisorctl", "-s", url,
                            "tail", "-f", "ticker"], stdout=subprocess.PIPE)
    read_until(follower.stdout, lambda text: text.count(" tick\n") >= 3)
    follower.send_signal(signal.SIGINT)
    follower.wait(timeout=SHORT_TIMEOUT)
    assert supervisorctl(url, "clear", "ticker") == (0, "ticker: cleared\n")
    code, out = supervisorctl(url, "maintail")
    assert code == 0 and re.search(r"#\d+ ticker spawn", out), out
    mainf = procs.start([sys.executable, "-m", "supervisor.supervisorctl", "-s", url,
                         "maintail", "-f"], stdout=subprocess.PIPE)
    read_until(mainf.stdout, lambda text: "ticker spawn" in text)
    assert supervisorctl(url, "stop", "ticker")[0] == 0
    text = read_until(mainf.stdout, lambda text: re.search(r"ticker exit \w+->", text))
    assert "ticker want" in text
    code, out = supervisorctl(url, "version")
    assert code == 0 and out.startswith("pv-http")
    mainf.send_signal(signal.SIGINT)
    mainf.wait(timeout=SHORT_TIMEOUT)


def test_fg_is_a_clear_fault(setup):
    scan, url = setup
    proc = subprocess.Popen([sys.executable, "-m", "supervisor.supervisorctl", "-s", url,
                             "fg", "web"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        proc.stdin.write(b"hello\n")
        proc.stdin.flush()
        text = read_until(proc.stdout, lambda text: "Exiting foreground" in text)
        assert "NO_FILE" in text and "no stdin to forward to" in text
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=SHORT_TIMEOUT)


def test_avail_reread_update_add_remove(procs, tmp_path):
    scan = tmp_path / "D"
    scan.mkdir()
    web = service(scan, "web")
    procs.pv_scan(scan, ["web"])
    sock = tmp_path / "h.sock"
    pv_http(procs, scan, listen=["unix:%s" % sock])
    url = "unix://%s" % sock
    old = wait_pid(web)
    assert supervisorctl(url, "avail") == (
        0, "web                              in use    auto      999:999\n")
    assert supervisorctl(url, "reread") == (0, "No config updates to processes\n")
    with open(os.path.join(web, "run"), "a") as f:
        f.write("# changed\n")
    assert supervisorctl(url, "reread") == (0, "web: changed\n")
    code, out = supervisorctl(url, "update")
    assert code == 0 and out == "web: stopped\nweb: updated process group\n"
    assert wait_pid(web, not_pid=old) != old
    assert supervisorctl(url, "remove", "web") == (
        1, "ERROR: process/group still running: web\n")
    assert supervisorctl(url, "add", "web") == (0, "ERROR: process group already active\n")
    assert supervisorctl(url, "stop", "web")[0] == 0
    assert supervisorctl(url, "remove", "web") == (0, "web: removed process group\n")
    assert supervisorctl(url, "add", "web") == (0, "web: added process group\n")
    wait_pid(web)
    code, out = supervisorctl(url, "add", "nope")
    assert code == 1 and "no such process/group: nope" in out


def test_raw_xmlrpc_info_faults_and_introspection(setup):
    scan, url = setup
    if not url.startswith("http"):
        pytest.skip("xmlrpc.client speaks TCP only")
    proxy = xmlrpc.client.ServerProxy(url + "/RPC2")
    info = proxy.supervisor.getProcessInfo("web")
    assert set(info) >= {"name", "group", "start", "stop", "now", "state", "statename",
                         "spawnerr", "exitstatus", "logfile", "stdout_logfile",
                         "stderr_logfile", "pid", "description"}
    assert (info["name"], info["group"], info["state"], info["statename"]) == \
        ("web", "web", 20, "RUNNING")
    assert proxy.supervisor.getProcessInfo("team:db")["group"] == "team"
    faults = [("getProcessInfo", ("nope",), 10), ("startProcess", ("web",), 60),
              ("signalProcess", ("web", "NOPE"), 11), ("readLog", (-10, 5), 3)]
    for method, args, code in faults:
        with pytest.raises(xmlrpc.client.Fault) as caught:
            getattr(proxy.supervisor, method)(*args)
        assert caught.value.faultCode == code, method
    proxy.supervisor.stopProcess("web")
    with pytest.raises(xmlrpc.client.Fault) as caught:
        proxy.supervisor.stopProcess("web")
    assert caught.value.faultCode == 70
    assert proxy.supervisor.getProcessInfo("web")["statename"] == "STOPPED"
    for dotted in ("supervisor.supervisord.options.execve", "supervisor.__init__",
                   "supervisor._act", "system.__class__"):
        with pytest.raises(xmlrpc.client.Fault) as caught:
            proxy._ServerProxy__request(dotted, ("/bin/sh", ["sh", "-c", "id"], {}))
        assert caught.value.faultCode == 1, dotted
    methods = proxy.system.listMethods()
    assert "supervisor.getAllProcessInfo" in methods and "system.multicall" in methods
    assert proxy.system.methodSignature("supervisor.getProcessInfo") == [["struct", "string"]]
    assert "info" in proxy.system.methodHelp("supervisor.getProcessInfo")
    multi = xmlrpc.client.MultiCall(proxy)
    multi.supervisor.getAPIVersion()
    multi.supervisor.getProcessInfo("nope")
    results = multi()
    assert results[0] == "3.0"
    with pytest.raises(xmlrpc.client.Fault):
        results[1]
