"""pv-log: -s bounds the disk used even for a line without end; ordinary lines stay whole.

A line longer than both s and 64 KiB (LONG_LINE, pv-log(1)) is split across
files; a shorter one that does not fit in s stands alone in a file, as before.
"""

import os
import random
import subprocess
import sys

import support

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
PVLOG = os.path.join(TOP, "bin", "pv-log")
TIMEOUT = 60
LONG_LINE = 65536


def log_files(dirname):
    names = sorted(n for n in os.listdir(dirname) if n.startswith("@") and n[-1] in "su")
    return [os.path.join(dirname, n) for n in names] + [os.path.join(dirname, "current")]


def contents(dirname):
    out = []
    for path in log_files(dirname):
        with open(path, "rb") as f:
            out.append(f.read())
    return out


def run_log(procs, args, source):
    """pv-log ARGS fed by ``source`` (a process writing to a pipe); its exit code."""
    proc = procs.start([sys.executable, PVLOG] + args, stdin=source.stdout,
                       stderr=subprocess.PIPE)
    source.stdout.close()
    _, err = proc.communicate(timeout=TIMEOUT)
    assert source.wait(timeout=TIMEOUT) == 0
    return proc.returncode, err


def writer(procs, code):
    return procs.start([sys.executable, "-c", code], stdout=subprocess.PIPE)


def test_a_line_without_end_is_split_and_s_n_bound_the_disk(procs, tmp_path):
    d = tmp_path / "log"
    d.mkdir()
    size, keep, total = 100_000, 3, 5_000_000
    code = ("import sys\nout = sys.stdout.buffer\nfor i in range(%d):\n"
            "    out.write(b'%%09d' %% i)\n" % (total // 9))
    rc, err = run_log(procs, ["-s", str(size), "-n", str(keep), str(d)], writer(procs, code))
    assert rc == 0, err
    files = contents(str(d))
    assert len(files) == keep + 1
    assert all(len(data) <= size for data in files), [len(data) for data in files]
    logged = b"".join(files)
    line = b"".join(b"%09d" % i for i in range(total // 9)) + b"\n"    # EOF ends the line
    assert line.endswith(logged) and len(logged) > keep * size


def test_lines_up_to_64_kib_are_never_split(procs, tmp_path):
    d = tmp_path / "log"
    d.mkdir()
    rng = random.Random(7)
    lengths = [rng.choice((10, 900, 5000, 30000, LONG_LINE - 1)) for _ in range(200)]
    data = b"".join(bytes([65 + n % 26]) * (length - 1) + b"\n"
                    for n, length in enumerate(lengths))
    (tmp_path / "input").write_bytes(data)
    code = "import sys\nsys.stdout.buffer.write(open(%r, 'rb').read())\n" % str(tmp_path / "input")
    rc, err = run_log(procs, ["-s", "4096", "-n", "1000", str(d)], writer(procs, code))
    assert rc == 0, err
    files = contents(str(d))
    assert b"".join(files) == data
    for chunk in files:
        assert chunk == b"" or chunk.endswith(b"\n")
        if len(chunk) > 4096:           # a long line stands alone
            assert chunk.count(b"\n") == 1


def test_a_split_line_continues_after_a_kill_without_loss(procs, tmp_path):
    # The supervisor's case: the pipe outlives the logger; a new pv-log goes
    # on with the line inside which the old one was killed.
    d = tmp_path / "log"
    d.mkdir()
    r, w = os.pipe()
    total = 3_000_000
    code = ("import sys\nout = sys.stdout.buffer\nfor i in range(%d):\n"
            "    out.write(b'%%09d' %% i)\nout.write(b'\\nlast\\n')\n" % (total // 9))
    source = procs.start([sys.executable, "-c", code], stdout=w)
    os.close(w)
    args = [sys.executable, PVLOG, "-s", "200000", "-n", "1000", str(d)]

    def written():
        return support.total_size(log_files(str(d)))
    first = procs.start(args, stdin=r)
    support.wait_until(lambda: written() > 500_000 or source.poll() is not None,
                       timeout=TIMEOUT, what="pv-log to write half a megabyte")
    first.kill()
    first.wait(timeout=TIMEOUT)
    second = procs.start(args, stdin=r)
    os.close(r)
    assert source.wait(timeout=TIMEOUT) == 0
    assert second.wait(timeout=TIMEOUT) == 0
    files = contents(str(d))
    assert all(len(data) <= 200_000 for data in files)
    logged = b"".join(files)
    digits = b"".join(b"%09d" % i for i in range(total // 9))
    assert logged.endswith(b"\nlast\n")
    # Nothing lost: the digits, where a stretch may come twice (bytes the
    # first pv-log wrote but had not yet taken from the pipe).
    body = logged[:-len(b"\nlast\n")]
    same = next((n for n in range(0, min(len(body), len(digits)), 9)
                 if body[n:n + 9] != digits[n:n + 9]), min(len(body), len(digits)))
    while same < min(len(body), len(digits)) and body[same] == digits[same]:
        same += 1       # within the first block that differs
    assert len(body) >= len(digits) and digits.endswith(body[same:])


def test_a_kill_under_a_flood_repeats_nothing(procs, tmp_path):
    # pv-log's journal (pv-log(1), Nothing lost): a SIGKILL between writing
    # a piece and consuming it no longer writes it twice.
    d = tmp_path / "log"
    d.mkdir()
    (d / "config").write_text("s1000000\nn100000\n")
    count, kills = 400_000, 6
    r, w = os.pipe()
    code = ("import sys\nout = sys.stdout.buffer\nfor s in range(0, %d, 1000):\n"
            "    out.write(b''.join(b'%%07d %%s\\n' %% (i, b'y' * (i %% 53))"
            " for i in range(s, min(s + 1000, %d))))\n") % (count, count)
    source = procs.start([sys.executable, "-c", code], stdout=w)
    os.close(w)
    args = [sys.executable, PVLOG, str(d)]

    def written():
        return support.total_size(log_files(str(d)))
    for _ in range(kills):
        logger = procs.start(args, stdin=r)
        start = written()
        support.wait_until(lambda s=start: written() > s + 600_000 or source.poll() is not None,
                           timeout=TIMEOUT, what="pv-log to make progress")
        logger.kill()
        logger.wait(timeout=TIMEOUT)
    last = procs.start(args, stdin=r)
    os.close(r)
    assert source.wait(timeout=TIMEOUT) == 0
    assert last.wait(timeout=TIMEOUT) == 0
    lines = b"".join(contents(str(d))).split(b"\n")[:-1]
    numbers = [int(line[:7]) for line in lines]
    assert sorted(set(numbers)) == list(range(count))        # nothing lost
    repeated = sum(len(line) + 1 for line, n in zip(lines, numbers)) - sum(
        8 + n % 53 + 1 for n in range(count))
    assert repeated == 0, repeated
