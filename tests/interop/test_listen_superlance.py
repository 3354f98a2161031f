"""pv-ctl listen with real Supervisor event listeners (superlance, supervisor's
childutils), over a real pv-scan.  Skipped when superlance is not installed
(tests/requirements-events.txt)."""

import json
import os
import shutil
import socket
import subprocess
import sys
import threading

import pytest
from support import (LONG_TIMEOUT, SHORT_TIMEOUT, bin_path, make_service, read, svc,
                     wait_pid, wait_until)

SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"
SENDMAIL = """#!/bin/sh
cat > %s/mail.$$.tmp && mv %s/mail.$$.tmp %s/mail.$$
"""
# A listener (supervisor's own childutils) that logs each delivery and answers
# FAIL, or dies, the first time it sees the serials named in its argv.
CHILDUTILS_LISTENER = """#!%s
import os, sys
from supervisor import childutils
mode, log, tricky = sys.argv[1], sys.argv[2], sys.argv[3:]
while True:
    headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    seen = os.path.exists(log) and open(log).read().split()
    first = headers["serial"] not in (seen or [])[::3]
    with open(log, "a") as f:
        f.write("%%s %%s %%s\\n" %% (headers["serial"], headers["eventname"],
                                 "again" if not first else "first"))
    if first and headers["serial"] in tricky:
        if mode == "die":
            os._exit(1)
        childutils.listener.fail(sys.stdout)
    else:
        childutils.listener.ok(sys.stdout)
""" % sys.executable


def tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.skip("%s is not installed (pip install superlance)" % name)
    return path


def listener_service(d, name, listen_args, command):
    """A service whose run is ``exec pv-ctl listen ...``, resuming from ./cursor
    (0: from the first record, so that nothing happens before it listens)."""
    argv = [bin_path("pv-ctl"), "-d", str(d), "listen", "--cursor", "./cursor"]
    argv += listen_args + ["--"] + command
    run = "#!/bin/sh\nexec %s\n" % " ".join("'%s'" % a for a in argv)
    return make_service(d, name, run, {"cursor": "0\n"})


def mails(maildir):
    return sorted(n for n in os.listdir(maildir) if not n.endswith(".tmp"))


def test_crashmail_mails_an_unexpected_exit_and_not_an_expected_one(procs, tmp_path):
    crashmail = tool("crashmail")
    d, maildir = tmp_path / "D", tmp_path / "mail"
    maildir.mkdir()
    sendmail = tmp_path / "sendmail"
    sendmail.write_text(SENDMAIL % ((maildir,) * 3))
    sendmail.chmod(0o755)
    make_service(d, "good", "#!/bin/sh\nexit 0\n", {"restart": "never\n"})
    make_service(d, "bad", "#!/bin/sh\nsleep 0.3\nexit 3\n", {"restart": "never\n"})
    listener_service(d, "mailer", ["--events", "PROCESS_STATE"],
                     [crashmail, "-a", "-m", "ops@example.com", "-s", str(sendmail)])
    procs.pv_scan(d)
    wait_until(lambda: mails(str(maildir)), LONG_TIMEOUT, "a mail from crashmail")
    # Every record up to both exits has been answered OK: none is for good.
    log = [line for line in open(str(d / ".pv-scan" / "events" / "current"))]
    last_exit = max(i + 1 for i, line in enumerate(log) if '"event":"exit"' in line
                    and '"service":"bad"' in line)
    wait_until(lambda: int(read(str(d / "mailer" / "cursor"), "0") or 0) >= last_exit,
               what="the listener to acknowledge both exits")
    (mail,) = mails(str(maildir))
    text = read(os.path.join(str(maildir), mail))
    assert "To: ops@example.com" in text
    assert "Process bad in group bad exited unexpectedly" in text
    assert "from state RUNNING" in text


class SMTP(threading.Thread):
    """A loopback SMTP server that keeps each message's DATA (for fatalmailbatch)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(LONG_TIMEOUT)
        self.messages = []

    def run(self):
        try:
            while True:
                conn, _ = self.sock.accept()
                with conn:
                    self.session(conn.makefile("rwb"))
        except OSError:
            return

    def session(self, f):
        def say(text):
            f.write(text.encode() + b"\r\n")
            f.flush()
        say("220 test")
        for line in iter(f.readline, b""):
            verb = line[:4].upper()
            if verb == b"DATA":
                say("354 go on")
                body = b"".join(iter(f.readline, b".\r\n"))
                self.messages.append(body.decode("utf-8", "replace"))
                say("250 kept")
            elif verb == b"QUIT":
                say("221 bye")
                return
            else:
                say("250 ok")


def test_fatalmailbatch_reports_a_fatal(procs, tmp_path):
    fatalmailbatch = tool("fatalmailbatch")
    smtp = SMTP()
    smtp.start()
    d = tmp_path / "D"
    make_service(d, "flaky", "#!/bin/sh\nexit 1\n", {"max-retries": "1\n"})
    listener_service(d, "batch", ["--events", "PROCESS_STATE,TICK_5"], [
        fatalmailbatch, "--toEmail=ops@example.com", "--fromEmail=pv@example.com",
        "--smtpHost=127.0.0.1:%d" % smtp.sock.getsockname()[1], "--tickEvent=TICK_5",
        "--interval=0.01", "--subject=pv fatal"])
    procs.pv_scan(d)
    try:
        wait_until(lambda: smtp.messages, LONG_TIMEOUT, "a mail from fatalmailbatch")
    finally:
        smtp.sock.close()
    text = smtp.messages[0]
    assert "Subject: pv fatal" in text
    assert "Process flaky:flaky failed to start too many times" in text


@pytest.mark.parametrize("mode", ["fail", "die"])
def test_a_listener_that_fails_or_dies_gets_the_event_again_and_loses_none(
        procs, tmp_path, mode):
    pytest.importorskip("supervisor.childutils")
    d = tmp_path / "D"
    for name in ("a", "b", "c"):
        make_service(d, name, SLEEP_RUN, {})
    procs.pv_scan(d)
    script = tmp_path / "listener"
    script.write_text(CHILDUTILS_LISTENER)
    script.chmod(0o755)
    log = str(tmp_path / "log")
    (tmp_path / "cursor").write_text("0\n")      # from the first record
    listen = procs.start([bin_path("pv-ctl"), "-d", str(d), "listen", "--events",
                          "PROCESS_GROUP_ADDED,PROCESS_STATE_RUNNING", "--cursor",
                          str(tmp_path / "cursor"), "--", str(script), mode, log, "0", "2"],
                         stderr=open(str(tmp_path / "err"), "w"))
    wait_until(lambda: len((read(log) or "").split("\n")) > 8, LONG_TIMEOUT,
               "six events, two of them twice")
    entries = [line.split() for line in read(log).splitlines()]
    assert entries[:2] == [["0", "PROCESS_GROUP_ADDED", "first"],
                           ["0", "PROCESS_GROUP_ADDED", "again"]]
    delivered = [int(serial) for serial, _, _ in entries]
    assert sorted(set(delivered)) == list(range(max(delivered) + 1))    # none lost
    assert [e for e in entries if e[2] == "again"] == [
        ["0", "PROCESS_GROUP_ADDED", "again"], ["2", "PROCESS_GROUP_ADDED", "again"]]
    err = read(str(tmp_path / "err"))
    if mode == "die":
        assert "ended (exit 1); starting it again" in err
    else:
        assert "answered FAIL to event 0 (PROCESS_GROUP_ADDED): sending it again" in err
    listen.terminate()
    assert listen.wait(SHORT_TIMEOUT) == 0


GATED_LISTENER = """#!%s
import sys
from supervisor import childutils
open(sys.argv[1]).read()        # a FIFO: blocks until the test opens it for writing
while True:
    headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    with open(sys.argv[2], "a") as f:
        f.write("%%s %%s %%s\\n" %% (headers["serial"], headers["eventname"], payload))
    childutils.listener.ok(sys.stdout)
""" % sys.executable


def test_a_full_buffer_drops_the_oldest_with_a_warning_and_from_state_is_known(
        procs, tmp_path):
    pytest.importorskip("supervisor.childutils")
    d = tmp_path / "D"
    a = make_service(d, "a", SLEEP_RUN, {})
    procs.pv_scan(d)
    wait_until(lambda: '"event":"spawn"' in read(str(d / ".pv-scan/events/current")),
               what="a to start")
    script = tmp_path / "listener"
    script.write_text(GATED_LISTENER)
    script.chmod(0o755)
    gate, log, err = str(tmp_path / "gate"), str(tmp_path / "log"), str(tmp_path / "err")
    os.mkfifo(gate)
    last = read(str(d / ".pv-scan/events/current")).splitlines()[-1]
    (tmp_path / "cursor").write_text("%d\n" % json.loads(last)["seq"])   # from now on
    procs.start([bin_path("pv-ctl"), "-d", str(d), "listen", "--buffer", "2", "--events",
                 "PROCESS_STATE", "--cursor", str(tmp_path / "cursor"), "--", str(script),
                 gate, log], stderr=open(err, "w"))
    svc(a, "d")                 # STOPPING, STOPPED
    wait_until(lambda: '"event":"down"' in read(str(d / ".pv-scan/events/current")),
               what="a down")
    svc(a, "u")                 # STARTING, RUNNING: four events for a buffer of two
    wait_until(lambda: "discarded event 1 (PROCESS_STATE_STOPPED)" in read(err, ""),
               what="the overflow warning")
    assert "discarded event 0 (PROCESS_STATE_STOPPING)" in read(err)
    with open(gate, "w") as f:
        f.write("go\n")
    wait_until(lambda: len(read(log, "").splitlines()) == 2, what="the two kept events")
    first, second = read(log).splitlines()
    assert first.startswith("2 PROCESS_STATE_STARTING processname:a groupname:a "
                            "from_state:STOPPED tries:0")
    assert second.startswith("3 PROCESS_STATE_RUNNING processname:a groupname:a "
                             "from_state:STARTING pid:")


def pv_http(procs, d):
    """pv-http on its default socket DIR/.pv-http.sock (skip where it is not built)."""
    if not os.path.exists(bin_path("pv-http")):
        pytest.skip("no pv-http in this tree (the control-plane issue)")
    proc = procs.start([bin_path("pv-http"), "-d", str(d)], stderr=subprocess.DEVNULL)
    sock = os.path.join(str(d), ".pv-http.sock")

    def accepts():
        with socket.socket(socket.AF_UNIX) as s:
            try:
                s.connect(sock)
                return True
            except OSError:
                return False
    wait_until(lambda: proc.poll() is not None or accepts(), what="pv-http to listen")
    assert proc.poll() is None
    return proc


@pytest.mark.parametrize("which", ["memmon", "httpok"])
def test_memmon_and_httpok_restart_a_service_through_pv_http(procs, tmp_path, which):
    command = [tool(which)]
    if which == "memmon":
        command += ["-p", "web=1"]               # one byte: over the limit at once
    else:
        with socket.socket() as s:               # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            dead = "http://127.0.0.1:%d/" % s.getsockname()[1]
        command += ["-p", "web", "-t", "2", dead]
    d = tmp_path / "D"
    web = make_service(d, "web", SLEEP_RUN, {})
    procs.pv_scan(d)
    pv_http(procs, d)
    old = wait_pid(web)
    # No --server-url: the listener finds pv-http at its default socket.  The
    # TICK_5 is pv-ctl listen's own, within 5 s.
    procs.start([bin_path("pv-ctl"), "-d", str(d), "listen", "--events", "TICK_5", "--"]
                + command, stderr=subprocess.DEVNULL)
    assert wait_pid(web, not_pid=old, timeout=LONG_TIMEOUT) != old
