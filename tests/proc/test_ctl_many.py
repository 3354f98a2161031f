"""pv-ctl status over a few hundred services under one real pv-scan: every line right.

The services live in a directory pv-scan supervises; the scan directory
pv-ctl reads holds symlinks to them and, besides, a few directories nobody
supervises.  Some records are then spoiled as a crashed or foreign writer
would leave them (cut short, not UTF-8, missing), while their supervisor
still holds them: pv-scan rewrites a record only when its service changes,
and these services are down and stay so.
"""

import json
import os
import re
import signal
import subprocess
import sys

import pytest

from support import SHORT_TIMEOUT, bin_path, make_service, state, svc, wait_pid, wait_until

DOWN_COUNT = 290
SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"
FAIL_RUN = "#!/bin/sh\nexit 3\n"
UPTIME = re.compile(r"^(\d+s|\d+m\d\ds)$")
# What each spoiled record holds, and the reason pv-ctl gives for it.
SPOILED = {
    "cut-state": ("state", b'{"config":"","exit_code":null,"pid":0,"state":"do', "bad format"),
    "cut-key": ("state", b'{"state"', "bad format"),
    "trailing": ("state", b'{"state":"down"} {"state":"down"}\n', "bad format"),
    "not-utf8": ("state", b'{"state":"\xff\xfe"}\n', "bad format"),
    "empty-state": ("state", b"", "bad format"),
    "cut-status": ("status", b"\x40\x00\x00\x00", "bad format"),
    "no-state": ("state", None, "supervisor not running"),
}
UNSUPERVISED = ["zz-never-%d" % k for k in range(6)]


def ctl(scandir, *args):
    return subprocess.run([sys.executable, bin_path("pv-ctl"), "-d", scandir] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=SHORT_TIMEOUT * 3,
                          universal_newlines=True)


def spoil(service, name, data):
    path = os.path.join(service, "supervise", name)
    if data is None:
        os.unlink(path)
        return
    with open(path + ".spoil", "wb") as f:
        f.write(data)
    os.replace(path + ".spoil", path)


@pytest.fixture
def many(procs, tmp_path):
    """(scan dir for pv-ctl, {name: expected (state, pid, why)}, names in order)."""
    real, scan = str(tmp_path / "real"), str(tmp_path / "scan")
    os.mkdir(real)
    os.mkdir(scan)
    kinds = {"s%03d" % k: "down" for k in range(DOWN_COUNT)}
    kinds.update({"run-%d" % k: "running" for k in range(3)})
    kinds.update({"paused": "paused", "gave-up": "fatal"})
    kinds.update({name: "spoiled" for name in SPOILED})
    for name, kind in kinds.items():
        if kind == "fatal":
            make_service(real, name, FAIL_RUN, {"max-retries": "1\n"})
        elif kind in ("running", "paused"):
            make_service(real, name, SLEEP_RUN, {})
        else:
            make_service(real, name, SLEEP_RUN, {"down": ""})
        os.symlink(os.path.join(real, name), os.path.join(scan, name))
    for name in UNSUPERVISED:
        make_service(scan, name, SLEEP_RUN, {})
    procs.pv_scan(real)
    for name, kind in kinds.items():
        path = os.path.join(real, name)
        word = {"down": "down", "spoiled": "down", "fatal": "fatal"}.get(kind, "running")
        wait_until(lambda: state(path).get("state") == word, SHORT_TIMEOUT * 3,
                   "%s to be %s" % (name, word))
    expected = {}
    for name, kind in kinds.items():
        path = os.path.join(real, name)
        if kind in ("running", "paused"):
            pid = wait_pid(path)
            expected[name] = ("running", str(pid), "")
        elif kind == "down":
            expected[name] = ("down", "-", "")
        elif kind == "fatal":
            expected[name] = ("fatal", "-", None)      # checked by its parts below
    pid = int(expected["paused"][1])
    svc(os.path.join(real, "paused"), "p")
    wait_until(lambda: _paused(os.path.join(real, "paused")), what="the pause to be recorded")
    expected["paused"] = ("running", str(pid), "paused")
    for name, (record, data, why) in SPOILED.items():
        spoil(os.path.join(real, name), record, data)
        expected[name] = ("unknown", "-", why)
    for name in UNSUPERVISED:
        expected[name] = ("unsupervised", "-", "supervisor not running")
    yield scan, expected, sorted(expected)
    try:
        os.kill(pid, signal.SIGCONT)     # so that pv-scan's TERM ends it at once
    except OSError:
        pass


def _paused(service):
    with open(os.path.join(service, "supervise", "status"), "rb") as f:
        return f.read()[16:17] == b"\x01"


def check_table(out, expected, names):
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == names
    assert len({len(re.match(r"\S+ +", line).group()) for line in lines}) == 1, "aligned"
    for line in lines:
        name, word, pid, uptime, why = (line.split(None, 4) + [""] * 5)[:5]
        want_word, want_pid, want_why = expected[name]
        assert (word, pid) == (want_word, want_pid), line
        if word in ("unknown", "unsupervised"):
            assert uptime == "-" and why == want_why, line
        elif want_why is None:      # the fatal one: its last exit, pv's reason, the advice
            assert UPTIME.match(uptime) and why.startswith("exit 3; "), line
            assert why.endswith("; gave up; start it to retry"), line
        else:
            assert UPTIME.match(uptime) and why == want_why, line


def test_status_of_hundreds_gives_every_line(many):
    scan, expected, names = many
    assert len(names) > 300
    out = ctl(scan, "status")
    assert (out.returncode, out.stderr) == (4, "")
    check_table(out.stdout, expected, names)
    # The same, named one by one (as bench/ asks), with a name that is no service.
    out = ctl(scan, "status", *(names + ["nope"]))
    assert out.returncode == 4
    assert out.stderr == "pv-ctl: warning: unable to control nope: no such service\n"
    check_table(out.stdout, expected, names)


def test_status_json_of_hundreds(many):
    scan, expected, names = many
    out = ctl(scan, "--json", "status")
    assert out.returncode == 4
    records = json.loads(out.stdout)
    assert [r["name"] for r in records] == names
    for r in records:
        word, pid, why = expected[r["name"]]
        assert r["state"] == word and r["pid"] == (int(pid) if pid != "-" else 0)
        assert r["supervised"] == (word != "unsupervised")
        assert r["paused"] == (r["name"] == "paused")
        if word == "unknown":
            assert r["reason"] == why and r["since"] is None


def test_only_the_supervised_and_readable_are_up(many):
    scan, expected, names = many
    up = [n for n in names if expected[n][0] == "running"]
    assert ctl(scan, "status", *up).returncode == 0
    assert ctl(scan, "status", "s000", *up).returncode == 3
    assert ctl(scan, "status", "cut-status", *up).returncode == 4
