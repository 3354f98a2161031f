"""pv-http's security cases, with real requests over real sockets."""

import base64
import http.client
import json
import os
import socket
import stat
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "interop"))

from support import SHORT_TIMEOUT, bin_path, wait_pid  # noqa: E402
from test_http_support import free_port, pv_http, service  # noqa: E402

SYSTEM_PYTHON = "/usr/bin/python3"    # readable by other users, unlike a root pyenv
OTHER_UID, OTHER_GID, TEAM_GID = 42421, 42421, 42422

CLIENT = r"""
import http.client, json, socket, sys
where, method, path, body = sys.argv[1:5]
headers = {"Content-Type": "application/json"} if method == "POST" else {}
if body.startswith("<?xml"):
    headers = {"Content-Type": "text/xml"}
if where.startswith("unix:"):
    conn = http.client.HTTPConnection("localhost", timeout=20)
    conn.sock = socket.socket(socket.AF_UNIX)
    conn.sock.settimeout(20)
    conn.sock.connect(where[5:])
else:
    host, port = where.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=20)
conn.request(method, path, body=body.encode() or None, headers=headers)
r = conn.getresponse()
print(r.status)
print(r.read().decode())
"""


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path, timeout=SHORT_TIMEOUT):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def request(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r.status, r.read()


def test_unix_socket_is_0600_by_default(procs, tmp_path):
    scan = tmp_path / "D"
    scan.mkdir()
    pv_http(procs, scan, listen=["unix:%s" % (scan / ".pv-http.sock")])
    mode = stat.S_IMODE(os.stat(scan / ".pv-http.sock").st_mode)
    assert mode == 0o600
    sock = tmp_path / "g.sock"
    pv_http(procs, scan, "--socket-mode", "660", "--socket-group", "0",
            listen=["unix:%s" % sock])
    st = os.stat(sock)
    assert (stat.S_IMODE(st.st_mode), st.st_gid) == (0o660, 0)


def test_default_listener_is_the_unix_socket_in_the_scan_dir(procs, tmp_path):
    scan = tmp_path / "D"
    scan.mkdir()
    proc = procs.start([sys.executable, bin_path("pv-http"), "-d", str(scan)],
                       stderr=subprocess.PIPE)
    from support import wait_until
    wait_until(lambda: (scan / ".pv-http.sock").exists() or proc.poll() is not None)
    assert stat.S_IMODE(os.stat(scan / ".pv-http.sock").st_mode) == 0o600
    proc.terminate()
    assert proc.wait(timeout=SHORT_TIMEOUT) == 0
    assert not (scan / ".pv-http.sock").exists()


def test_a_live_socket_is_not_taken_over_a_stale_one_is(procs, tmp_path):
    scan = tmp_path / "D"
    scan.mkdir()
    sock = tmp_path / "h.sock"
    first = pv_http(procs, scan, listen=["unix:%s" % sock])
    out = subprocess.run([sys.executable, bin_path("pv-http"), "-d", str(scan), "--listen",
                          "unix:%s" % sock], stderr=subprocess.PIPE, timeout=SHORT_TIMEOUT,
                         universal_newlines=True)
    assert out.returncode == 100 and "another server is listening there" in out.stderr
    first.kill()        # no chance to remove its socket file
    first.wait(timeout=SHORT_TIMEOUT)
    assert sock.exists()
    pv_http(procs, scan, listen=["unix:%s" % sock])


def test_tcp_beyond_loopback_needs_credentials(tmp_path):
    scan = tmp_path / "D"
    scan.mkdir()
    out = subprocess.run([sys.executable, bin_path("pv-http"), "-d", str(scan), "--listen",
                          "0.0.0.0:%d" % free_port()], stderr=subprocess.PIPE,
                         timeout=SHORT_TIMEOUT, universal_newlines=True)
    assert out.returncode == 100
    assert "pv-http: fatal: unable to listen on 0.0.0.0:" in out.stderr
    assert "TCP beyond loopback needs --credentials" in out.stderr


def test_basic_auth_from_a_file(procs, tmp_path):
    scan = tmp_path / "D"
    scan.mkdir()
    web = service(scan, "web")
    procs.pv_scan(scan, ["web"])
    creds = tmp_path / "creds"
    creds.write_text("ops:{SHA}%s\n" % __import__("hashlib").sha1(b"s3cret").hexdigest())
    port = free_port()
    pv_http(procs, scan, "--credentials", str(creds), listen=["127.0.0.1:%d" % port])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SHORT_TIMEOUT)
    status, _ = request(conn, "GET", "/v1/services")
    assert status == 401
    bad = "Basic " + base64.b64encode(b"ops:wrong").decode()
    assert request(conn, "GET", "/v1/services", headers={"Authorization": bad})[0] == 401
    good = "Basic " + base64.b64encode(b"ops:s3cret").decode()
    status, body = request(conn, "GET", "/v1/services", headers={"Authorization": good})
    assert status == 200 and json.loads(body)[0]["name"] == "web"
    from test_http_support import has_supervisor, supervisorctl
    if has_supervisor():
        url = "http://127.0.0.1:%d" % port
        code, out = supervisorctl(url, "status")
        assert code == 1 and "Server requires authentication" in out
        code, out = supervisorctl(url, "restart", "web", user="ops", password="s3cret")
        assert code == 0 and out == "web: stopped\nweb: started\n"
    wait_pid(web)


def _as_other(where, method, path, body="", uid=OTHER_UID, gid=OTHER_GID):
    """Run one request as another user; (status, body text)."""
    def drop():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    out = subprocess.run([SYSTEM_PYTHON, "-S", "-c", CLIENT, where, method, path, body],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=drop,
                         timeout=SHORT_TIMEOUT + 10, universal_newlines=True)
    assert out.returncode == 0, out.stderr
    status, _, text = out.stdout.partition("\n")
    return int(status), text


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists(SYSTEM_PYTHON),
                    reason="needs root (to run clients as other users) and /usr/bin/python3")
def test_delegation_by_peer_credentials(open_dir, procs):
    scan = os.path.join(open_dir, "D")
    os.mkdir(scan)
    web = service(scan, "web", access="# the web team\n%d\n" % OTHER_UID)
    service(scan, "db", access="%%%d\n" % TEAM_GID)
    service(scan, "cron")
    procs.pv_scan(scan, ["web", "db", "cron"])
    sock = os.path.join(open_dir, "h.sock")
    port = free_port()
    pv_http(procs, scan, "--socket-mode", "666", listen=["unix:" + sock, "127.0.0.1:%d" % port])
    old = wait_pid(web)
    for where in ("unix:" + sock, "127.0.0.1:%d" % port):
        status, text = _as_other(where, "GET", "/v1/services")
        assert status == 200
        may = {s["name"]: s["may_control"] for s in json.loads(text)}
        assert may == {"web": True, "db": False, "cron": False}
        status, text = _as_other(where, "POST", "/v1/services/web/restart", "{}")
        assert status == 200, text
        assert wait_pid(web, not_pid=old) != old
        old = wait_pid(web)
        assert _as_other(where, "POST", "/v1/services/cron/stop", "{}")[0] == 403
        assert _as_other(where, "POST", "/v1/services/all/stop", "{}")[0] == 403
        assert _as_other(where, "POST", "/v1/reread", "{}")[0] == 403
    # a member of the group named with %GID controls db (on TCP only a user known to
    # the password database has groups: the kernel records the socket's uid alone)
    status, _ = _as_other("unix:" + sock, "POST", "/v1/services/db/restart", "{}",
                          uid=OTHER_UID + 5, gid=TEAM_GID)
    assert status == 200
    import xmlrpc.client
    body = xmlrpc.client.dumps(("cron",), "supervisor.stopProcess")
    status, text = _as_other("unix:" + sock, "POST", "/RPC2", body)
    with pytest.raises(xmlrpc.client.Fault) as caught:
        xmlrpc.client.loads(text)
    assert caught.value.faultCode == 30 and "permission denied" in caught.value.faultString
    body = xmlrpc.client.dumps(("web",), "supervisor.stopProcess")
    status, text = _as_other("unix:" + sock, "POST", "/RPC2", body)
    assert xmlrpc.client.loads(text)[0] == (True,)
    body = xmlrpc.client.dumps((), "supervisor.stopAllProcesses")
    results = xmlrpc.client.loads(_as_other("unix:" + sock, "POST", "/RPC2", body)[1])[0][0]
    assert sorted((r["name"], r["status"]) for r in results) == [("cron", 30), ("db", 30)]


def test_bounds_csrf_and_methods(procs, tmp_path):
    scan = tmp_path / "D"
    scan.mkdir()
    web = service(scan, "web")
    procs.pv_scan(scan, ["web"])
    sock = str(tmp_path / "h.sock")
    pv_http(procs, scan, "--request-secs", "1", listen=["unix:" + sock])
    pid = wait_pid(web)
    conn = UnixHTTP(sock)
    assert request(conn, "POST", "/v1/services/web/restart", b"{}",
                   {"Content-Type": "text/plain"})[0] == 415
    assert request(conn, "POST", "/v1/services/web/restart", b"a=b",
                   {"Content-Type": "application/x-www-form-urlencoded"})[0] == 415
    assert request(conn, "POST", "/v1/services/web/restart", b"{}",
                   {"Content-Type": "application/json",
                    "Origin": "http://evil.example"})[0] == 403
    assert request(conn, "POST", "/RPC2", b"<x/>", {"Content-Type": "text/plain"})[0] == 415
    assert request(conn, "GET", "/v1/services/web/restart")[0] == 404
    assert request(conn, "GET", "/RPC2")[0] == 405
    assert request(conn, "DELETE", "/v1/services")[0] == 501
    assert wait_pid(web) == pid     # none of those restarted it
    big = socket.socket(socket.AF_UNIX)
    big.settimeout(SHORT_TIMEOUT)
    big.connect(sock)
    big.sendall(b"POST /v1/services/web/stop HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n{" % (2 << 20))
    assert big.recv(100).startswith(b"HTTP/1.1 413 ")
    big.close()
    # a client that never finishes its request is cut off after --request-secs
    slow = socket.socket(socket.AF_UNIX)
    slow.settimeout(SHORT_TIMEOUT)
    slow.connect(sock)
    slow.sendall(b"GET /v1/services HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    assert slow.recv(100) == b""
    assert 0.5 < time.monotonic() - started < SHORT_TIMEOUT
    slow.close()


def test_dns_rebinding_is_refused_by_host(procs, tmp_path):
    scan = tmp_path / "D"
    scan.mkdir()
    port = free_port()
    pv_http(procs, scan, "--allow-host", "pv.example", listen=["127.0.0.1:%d" % port])
    for host, status in (("evil.example:%d" % port, 421), ("127.0.0.1:%d" % port, 200),
                         ("localhost:%d" % port, 200), ("pv.example", 200),
                         ("evil.example", 421)):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SHORT_TIMEOUT)
        conn.putrequest("POST", "/v1/reread", skip_host=True)
        conn.putheader("Host", host)
        conn.putheader("Origin", "http://" + host)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", "2")
        conn.endheaders(b"{}")
        assert conn.getresponse().status == status, host


def test_idle_connections_do_not_block_a_client(procs, tmp_path):
    scan = tmp_path / "D"
    scan.mkdir()
    service(scan, "web")
    procs.pv_scan(scan, ["web"])
    sock = str(tmp_path / "h.sock")
    port = free_port()
    pv_http(procs, scan, listen=["unix:" + sock, "127.0.0.1:%d" % port])
    idle = []
    try:
        for k in range(100):
            s = socket.socket(socket.AF_UNIX) if k % 2 else socket.socket()
            s.connect(sock if k % 2 else ("127.0.0.1", port))
            if k % 10 == 0:
                s.sendall(b"GET / HTTP/1.1\r\n")      # half a request
            idle.append(s)
        started = time.monotonic()
        status, body = request(UnixHTTP(sock), "GET", "/v1/services")
        assert status == 200 and json.loads(body)[0]["name"] == "web"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SHORT_TIMEOUT)
        assert request(conn, "GET", "/metrics")[0] == 200
        assert time.monotonic() - started < 5.0
    finally:
        for s in idle:
            s.close()
