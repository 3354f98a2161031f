"""PROCESS_LOG_STDOUT / _STDERR from pv-ctl listen: real services under pv-scan
with pv-log loggers, heard by supervisor's own childutils listener."""

import json
import os
import subprocess
import sys

import pytest
from support import LONG_TIMEOUT, SHORT_TIMEOUT, bin_path, make_service, read, \
    supervise_pid, wait_until

from pv.ctl import logevents

# Prints a numbered line on stdout (and one on stderr) every 50 ms: the
# output keeps coming whenever the listener starts to hear it.
CHATTY_RUN = """#!/bin/sh
i=0
while :; do
  i=$((i + 1))
  echo "out $i from $1"
  if [ -d log-stderr ]; then echo "err $i" >&2; fi
  sleep 0.05
done
"""
LOG_RUN = "#!/bin/sh\nmkdir -p main\nexec %s %s ./main\n"
# Keeps each event it hears as one JSON line: headers and payload.
LISTENER = """#!%s
import json, sys
from supervisor import childutils
out = sys.argv[1]
while True:
    headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    with open(out, "a") as f:
        f.write(json.dumps({"headers": headers, "payload": payload}) + "\\n")
    childutils.listener.ok(sys.stdout)
""" % sys.executable


@pytest.fixture
def childutils():
    pytest.importorskip("supervisor.childutils",
                        reason="supervisor is not installed (tests/requirements-events.txt)")


def chatty(d, name, stamp, knob=None, stderr_log=False):
    files = {"log/run": LOG_RUN % (bin_path("pv-log"), stamp)}
    if stderr_log:
        files["log-stderr/run"] = LOG_RUN % (bin_path("pv-log"), "-t")
    if knob is not None:
        files["log-events"] = knob
    run = CHATTY_RUN.replace("$1", name)
    return make_service(d, name, run, files)


def listen(procs, d, tmp_path, events="PROCESS_LOG"):
    """pv-ctl listen with a buffer no load can fill: every line must arrive."""
    script = tmp_path / "listener.py"
    script.write_text(LISTENER)
    out = str(tmp_path / "heard")
    proc = procs.start([bin_path("pv-ctl"), "-d", str(d), "listen", "--events", events,
                        "--buffer", "100000", "--", sys.executable, str(script), out])
    return proc, out


def heard(out):
    return [json.loads(line) for line in (read(out) or "").splitlines()]


def split(event):
    head, _, data = event["payload"].partition("\n")
    return dict(w.split(":", 1) for w in head.split(" ")), data


def logged(service, what):
    return what in (read(os.path.join(service, "log", "main", "current")) or "")


def test_stdout_and_stderr_lines_come_as_supervisord_sends_them(procs, tmp_path, childutils):
    d = tmp_path / "D"
    loud = chatty(d, "loud", "-tt", knob="stdout stderr\n", stderr_log=True)
    quiet = chatty(d, "quiet", "-ttt")
    procs.pv_scan(d)
    wait_until(lambda: logged(loud, "out 3 ") and logged(quiet, "out 3 "), LONG_TIMEOUT,
               "both services to log")
    proc, out = listen(procs, d, tmp_path)

    def both():
        names = {e["headers"]["eventname"] for e in heard(out)}
        return {"PROCESS_LOG_STDOUT", "PROCESS_LOG_STDERR"} <= names
    wait_until(both, LONG_TIMEOUT, "stdout and stderr events")
    assert proc.poll() is None
    pid = supervise_pid(loud)
    numbers = {"stdout": [], "stderr": []}
    for event in heard(out):
        head, data = split(event)
        channel = head["channel"]
        assert event["headers"]["eventname"] == "PROCESS_LOG_" + channel.upper()
        assert int(event["headers"]["len"]) == len(event["payload"].encode())
        assert list(head) == ["processname", "groupname", "pid", "channel"]
        assert (head["processname"], head["groupname"], head["pid"]) == ("loud", "loud", str(pid))
        assert data.endswith("\n")
        for line in data.splitlines():
            word, number = line.split(" ")[:2]    # no stamp before what the program wrote
            assert word == {"stdout": "out", "stderr": "err"}[channel]
            if channel == "stdout":
                assert line == "out %s from loud" % number
            numbers[channel].append(int(number))
    for channel, seen in numbers.items():
        # From the end of the log at the start, every line once, in order.
        assert seen == list(range(seen[0], seen[0] + len(seen))), channel
        assert seen[0] > 1, channel


def test_a_service_without_the_knob_sends_none(procs, tmp_path, childutils):
    d = tmp_path / "D"
    chatty(d, "loud", "-t", knob="\n")                 # empty: stdout
    chatty(d, "quiet", "-t")
    procs.pv_scan(d)
    proc, out = listen(procs, d, tmp_path, events="PROCESS_LOG_STDOUT")
    wait_until(lambda: len(heard(out)) >= 5, LONG_TIMEOUT, "five events from loud")
    assert proc.poll() is None
    for event in heard(out):
        head, data = split(event)
        assert head["processname"] == "loud" and head["channel"] == "stdout"
        assert "@4000" not in data and "quiet" not in data


def test_import_maps_events_enabled_to_the_knob(tmp_path):
    conf = tmp_path / "supervisord.conf"
    conf.write_text("[program:both]\ncommand=/bin/true\nstdout_events_enabled=true\n"
                    "stderr_events_enabled=true\nstderr_logfile=%s/err.log\n"
                    "[program:out]\ncommand=/bin/true\nstdout_events_enabled=yes\n"
                    "[program:none]\ncommand=/bin/true\nstdout_events_enabled=false\n"
                    % tmp_path)
    d = tmp_path / "D"
    d.mkdir()
    done = subprocess.run([bin_path("pv-ctl"), "-d", str(d), "import", str(conf)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=SHORT_TIMEOUT * 3)
    assert done.returncode == 0, done.stderr
    assert read(str(d / "both" / "log-events")) == "stdout stderr\n"
    assert read(str(d / "out" / "log-events")) == "stdout\n"
    assert not os.path.exists(str(d / "none" / "log-events"))
    assert logevents.read_channels(str(d / "both")) == ("stdout", "stderr")


def test_strip_stamp_removes_each_pv_log_stamp_and_nothing_else():
    assert logevents.strip_stamp("@400000006565f00a1234abcd hello") == "hello"
    assert logevents.strip_stamp("2026-11-29_17:04:03.12345 a b") == "a b"
    assert logevents.strip_stamp("2026-11-29T17:04:03.12345  two") == " two"
    assert logevents.strip_stamp("2026-11-29 17:04:03.12345 kept") == \
        "2026-11-29 17:04:03.12345 kept"
    assert logevents.strip_stamp("@4000 short") == "@4000 short"
    assert logevents.strip_stamp("") == ""


def test_payload_and_chunks():
    assert logevents.payload("web_1", "web", 42, "stderr", "a\nb\n") == \
        "processname:web_1 groupname:web pid:42 channel:stderr\na\nb\n"
    assert logevents.chunks(["@400000006565f00a1234abcd x", "y"]) == ["x\ny\n"]
    big = ["z" * 1000] * 200
    pieces = logevents.chunks(big)
    assert len(pieces) == 4 and "".join(pieces) == "".join(line + "\n" for line in big)
    assert all(len(p) <= logevents.CHUNK_CHARS for p in pieces)


def test_lines_go_on_across_rotation_and_per_instance_logs(procs, tmp_path, childutils):
    """A 2 KB log rotates every few dozen lines; two instances each with a log of
    their own are two processes, each with its own pid."""
    d = tmp_path / "D"
    log_run = ('#!/bin/sh\nmkdir -p main-"$PV_INSTANCE"\n'
               'exec %s -t -s 2000 ./main-"$PV_INSTANCE"\n' % bin_path("pv-log"))
    run = CHATTY_RUN.replace("$1", "$PV_INSTANCE")
    web = make_service(d, "web", run, {"log/run": log_run, "instances": "2\n",
                                       "instance-logs": "", "log-events": "stdout\n"})
    procs.pv_scan(d)
    proc, out = listen(procs, d, tmp_path, events="PROCESS_LOG_STDOUT")

    def lines_of(process):
        found = []
        for event in heard(out):
            head, data = split(event)
            if head["processname"] == process:
                found += [(head["pid"], line) for line in data.splitlines()]
        return found
    wait_until(lambda: len(lines_of("web_0")) >= 150 and len(lines_of("web_1")) >= 150,
               LONG_TIMEOUT, "150 lines from each instance")
    assert proc.poll() is None
    assert len(os.listdir(os.path.join(web, "log", "main-0"))) > 2     # it has rotated
    for k in (0, 1):
        got = lines_of("web_%d" % k)
        pid = supervise_pid(os.path.join(web, "instance", str(k)))
        assert {p for p, _ in got} == {str(pid)}
        numbers = [int(line.split(" ")[1]) for _, line in got]
        assert [line for _, line in got] == ["out %d from %d" % (n, k) for n in numbers]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def test_a_knob_written_while_listening_is_heard_at_the_next_record(procs, tmp_path,
                                                                     childutils):
    d = tmp_path / "D"
    late = chatty(d, "late", "-tt")
    procs.pv_scan(d)
    proc, out = listen(procs, d, tmp_path)
    wait_until(lambda: logged(late, "out 3 "), LONG_TIMEOUT, "late to log")
    with open(os.path.join(late, "log-events"), "w") as f:
        f.write("stdout\n")
    assert heard(out) == []
    # A restart's records make the listener read the knobs again.
    subprocess_run([bin_path("pv-ctl"), "-d", str(d), "restart", "late"])
    wait_until(lambda: heard(out), LONG_TIMEOUT, "an event from late")
    head, data = split(heard(out)[0])
    assert head["processname"] == "late" and data.startswith("out ")
    assert proc.poll() is None


def subprocess_run(argv):
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=SHORT_TIMEOUT)
    assert done.returncode == 0, done.stderr
