"""pv-http's JSON API and /metrics (parsed by prometheus_client), and pv-ctl metrics."""

import http.client
import json
import re
import os
import socket
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "interop"))

from support import SHORT_TIMEOUT, bin_path, wait_pid, wait_state, wait_until  # noqa: E402
from test_http_support import TICK_RUN, pv_http, read_until, service  # noqa: E402

FAIL_RUN = "#!/bin/sh\necho oops\nexit 3\n"
CHILDREN_RUN = "#!/bin/sh\nsleep 1000 &\nsleep 1000 &\nexec sleep 1000\n"


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=SHORT_TIMEOUT + 15)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


@pytest.fixture
def api(procs, tmp_path):
    scan = tmp_path / "D"
    scan.mkdir()
    service(scan, "web")
    service(scan, "ticker", TICK_RUN, log=True, group="team\n")
    service(scan, "kids", CHILDREN_RUN, group="team\n")
    service(scan, "broken", FAIL_RUN, max_retries="1\n")
    service(scan, "unready", check="#!/bin/sh\nexit 1\n", down="")
    procs.pv_scan(scan, ["web", "ticker", "kids", "broken"])
    sock = str(tmp_path / "h.sock")
    pv_http(procs, scan, listen=["unix:" + sock])
    for name in ("web", "ticker", "kids"):
        wait_pid(str(scan / name))
    wait_state(str(scan / "broken"), "fatal")

    def call(method, path, body=None):
        conn = UnixHTTP(sock)
        headers = {"Content-Type": "application/json"} if method == "POST" else {}
        data = json.dumps(body).encode() if body is not None else (b"{}" if method == "POST"
                                                                   else None)
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        text = r.read()
        ctype = r.getheader("Content-Type")
        return r.status, json.loads(text) if ctype == "application/json" else text.decode()
    call.scan, call.sock = str(scan), sock
    return call


def test_services_and_actions(api):
    status, services = api("GET", "/v1/services")
    assert status == 200
    by = {s["name"]: s for s in services}
    assert by["web"]["state"] == "running" and by["web"]["statename"] == "RUNNING"
    assert by["ticker"]["group"] == "team" and by["broken"]["state"] == "fatal"
    assert "gave up" in by["broken"]["why"] and by["broken"]["supervisor_state"] == 200
    status, web = api("GET", "/v1/services/web")
    assert status == 200 and web["pid"] == by["web"]["pid"]
    assert api("GET", "/v1/services/nope")[0] == 404
    status, answer = api("POST", "/v1/services/web/stop", {"wait": "down", "timeout": 5})
    assert status == 200 and answer["results"] == [{"name": "web", "result": "ok", "reason": ""}]
    assert api("GET", "/v1/services/web")[1]["state"] == "down"
    status, answer = api("POST", "/v1/services/web/start", {"wait": False})
    assert status == 202 and answer["results"][0]["result"] == "sent"
    wait_pid(os.path.join(api.scan, "web"))
    old = api("GET", "/v1/services/kids")[1]["pid"]
    status, answer = api("POST", "/v1/services/team%3A%2A/restart")
    assert status == 200 and sorted(r["name"] for r in answer["results"]) == ["kids", "ticker"]
    assert api("GET", "/v1/services/kids")[1]["pid"] != old
    status, answer = api("POST", "/v1/services/unready/start", {"timeout": 0.5})
    assert status == 504 and answer["results"][0]["result"] == "timeout"
    assert api("POST", "/v1/services/web/signal", {"signal": "HUP"})[0] == 202
    assert api("POST", "/v1/services/web/signal", {"signal": "NOPE"})[0] == 400
    assert api("POST", "/v1/services/web/explode")[0] == 404
    assert api("POST", "/v1/services/web/stop", {"wait": "sideways"})[0] == 400
    conn = UnixHTTP(api.sock)
    conn.request("POST", "/v1/services/web/stop", body=b"[" * 100000,
                 headers={"Content-Type": "application/json"})
    assert conn.getresponse().status == 400


def test_log_by_offset_and_follow(api):
    wait_until(lambda: " tick" in api("GET", "/v1/services/ticker/log")[1]["data"])
    status, first = api("GET", "/v1/services/ticker/log?offset=0&length=10")
    assert status == 200 and len(first["data"]) == 10 and first["offset"] == 10
    status, rest = api("GET", "/v1/services/ticker/log?offset=10")
    assert rest["offset"] == rest["size"] and rest["data"].count("tick") >= 1
    assert api("GET", "/v1/services/ticker/log?offset=x")[0] == 400
    assert api("GET", "/v1/services/web/log")[0] == 404
    stream = socket.socket(socket.AF_UNIX)
    stream.settimeout(SHORT_TIMEOUT)
    stream.connect(api.sock)
    stream.sendall(b"GET /v1/services/ticker/log?follow=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    reader = stream.makefile("rb")
    text = read_until(reader.raw if hasattr(reader, "raw") else reader,
                      lambda t: t.count(" tick") >= 8)
    assert "Transfer-Encoding: chunked" in text
    stream.close()


def test_action_log_says_who_did_what(api):
    assert api("POST", "/v1/services/web/restart")[0] == 200
    status, text = api("GET", "/v1/actions")
    assert status == 200 and "pv-http started on" in text
    assert re.search(r"unix uid %d: restart web" % os.geteuid(), text)


def test_reread_and_update(api):
    web = os.path.join(api.scan, "web")
    old = wait_pid(web)
    status, answer = api("POST", "/v1/reread")
    assert status == 200 and {"name": "web", "change": "unchanged"} in answer["changes"]
    with open(os.path.join(web, "run"), "a") as f:
        f.write("# changed\n")
    status, answer = api("POST", "/v1/reread")
    assert {"name": "web", "change": "changed"} in answer["changes"]
    status, answer = api("POST", "/v1/update")
    assert status == 200 and answer["restarted"] == [{"name": "web", "result": "ok", "reason": ""}]
    assert wait_pid(web, not_pid=old) != old


def _families(text):
    from prometheus_client.parser import text_string_to_metric_families
    return {f.name: f for f in text_string_to_metric_families(text)}


def _value(families, family, sample_name=None, **labels):
    for sample in families[family].samples:
        if (sample_name is None or sample.name == sample_name) and \
                all(sample.labels.get(k) == v for k, v in labels.items()):
            return sample.value
    raise KeyError((family, labels))


def test_metrics_parse_and_agree(api):
    pytest.importorskip("prometheus_client")
    status, text = api("GET", "/metrics")
    assert status == 200
    fam = _families(text)
    assert _value(fam, "pv_service_up", service="web") == 1
    assert _value(fam, "pv_service_up", service="broken") == 0
    assert _value(fam, "pv_service_desired_up", service="broken") == 1
    assert _value(fam, "pv_service_state", service="broken", state="fatal") == 1
    assert _value(fam, "pv_service_state", service="broken", state="running") == 0
    assert sum(s.value for s in fam["pv_service_state"].samples
               if s.labels["service"] == "web") == 1
    assert _value(fam, "pv_service_last_exit_code", service="broken") == 3
    assert _value(fam, "pv_service_restarts", "pv_service_restarts_total", service="broken") >= 1
    assert abs(_value(fam, "pv_service_start_time_seconds", service="web") - time.time()) < 600
    assert _value(fam, "pv_service_processes", service="kids") == 3
    assert _value(fam, "pv_service_memory_rss_bytes", service="kids") > 0
    assert _value(fam, "pv_service_cpu_seconds", "pv_service_cpu_seconds_total",
                  service="kids") >= 0
    assert _value(fam, "pv_services", state="fatal") == 1
    assert _value(fam, "pv_build_info", version="0.1") == 1
    out = subprocess.run([sys.executable, bin_path("pv-ctl"), "-d", api.scan, "metrics"],
                         stdout=subprocess.PIPE, timeout=SHORT_TIMEOUT, universal_newlines=True)
    assert out.returncode == 0
    assert _value(_families(out.stdout), "pv_service_up", service="web") == 1


def test_event_stream(api):
    web = os.path.join(api.scan, "web")
    old = wait_pid(web)

    def open_stream(extra=b""):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(SHORT_TIMEOUT)
        s.connect(api.sock)
        s.sendall(b"GET /v1/events?name=web HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n")
        return s, s.makefile("rb")
    stream, reader = open_stream()
    assert "text/event-stream" in read_until(reader, lambda t: "retry: 2000" in t)
    assert api("POST", "/v1/services/web/restart")[0] == 200
    text = read_until(reader, lambda t: t.count('"service":"web"') >= 2)
    assert '"service":"ticker"' not in text
    seqs = [int(x) for x in re.findall(r"\nid: (\d+)\n", text)]
    assert seqs == sorted(seqs) and len(seqs) >= 2
    assert wait_pid(web, not_pid=old) != old
    stream.close()
    # a client that reconnects with Last-Event-ID gets what came after it
    again, reader = open_stream(b"Last-Event-ID: %d\r\n" % seqs[0])
    text = read_until(reader, lambda t: ("\nid: %d\n" % seqs[1]) in t)
    assert ("\nid: %d\n" % seqs[0]) not in text
    again.close()
