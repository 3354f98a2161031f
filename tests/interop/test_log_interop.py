"""pv-log against the real tools: tai64nlocal reads it, svlogd writes the same.

Each comparison runs Debian's svlogd (runit) and pv-log on the same input and
compares what lands on disk.  Skipped when the tool is not installed.
"""

import os
import re
import shutil
import stat
import subprocess
import sys
import time

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
PVLOG = [sys.executable, os.path.join(TOP, "bin", "pv-log")]
TIMEOUT = 30

needs_svlogd = pytest.mark.skipif(not shutil.which("svlogd"), reason="svlogd (runit) absent")
needs_tai64nlocal = pytest.mark.skipif(not shutil.which("tai64nlocal"),
                                       reason="tai64nlocal (daemontools) absent")


def run(argv, data, tmp_path, name, config=None):
    d = tmp_path / name
    d.mkdir()
    if config is not None:
        (d / "config").write_bytes(config)
    proc = subprocess.run(argv + [str(d)], input=data, stderr=subprocess.PIPE,
                          timeout=TIMEOUT)
    return str(d), proc.returncode, proc.stderr


def logged(d):
    names = sorted(n for n in os.listdir(d) if n.startswith("@")) + ["current"]
    return b"".join(open(os.path.join(d, n), "rb").read() for n in names)


def both(tmp_path, args, data, config=None):
    """(svlogd dir, rc, stderr), (pv-log dir, rc, stderr) for the same run."""
    return (run(["svlogd"] + args, data, tmp_path, "svlogd", config),
            run(PVLOG + args, data, tmp_path, "pvlog", config))


SAMPLE = (b"".join(b"line %d %s\n" % (i, b"z" * (i * 37 % 300)) for i in range(400))
          + b"bin \x00\x01\xff\xfe\x7f \xc3\x28 end\n" + b"x" * 2500 + b"\n")


@needs_svlogd
@pytest.mark.parametrize("config", [None, b"s5000\nn100\n"])
def test_same_content_as_svlogd(tmp_path, config):
    (sv, sv_rc, _), (pv, pv_rc, _) = both(tmp_path, [], SAMPLE, config)
    assert sv_rc == pv_rc == 0
    assert logged(sv) == logged(pv) == SAMPLE


@needs_svlogd
def test_last_line_without_newline_kept_where_svlogd_drops_it(tmp_path):
    """A deliberate difference: svlogd 2.1.2 discards it at end of input."""
    (sv, _, _), (pv, _, _) = both(tmp_path, [], b"a\nno newline")
    assert logged(sv) == b"a\n"
    assert logged(pv) == b"a\nno newline\n"


@needs_svlogd
def test_same_selection_and_stderr_as_svlogd(tmp_path):
    config = b"-*z*\n+line 1*\ne*7 *\nE*77 *\n"
    (sv, _, sv_err), (pv, _, pv_err) = both(tmp_path, ["-l", "20"], SAMPLE, config)
    assert logged(sv) == logged(pv)
    assert sv_err == pv_err and sv_err.count(b"\n") > 3


@needs_svlogd
def test_same_replacement_as_svlogd(tmp_path):
    (sv, _, _), (pv, _, _) = both(tmp_path, ["-r", "?", "-R", "ez"], SAMPLE)
    assert logged(sv) == logged(pv)


@needs_svlogd
def test_same_modes_as_svlogd(tmp_path):
    (sv, _, _), (pv, _, _) = both(tmp_path, [], SAMPLE, b"s3000\n")
    for d, extra in ((sv, {}), (pv, {"journal": 0o600})):     # pv-logdir(5)
        modes = {n[0] if n.startswith("@") else n:
                 stat.S_IMODE(os.stat(os.path.join(d, n)).st_mode) for n in os.listdir(d)}
        assert modes == dict({"@": 0o744, "current": 0o744, "lock": 0o600, "config": 0o644},
                             **extra)


@needs_svlogd
@pytest.mark.parametrize("flags,pattern", [
    ("-tt", rb"\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d\.\d{5} "),
    ("-ttt", rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{5} "),
    ("-t", rb"@[0-9a-f]{24} "),
])
def test_same_stamp_format_as_svlogd(tmp_path, flags, pattern):
    (sv, _, _), (pv, _, _) = both(tmp_path, [flags], b"a\nb\n")
    for d in (sv, pv):
        assert re.fullmatch(b"(" + pattern + b"[ab]\n){2}", logged(d))


@needs_svlogd
def test_continues_after_svlogd_killed(tmp_path):
    """svlogd's unclean current (mode 0644) is appended to, then rotated as .u."""
    d = tmp_path / "log"
    d.mkdir()
    r, w = os.pipe()
    sv = subprocess.Popen(["svlogd", str(d)], stdin=r)
    try:
        os.write(w, b"from svlogd\n")
        deadline = time.monotonic() + TIMEOUT
        while not (d / "current").exists() or (d / "current").stat().st_size < 12:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        sv.kill()
        sv.wait()
    os.close(w)
    os.close(r)
    assert stat.S_IMODE((d / "current").stat().st_mode) == 0o644
    subprocess.run(PVLOG + [str(d)], input=b"appended\n", timeout=TIMEOUT, check=True)
    assert (d / "current").read_bytes() == b"from svlogd\nappended\n"
    (d / "config").write_bytes(b"s30\n")
    os.chmod(d / "current", 0o644)          # as if killed again
    subprocess.run(PVLOG + [str(d)], input=b"from pv-log\n", timeout=TIMEOUT, check=True)
    rotated = [n for n in os.listdir(d) if n.startswith("@")]
    assert len(rotated) == 1 and rotated[0].endswith(".u")
    assert (d / rotated[0]).read_bytes() == b"from svlogd\nappended\n"
    assert (d / "current").read_bytes() == b"from pv-log\n"


@needs_tai64nlocal
def test_tai64nlocal_reads_stamps_and_rotated_names(tmp_path):
    (tmp_path / "log").mkdir()
    d = str(tmp_path / "log")
    with open(os.path.join(d, "config"), "w") as f:
        f.write("s40\n")
    data = b"".join(b"message %d\n" % i for i in range(10))
    subprocess.run(PVLOG + ["-t", d], input=data, timeout=TIMEOUT, check=True)
    local = subprocess.run(["tai64nlocal"], input=logged(d), stdout=subprocess.PIPE,
                           timeout=TIMEOUT).stdout
    today = time.strftime("%Y-%m-%d").encode()
    lines = local.splitlines()
    assert len(lines) == 10
    for i, line in enumerate(lines):
        assert re.fullmatch(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} message %d" % i, line)
        assert line.startswith(today) or time.localtime().tm_hour == 0
    names = "\n".join(n for n in sorted(os.listdir(d)) if n.startswith("@")) + "\n"
    decoded = subprocess.run(["tai64nlocal"], input=names.encode(), stdout=subprocess.PIPE,
                             timeout=TIMEOUT).stdout.splitlines()
    assert len(decoded) >= 2
    assert all(re.fullmatch(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9}\.s", n) for n in decoded)


@pytest.mark.parametrize("peer", [["svlogd"], ["multilog", "s200", "n2"]],
                         ids=["svlogd", "multilog"])
def test_peers_leave_the_journal_be_and_pv_log_goes_on_after_them(tmp_path, peer):
    """pv-log's journal (pv-logdir(5)) is a file the peers neither use nor delete."""
    if not shutil.which(peer[0]):
        pytest.skip("%s absent" % peer[0])
    d = tmp_path / "log"
    d.mkdir()
    (d / "config").write_bytes(b"s200\nn2\n")
    lines = [b"line %03d\n" % i for i in range(150)]
    subprocess.run(PVLOG + [str(d)], input=b"".join(lines[:50]), timeout=TIMEOUT, check=True)
    journal = (d / "journal").read_bytes()
    assert journal.startswith(b"pv-log journal 1\n")
    subprocess.run(peer + [str(d)], input=b"".join(lines[50:100]), timeout=TIMEOUT, check=True)
    assert (d / "journal").read_bytes() == journal
    subprocess.run(PVLOG + [str(d)], input=b"".join(lines[100:]), timeout=TIMEOUT, check=True)
    kept = logged(d)
    assert kept.endswith(b"".join(lines[100:]))
    assert len(kept.splitlines()) == len(set(kept.splitlines()))      # each line once
