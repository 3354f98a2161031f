"""pv-http's pure parts: access rules, the state mapping, log offsets, dispatch, journal."""

import base64
import hashlib
import os
import xmlrpc.client

import pytest

from pv.ctl.status import Row
from pv.http import access, journal, logs, metrics, model, rpc
from pv.cmd import http as cmd_http


def test_knob_names_users_and_groups(tmp_path):
    (tmp_path / "access").write_text("# team\n1234  alice\n%77 # trailing comment\n")
    words = access.read_access(str(tmp_path))
    assert words == ["1234", "alice", "%77"]
    assert access.allowed_by_knob(words, 1234, set())
    assert access.allowed_by_knob(words, 999, {77})
    assert not access.allowed_by_knob(words, 999, {78})
    assert access.read_access(str(tmp_path / "missing")) == []
    assert access.allowed_by_knob(["root"], 0, set())


def test_caller_levels(tmp_path):
    assert access.for_uid(0, 0, "unix").admin
    assert access.for_uid(os.geteuid(), 0, "unix").admin
    other = access.for_uid(4242, 4242, "unix")
    (tmp_path / "access").write_text("4242\n")
    assert not other.admin and other.may_control(str(tmp_path))
    assert not access.Caller().may_control(str(tmp_path))


def test_basic_credentials(tmp_path):
    def header(text):
        return "Basic " + base64.b64encode(text.encode()).decode()
    assert access.check_basic(header("ops:pw"), ("ops", "pw"))
    assert not access.check_basic(header("ops:px"), ("ops", "pw"))
    assert not access.check_basic(header("opz:pw"), ("ops", "pw"))
    sha = "{SHA}" + hashlib.sha1(b"pw").hexdigest().upper()
    assert access.check_basic(header("ops:pw"), ("ops", sha))
    assert not access.check_basic("Bearer x", ("ops", "pw"))
    assert not access.check_basic("Basic !!!", ("ops", "pw"))
    (tmp_path / "c").write_text("ops:pw\n")
    assert access.read_credentials(str(tmp_path / "c")) == ("ops", "pw")
    (tmp_path / "c").write_text("nocolon\n")
    with pytest.raises(ValueError):
        access.read_credentials(str(tmp_path / "c"))


def test_loopback_owner_from_proc_net_tcp(tmp_path):
    net = tmp_path / "net"
    net.mkdir()
    (net / "tcp").write_text(
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
        "   0: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0\n"
        "   1: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000\n")
    assert access.loopback_owner(("127.0.0.1", 0xD431), ("127.0.0.1", 8080),
                                 str(tmp_path)) == 1000
    assert access.loopback_owner(("127.0.0.1", 1), ("127.0.0.1", 8080), str(tmp_path)) is None
    assert access.is_loopback("127.0.0.1") and access.is_loopback("::1")
    assert not access.is_loopback("0.0.0.0") and not access.is_loopback("localhost")


def row(state, want="up", exit_code=None, since=1000.0, pid=0, restarts=0):
    r = Row("web", "/D/web", state)
    r.want, r.exit_code, r.since, r.pid, r.restarts = want, exit_code, since, pid, restarts
    return r


@pytest.mark.parametrize("state, want, exit_code, code", [
    ("starting", "up", None, 10), ("running", "up", None, 20), ("ready", "up", None, 20),
    ("backoff", "up", 1, 30), ("stopping", "down", None, 40), ("finishing", "up", 0, 40),
    ("down", "down", 0, 0), ("down", "down", None, 0), ("down", "up", None, 0),
    ("down", "up", 1, 100), ("down", "once", 0, 100), ("fatal", "up", 1, 200),
    ("unsupervised", "", None, 1000), ("unknown", "", None, 1000)])
def test_state_mapping(state, want, exit_code, code):
    assert model.supervisor_state(row(state, want, exit_code)) == code


def test_descriptions():
    now = 1000.0 + 3 * 3600 + 62
    assert model.description(20, row("running", pid=42), now) == "pid 42, uptime 3:01:02"
    assert model.uptime_text(86400 * 2 + 5) == "2 days, 0:00:05"
    assert model.description(0, row("down", "down", since=0), now) == "Not started"
    stopped = model.description(0, row("down", "down", exit_code=0), now)
    assert stopped[3] == " " and stopped.endswith(("AM", "PM"))
    assert "gave up" in model.description(200, row("fatal", exit_code=1), now)


def test_namespecs():
    from pv.ctl.names import Target
    entries = [model.Entry("team", "db", Target("db", "/D/db")),
               model.Entry("team", "worker", Target("worker", "/D/worker")),
               model.Entry("web", "web", Target("web", "/D/web"))]
    assert model.find(entries, "team:*") == (entries[:2], True)
    assert model.find(entries, "team:") == (entries[:2], True)
    assert model.find(entries, "team:db") == (entries[:1], False)
    assert model.find(entries, "db") == (entries[:1], False)
    assert model.find(entries, "web:web") == (entries[2:], False)
    assert model.find(entries, "nope") == ([], False)
    assert model.find_group(entries, "db") == entries[:1]
    assert [e.namespec for e in entries] == ["team:db", "team:worker", "web"]


def test_log_offsets(tmp_path):
    path = tmp_path / "current"
    path.write_bytes(b"0123456789")
    assert logs.read(str(path), 0, 0) == b"0123456789"
    assert logs.read(str(path), 2, 3) == b"234"
    assert logs.read(str(path), -4, 0) == b"6789"
    assert logs.read(str(path), -40, 0) == b"0123456789"
    with pytest.raises(logs.BadArguments):
        logs.read(str(path), -4, 2)
    assert logs.tail(str(path), 0, 100) == ["0123456789", 10, False]
    assert logs.tail(str(path), 0, 4) == ["6789", 10, True]
    assert logs.tail(str(path), 8, 4) == ["89", 10, False]
    assert logs.tail(str(path), 10, 4) == ["", 10, False]
    assert logs.tail(str(tmp_path / "none"), 5, 4) == ["", 5, False]


def test_follow_across_rotation(tmp_path):
    path = tmp_path / "current"
    path.write_bytes(b"old\n")
    follow = logs.Follow(str(path), backlog=2)
    follow._reopen()
    assert follow.poll() == b"d\n"
    with open(path, "ab") as f:
        f.write(b"more\n")
    assert follow.poll() == b"more\n"
    os.rename(path, tmp_path / "@rotated.s")
    path.write_bytes(b"new\n")
    assert follow.poll() == b"new\n"
    follow.close()


def call(tmp_path, admin=True):
    return rpc.Call(str(tmp_path), access.Caller(admin=admin), 1.0, journal.Journal())


def fault_of(body):
    with pytest.raises(xmlrpc.client.Fault) as caught:
        xmlrpc.client.loads(body)
    return caught.value.faultCode


def test_dispatch_is_a_fixed_table(tmp_path):
    c = call(tmp_path)
    for name in ("supervisor.supervisord.options.execve", "supervisor.__init__",
                 "supervisor._update", "rpc._check", "__import__", "system.__class__", ""):
        body = xmlrpc.client.dumps(("/bin/sh", ["sh"], {}), name).encode()
        assert fault_of(rpc.handle(c, body)) == 1, name
    assert fault_of(rpc.handle(c, b"<not xml")) == 2
    body = xmlrpc.client.dumps((1, 2, 3), "supervisor.getProcessInfo").encode()
    assert fault_of(rpc.handle(c, body)) == 2
    body = xmlrpc.client.dumps((5,), "supervisor.getProcessInfo").encode()
    assert fault_of(rpc.handle(c, body)) == 2
    body = xmlrpc.client.dumps(("nope",), "supervisor.getProcessInfo").encode()
    assert fault_of(rpc.handle(c, body)) == 10
    nested = [{"methodName": "system.multicall", "params": [[]]},
              {"methodName": "supervisor.getAPIVersion", "params": []}]
    out = rpc.call_method(c, "system.multicall", [nested])
    assert out[0]["faultCode"] == 2 and out[1] == ["3.0"]
    assert rpc.call_method(c, "system.methodSignature", ["supervisor.startProcess"]) == \
        [["boolean", "string", "boolean"]]
    assert fault_of(rpc.handle(c, xmlrpc.client.dumps((), "supervisor.shutdown").encode())) == 30


def test_journal_offsets():
    j = journal.Journal(keep=64)
    j.add("one")
    j.add("two")
    text = j.read(0, 0).decode()
    assert text.endswith("one\n" + text[-24:]) and text.count("\n") == 2
    assert j.read(-4, 0) == b"two\n"
    end = j.end()
    assert j.wait_after(end, 0) == (b"", end)
    for k in range(10):
        j.add("line %d" % k)
    assert len(j.read(0, 0)) <= 64 and j.read(-7, 0) == b"line 9\n"


def test_metric_label_escaping_and_sessions(tmp_path):
    assert metrics.escape('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    proc = tmp_path / "proc"
    (proc / "10").mkdir(parents=True)
    tail = " ".join(["0"] * 30)
    (proc / "10" / "stat").write_text("10 (sh) S 1 10 10 0 -1 0 0 0 0 0 100 50 " + tail)
    (proc / "11").mkdir()
    (proc / "11" / "stat").write_text("11 (a b) c) S 10 10 10 0 -1 0 0 0 0 0 1 1 " + tail)
    found = metrics.sessions(str(proc))
    assert found[10][0] == 2


def test_command_options():
    opts = cmd_http.parse(["-d", "D", "--listen", "unix:/x", "--listen=127.0.0.1:1",
                           "--socket-mode", "660", "-w", "3", "--max-connections", "9"])
    assert (opts.scandir, opts.listen, opts.socket_mode, opts.wait_secs, opts.max_conns) == \
        ("D", ["unix:/x", "127.0.0.1:1"], 0o660, 3.0, 9)
    assert cmd_http.parse(["--help"]) is None
    for bad in (["--bogus"], ["--listen"], ["-w", "x"], ["--max-connections", "0"]):
        with pytest.raises(cmd_http.diag.UsageError):
            cmd_http.parse(bad)
