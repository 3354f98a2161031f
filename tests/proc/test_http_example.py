"""examples/http: a service directory that runs pv-http for its scan directory."""

import json
import os
import shutil
import socket
import sys
import http.client

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "interop"))

from support import BIN, SHORT_TIMEOUT, TOP, wait_pid, wait_until  # noqa: E402
from test_http_support import free_port, service  # noqa: E402


def test_example_serves_its_scan_directory(procs, tmp_path):
    scan = tmp_path / "D"
    scan.mkdir()
    shutil.copytree(os.path.join(TOP, "examples", "http", "pv-http"), str(scan / "pv-http"))
    port = free_port()
    (scan / "pv-http" / "env" / "PV_HTTP_LISTEN").write_text("127.0.0.1:%d\n" % port)
    (scan / "pv-http" / "env" / "PV_BIN").write_text(BIN + "\n")
    (scan / "pv-http" / "log" / "env").mkdir()
    (scan / "pv-http" / "log" / "env" / "PV_BIN").write_text(BIN + "\n")
    (scan / "pv-http" / "env" / "PATH").write_text(os.path.dirname(sys.executable) + ":"
                                                    + os.environ.get("PATH", "") + "\n")
    web = service(scan, "web")
    procs.pv_scan(scan, ["web", "pv-http"])
    wait_pid(web)

    def answer():
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SHORT_TIMEOUT)
            conn.request("GET", "/v1/services")
            return json.loads(conn.getresponse().read())
        except (OSError, ValueError):
            return None
    services = wait_until(answer, what="the example's pv-http to answer")
    assert {s["name"] for s in services} == {"web", "pv-http"}
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(str(scan / ".pv-http.sock"))
    sock.close()
    assert oct(os.stat(scan / ".pv-http.sock").st_mode & 0o777) == "0o600"
    wait_until(lambda: os.path.exists(scan / "pv-http" / "log" / "main" / "current"),
               what="the example's logger")
