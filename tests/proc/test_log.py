"""pv-log as a real process in temp dirs: rotation, config, signals, no loss."""

import gzip
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time

import pytest

import support

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
PVLOG = os.path.join(TOP, "bin", "pv-log")
TIMEOUT = 30          # seconds any one wait may take before the test fails


@pytest.fixture
def procs():
    """Start processes through this; every one is killed and reaped at the end."""
    started = []

    def start(argv, **kw):
        kw.setdefault("stderr", subprocess.PIPE)
        proc = subprocess.Popen(argv, **kw)
        started.append(proc)
        return proc
    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=TIMEOUT)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream:
                stream.close()


def pvlog(procs, args, stdin):
    return procs([sys.executable, PVLOG] + list(args), stdin=stdin)


def wait_until(predicate, timeout=TIMEOUT, what="condition"):
    """support.wait_until with this file's longer default deadline."""
    return support.wait_until(predicate, timeout, what)


def make_dir(tmp_path, name="log", config=None):
    path = tmp_path / name
    path.mkdir()
    if config is not None:
        (path / "config").write_text(config)
    return str(path)


def content(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def log_files(dirname):
    names = sorted(n for n in os.listdir(dirname) if n.startswith("@") and n[-1] in "su")
    return [os.path.join(dirname, n) for n in names] + [os.path.join(dirname, "current")]


def logged(dirname, opener=open):
    data = b""
    for path in log_files(dirname):
        if os.path.exists(path):
            with opener(path, "rb") as f:
                data += f.read()
    return data


def numbered(count, width=7):
    """Lines of varying length that say their own number and length."""
    return b"".join(b"%0*d %s\n" % (width, i, b"y" * (i % 53)) for i in range(count))


LINE_RE = re.compile(rb"^(?:\S+ )?(\d+) (y*)$")


def check_numbered(data, count, dups_ok=False):
    """Every line whole and present, in order of first appearance."""
    assert data.endswith(b"\n")
    seen, order = set(), []
    for line in data[:-1].split(b"\n"):
        m = LINE_RE.match(line)
        assert m and len(m.group(2)) == int(m.group(1)) % 53, "torn line %r" % line[:80]
        num = int(m.group(1))
        if num in seen:
            assert dups_ok, "line %d twice" % num
            continue
        seen.add(num)
        order.append(num)
    assert order == list(range(count))


def run_to_end(procs, args, data, timeout=TIMEOUT):
    proc = pvlog(procs, args, subprocess.PIPE)
    _, err = proc.communicate(data, timeout=timeout)
    return proc.returncode, err


# -- rotation -----------------------------------------------------------------
def test_many_rotations_keep_every_line_once_in_order(procs, tmp_path):
    d = make_dir(tmp_path, config="s2000\nn1000\n")
    rc, err = run_to_end(procs, ["-tt", d], numbered(20000))
    assert rc == 0, err
    check_numbered(logged(d), 20000)
    files = log_files(d)
    assert len(files) > 100
    for path in files:
        assert os.path.getsize(path) <= 2000
        with open(path, "rb") as f:
            assert f.read().endswith(b"\n") or os.path.getsize(path) == 0
    for path in files[:-1]:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o744
        assert path.endswith(".s")


def test_line_longer_than_s_stands_alone(procs, tmp_path):
    d = make_dir(tmp_path, config="s100\n")
    data = b"short\n" + b"L" * 500 + b"\n" + b"after\n"
    rc, _ = run_to_end(procs, [d], data)
    assert rc == 0
    contents = [open(p, "rb").read() for p in log_files(d)]
    assert b"L" * 500 + b"\n" in contents
    assert b"".join(contents) == data


def test_n_limits_rotated_files(procs, tmp_path):
    d = make_dir(tmp_path, config="s1000\nn3\n")
    rc, _ = run_to_end(procs, [d], numbered(3000))
    assert rc == 0
    assert len(log_files(d)) - 1 == 3


def test_current_is_0644_while_written_0744_after(procs, tmp_path):
    d = make_dir(tmp_path)
    r, w = os.pipe()
    proc = pvlog(procs, [d], r)
    os.close(r)
    os.write(w, b"one\n")
    cur = os.path.join(d, "current")
    wait_until(lambda: os.path.exists(cur) and os.path.getsize(cur) == 4, what="current")
    assert stat.S_IMODE(os.stat(cur).st_mode) == 0o644
    os.close(w)
    assert proc.wait(timeout=TIMEOUT) == 0
    assert stat.S_IMODE(os.stat(cur).st_mode) == 0o744


# -- bytes are kept -----------------------------------------------------------
def test_one_megabyte_line_and_binary_bytes_pass_unchanged(procs, tmp_path):
    d = make_dir(tmp_path, config="s0\n")
    binary = bytes(b for b in range(256) if b != 10) + b"\xff\xfe\x00invalid \xc3\x28\n"
    data = b"M" * 1_000_000 + b"\n" + binary + b"end-without-newline"
    rc, _ = run_to_end(procs, [d], data)
    assert rc == 0
    assert logged(d) == data + b"\n"


def test_lines_are_not_truncated_at_1000_bytes(procs, tmp_path):
    d = make_dir(tmp_path)
    data = b"".join(bytes([65 + i % 26]) * (990 + i) + b"\n" for i in range(30))
    assert run_to_end(procs, ["-l", "100", d], data)[0] == 0
    assert logged(d) == data


def test_giant_line_uses_bounded_memory(procs, tmp_path):
    d = make_dir(tmp_path, config="s0\n")
    size = 40_000_000
    zeros = procs(["head", "-c", str(size), "/dev/zero"], stdout=subprocess.PIPE)
    proc = pvlog(procs, [d], zeros.stdout)
    peak = 0
    deadline = time.monotonic() + TIMEOUT
    while proc.poll() is None:
        assert time.monotonic() < deadline, "pv-log did not finish a %d byte line" % size
        try:
            with open("/proc/%d/status" % proc.pid) as f:
                peak = max([peak] + [int(x.split()[1]) for x in f if x.startswith("VmHWM")])
        except OSError:
            pass
        time.sleep(0.01)
    assert proc.returncode == 0
    assert os.path.getsize(os.path.join(d, "current")) == size + 1
    assert peak < 35_000, "peak RSS %d KiB for a %d byte line" % (peak, size)


# -- config and signals -------------------------------------------------------
def read_until(proc, needle):
    """Read pv-log's stderr (it runs with -v) until a line contains needle."""
    seen = []
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return seen
    pytest.fail("no %r on stderr: %r" % (needle, seen))


def test_config_filters_and_hup_rereads_it(procs, tmp_path):
    d = make_dir(tmp_path, config="-*drop*\n")
    r, w = os.pipe()
    proc = pvlog(procs, ["-v", d], r)
    os.close(r)
    os.write(w, b"keep 1\ndrop 1\n")
    cur = os.path.join(d, "current")
    wait_until(lambda: content(cur) == b"keep 1\n", what="first line")
    with open(os.path.join(d, "config"), "w") as f:
        f.write("-*keep*\n")
    proc.send_signal(signal.SIGHUP)
    read_until(proc, b"sighup")
    os.write(w, b"keep 2\ndrop 2\n")
    os.close(w)
    assert proc.wait(timeout=TIMEOUT) == 0
    assert logged(d) == b"keep 1\ndrop 2\n"


def test_alrm_rotates_now_and_term_exits_zero(procs, tmp_path):
    d = make_dir(tmp_path)
    r, w = os.pipe()
    proc = pvlog(procs, ["-v", d], r)
    os.close(r)
    os.write(w, b"before\n")
    cur = os.path.join(d, "current")
    wait_until(lambda: os.path.exists(cur) and os.path.getsize(cur) == 7, what="line")
    proc.send_signal(signal.SIGALRM)
    read_until(proc, b"rotate:")
    os.write(w, b"after\n")
    wait_until(lambda: os.path.getsize(cur) == 6, what="line after rotation")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=TIMEOUT) == 0
    os.close(w)
    assert logged(d) == b"before\nafter\n"
    assert len(log_files(d)) == 2


def test_t_rotates_old_current(procs, tmp_path):
    d = make_dir(tmp_path, config="t1\n")
    r, w = os.pipe()
    proc = pvlog(procs, [d], r)
    os.close(r)
    os.write(w, b"x\n")
    wait_until(lambda: len(log_files(d)) == 2, what="timed rotation")
    os.close(w)
    assert proc.wait(timeout=TIMEOUT) == 0


def test_processor_runs_on_rotated_files(procs, tmp_path):
    d = make_dir(tmp_path, config="s3000\nn1000\n!gzip\n")
    rc, err = run_to_end(procs, [d], numbered(2000))
    assert rc == 0, err
    files = log_files(d)
    assert len(files) > 5
    assert not [n for n in os.listdir(d) if n.endswith((".u", ".t"))]
    data = b"".join(gzip.open(p).read() for p in files[:-1]) + open(files[-1], "rb").read()
    check_numbered(data, 2000)
    assert os.path.exists(os.path.join(d, "state"))


def test_several_directories_each_with_its_config(procs, tmp_path):
    a = make_dir(tmp_path, "a", "-*odd*\n")
    b = make_dir(tmp_path, "b", "-*\n+*odd*\ne*3 odd*\n")
    data = b"".join(b"%d %s\n" % (i, b"odd" if i % 2 else b"even") for i in range(10))
    rc, err = run_to_end(procs, ["-t", a, b], data)
    assert rc == 0
    strip = [ln.split(b" ", 1)[1] for ln in logged(a).splitlines()]
    assert strip == [b"%d even" % i for i in range(0, 10, 2)]
    strip = [ln.split(b" ", 1)[1] for ln in logged(b).splitlines()]
    assert strip == [b"%d odd" % i for i in range(1, 10, 2)]
    assert re.search(rb"^@[0-9a-f]{24} 3 odd\n$", err)


def test_usage_and_missing_directory(procs, tmp_path):
    rc, err = run_to_end(procs, [], b"")
    assert rc == 100 and b"usage" in err
    rc, err = run_to_end(procs, [str(tmp_path / "no" / "such")], b"x\n")
    assert rc == 111 and not os.path.exists(str(tmp_path / "no"))
    assert b"pv-log: fatal: unable to open any log directory" in err


def test_missing_last_component_is_created_as_multilog_does(procs, tmp_path):
    rc, err = run_to_end(procs, [str(tmp_path / "new")], b"x\n")
    assert (rc, err) == (0, b"")
    assert stat.S_IMODE(os.stat(str(tmp_path / "new")).st_mode) == 0o700
    with open(str(tmp_path / "new" / "current"), "rb") as f:
        assert f.read() == b"x\n"


def test_locked_directory_is_refused(procs, tmp_path):
    d = make_dir(tmp_path)
    r, w = os.pipe()
    pvlog(procs, [d], r)
    wait_until(lambda: os.path.exists(os.path.join(d, "current")), what="first logger")
    rc, err = run_to_end(procs, [d], b"x\n")
    assert rc == 111 and b"unable to lock" in err
    os.close(w)
    os.close(r)


def feed(procs, w, data):
    """A process that writes ``data`` into the pipe's write end ``w`` (closed here)
    and blocks as a service would while the logger cannot keep up."""
    copy = "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())"
    writer = procs([sys.executable, "-c", copy], stdin=subprocess.PIPE, stdout=w, stderr=None)
    os.close(w)
    writer.stdin.write(data)
    writer.stdin.close()
    return writer


# -- nothing lost -------------------------------------------------------------
def test_full_disk_is_reported_once_and_nothing_is_lost(procs, tmp_path):
    d = make_dir(tmp_path, config="s0\n")
    r, w = os.pipe()
    limit = 50_000

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    proc = procs([sys.executable, PVLOG, d], stdin=r, preexec_fn=small_files)
    os.close(r)
    data = numbered(6000)
    writer = feed(procs, w, data)
    line = proc.stderr.readline()
    assert b"File too large" in line and b"retrying" in line
    assert os.path.getsize(os.path.join(d, "current")) <= limit
    resource.prlimit(proc.pid, resource.RLIMIT_FSIZE,
                     (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    writer.wait(timeout=TIMEOUT)
    assert proc.wait(timeout=TIMEOUT) == 0
    assert proc.stderr.read() == b""        # reported once
    assert logged(d) == data


def test_kill9_under_flood_loses_nothing(procs, tmp_path):
    """The supervisor's case: the pipe outlives each killed logger."""
    d = make_dir(tmp_path, config="s50000\nn100000\n")
    count = 120_000
    r, w = os.pipe()
    code = ("import sys\nout = sys.stdout.buffer\nfor s in range(0, %d, 500):\n"
            "    out.write(b''.join(b'%%07d %%s\\n' %% (i, b'y' * (i %% 53))"
            " for i in range(s, min(s + 500, %d))))\n") % (count, count)
    writer = procs([sys.executable, "-c", code], stdout=w, stderr=None)
    def total():
        return support.total_size(log_files(d))

    def progressed(start):
        return writer.poll() is not None or total() > start + 150_000

    for _ in range(6):
        proc = pvlog(procs, ["-tt", d], r)
        start = total()
        wait_until(lambda s=start: progressed(s), what="progress")
        proc.kill()
        proc.wait(timeout=TIMEOUT)
    proc = pvlog(procs, ["-tt", d], r)
    writer.wait(timeout=TIMEOUT)
    os.close(w)
    assert proc.wait(timeout=TIMEOUT) == 0
    check_numbered(logged(d), count, dups_ok=True)
    os.close(r)


def test_restart_drops_torn_tail_left_in_tee_mode(procs, tmp_path):
    d = make_dir(tmp_path)
    with open(os.path.join(d, "current"), "wb") as f:
        f.write(b"whole\ntorn li")
    with open(os.path.join(d, "lock"), "wb") as f:
        f.write(b"pv-log tee\n")      # the words count, not the padding
    r, w = os.pipe()
    proc = pvlog(procs, [d], r)
    os.close(r)
    os.write(w, b"torn line\nnext\n")
    os.close(w)
    assert proc.wait(timeout=TIMEOUT) == 0
    assert logged(d) == b"whole\ntorn line\nnext\n"


def test_restart_after_other_writer_keeps_its_torn_line(procs, tmp_path):
    d = make_dir(tmp_path)
    with open(os.path.join(d, "current"), "wb") as f:
        f.write(b"whole\nfrom svlogd")
    rc, _ = run_to_end(procs, [d], b"new\n")
    assert rc == 0
    assert logged(d) == b"whole\nfrom svlogd\nnew\n"


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 512 KiB tmpfs, when we may mount one (root, and the sandbox allows it)."""
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mnt)],
                          stderr=subprocess.PIPE, timeout=TIMEOUT)
    if proc.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: %s" % proc.stderr.decode().strip())
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], timeout=TIMEOUT)


def test_enospc_on_a_full_tmpfs_loses_nothing(procs, tiny_tmpfs):
    d = tiny_tmpfs / "log"
    d.mkdir()
    (d / "config").write_text("s0\n")
    filler = tiny_tmpfs / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    r, w = os.pipe()
    proc = pvlog(procs, [str(d)], r)
    os.close(r)
    data = numbered(8000)
    writer = feed(procs, w, data)
    line = proc.stderr.readline()
    assert b"No space left on device" in line and b"retrying" in line
    filler.unlink()
    writer.wait(timeout=TIMEOUT)
    assert proc.wait(timeout=TIMEOUT) == 0
    assert proc.stderr.read() == b""
    assert logged(str(d)) == data


def test_stalled_partial_line_is_written_then_continued(procs, tmp_path):
    d = make_dir(tmp_path)
    r, w = os.pipe()
    proc = pvlog(procs, ["-tt", d], r)
    os.close(r)
    os.write(w, b"first\nprompt: ")
    cur = os.path.join(d, "current")
    wait_until(lambda: content(cur).endswith(b"prompt: "), what="the stalled part")
    os.write(w, b"answer\nlast\n")
    os.close(w)
    assert proc.wait(timeout=TIMEOUT) == 0
    lines = content(cur).split(b"\n")
    assert [ln[26:] for ln in lines] == [b"first", b"prompt: answer", b"last", b""]
