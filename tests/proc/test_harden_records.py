"""Records and the client side (issue 12, item 8, all but the publish retry).

A regular file in place of supervise/control took the letters and reported
success; ``status --json`` called a supervised service with an unreadable
record unsupervised; CR and newline in names were printed raw.
"""

import json
import os
import subprocess
import sys

from support import SHORT_TIMEOUT, bin_path, make_service, read, wait_pid

SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"


def run(*argv):
    return subprocess.run([sys.executable] + list(argv), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=SHORT_TIMEOUT + 15,
                          universal_newlines=True)


def test_a_regular_file_in_place_of_control_is_not_supervised(tmp_path):
    scan = tmp_path / "scan"
    s = make_service(scan, "s", SLEEP_RUN, {"supervise/control": ""})
    out = run(bin_path("pv-svc"), "-u", s)
    assert out.returncode == 102, out.stderr
    assert "supervise/control is not a FIFO" in out.stderr, out.stderr
    assert read(os.path.join(s, "supervise", "control")) == ""     # nothing written into it
    out = run(bin_path("pv-ctl"), "-d", str(scan), "start", "s")
    assert out.returncode == 102, out.stderr
    assert read(os.path.join(s, "supervise", "control")) == ""


def test_a_symlink_in_place_of_control_is_not_followed(tmp_path):
    target = tmp_path / "target"
    target.write_text("")
    s = make_service(tmp_path, "s", SLEEP_RUN, {})
    os.makedirs(os.path.join(s, "supervise"))
    os.symlink(str(target), os.path.join(s, "supervise", "control"))
    out = run(bin_path("pv-svc"), "-d", s)
    assert out.returncode == 102 and "not a FIFO" in out.stderr, out.stderr
    assert target.read_text() == ""


def test_status_json_says_supervised_when_the_record_is_unreadable(procs, tmp_path):
    scan = tmp_path / "scan"
    s = make_service(scan, "s", SLEEP_RUN, {})
    procs.pv_run(s)
    wait_pid(s)
    for name in ("state", "status"):
        with open(os.path.join(s, "supervise", name), "w") as f:
            f.write("garbage")
    out = run(bin_path("pv-ctl"), "-d", str(scan), "--json", "status", "s")
    record = json.loads(out.stdout)[0]
    assert record["state"] == "unknown" and record["supervised"] is True, out.stdout


def test_control_characters_in_names_are_printed_escaped(tmp_path):
    scan = tmp_path / "scan"
    make_service(scan, "evil\nFAKE  running  1  1s", SLEEP_RUN, {})
    make_service(scan, "cr\rbell\x07esc\x1b[2J", SLEEP_RUN, {})
    out = run(bin_path("pv-ctl"), "-d", str(scan), "status")
    lines = out.stdout.splitlines()
    assert len(lines) == 2, out.stdout
    assert any(l.startswith("evil\\nFAKE") for l in lines), out.stdout
    assert any(l.startswith("cr\\rbell\\x07esc\\x1b[2J") for l in lines), out.stdout
    assert not any(c in out.stdout for c in "\r\x07\x1b")
    out = run(bin_path("pv-ctl"), "-d", str(scan), "check")
    assert "\n" not in out.stdout.rstrip("\n") and "\x1b" not in out.stdout, out.stdout
    out = run(bin_path("pv-ctl"), "-d", str(scan), "pid", "cr\rbell\x07esc\x1b[2J")
    assert out.stderr.count("\n") == 1 and "\x1b" not in out.stderr, out.stderr
    out = run(bin_path("pv-ctl"), "-d", str(scan), "-w", "0.2", "restart", "evil*")
    assert out.stdout.count("\n") + out.stderr.count("\n") == 1, (out.stdout, out.stderr)
    assert "evil\\nFAKE" in out.stdout + out.stderr
