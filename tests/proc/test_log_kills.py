"""pv-log killed with SIGKILL under a flood, many times: each line once.

The supervisor's case: the test holds the pipe as pv-run does, a fast writer
(cat of a file) floods it, and pv-log is started on it, SIGKILLed at a random
moment (after a random number of logged bytes), and started again, many
times.  With the journal (pv-logdir(5)) nothing may be lost and nothing
repeated: the only bytes a kill may leave twice are those of a write it cut
short, and pv-log cuts those back (counted, and the bound asserted: zero).
"""

import os
import random
import sys

import pytest

import support
from pv.log import match as logmatch

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
PVLOG = os.path.join(TOP, "bin", "pv-log")
TIMEOUT = 60
COUNT = 400_000

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="tee(2) is Linux")


def line(i):
    return b"%07d %s\n" % (i, b"y" * (i % 53))


@pytest.fixture(scope="module")
def flood_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("flood") / "input"
    with open(path, "wb") as f:
        for start in range(0, COUNT, 10000):
            f.write(b"".join(line(i) for i in range(start, min(start + 10000, COUNT))))
    return str(path)


def logged(d):
    names = sorted(n for n in os.listdir(d) if n.startswith("@") and n[-1] in "su")
    data = b""
    for name in names + ["current"]:
        with open(os.path.join(d, name), "rb") as f:
            data += f.read()
    return data


def size_of(dirs):
    total = 0
    for d in dirs:
        for name in os.listdir(d):
            if name == "current" or name.startswith("@"):
                try:
                    total += os.path.getsize(os.path.join(d, name))
                except FileNotFoundError:
                    pass        # rotated away between listdir and stat
    return total


def count_lines(data, stamped, expected):
    """(missing, repeated bytes, torn lines) of one directory's lines."""
    seen, repeated, torn = set(), 0, 0
    for raw in data.split(b"\n")[:-1]:
        text = raw[26:] if stamped else raw
        head, _, ys = text.partition(b" ")
        if len(head) != 7 or not head.isdigit() or len(ys) != int(head) % 53:
            torn += 1
            continue
        if int(head) in seen:
            repeated += len(raw) + 1
        seen.add(int(head))
    return len(expected - seen), repeated, torn


@pytest.mark.parametrize("flags,configs", [
    ([], ["s50000\nn100000\n", "s70000\nn100000\n"]),
    (["-tt"], ["s60000\nn100000\n", "s40000\nn100000\n-*3 y*\n"]),
], ids=["plain", "stamped-filtered"])
def test_many_kills_under_a_flood_leave_each_line_once(procs, tmp_path, flood_file, flags,
                                                       configs):
    rng = random.Random(16)
    dirs = []
    for n, config in enumerate(configs):
        d = tmp_path / ("log%d" % n)
        d.mkdir()
        (d / "config").write_text(config)
        dirs.append(str(d))
    r, w = os.pipe()
    with open(flood_file, "rb") as feed:
        writer = procs.start(["cat"], stdin=feed, stdout=w)
    os.close(w)
    argv = [sys.executable, PVLOG, "-v"] + flags + dirs
    kills = 0
    # -v says "rotate:" often: into a file, not a pipe nobody reads meanwhile.
    err = open(tmp_path / "stderr", "wb")
    while writer.poll() is None and kills < 25:
        logger = procs.start(argv, stdin=r, stderr=err)
        goal = size_of(dirs) + rng.randrange(20_000, 700_000)
        support.wait_until(lambda: size_of(dirs) >= goal or writer.poll() is not None,
                           timeout=TIMEOUT, what="pv-log to log more")
        logger.kill()
        logger.wait(timeout=TIMEOUT)
        kills += 1
    last = procs.start(argv, stdin=r, stderr=err)
    os.close(r)
    err.close()
    assert writer.wait(timeout=TIMEOUT) == 0
    assert last.wait(timeout=TIMEOUT) == 0
    settled = (tmp_path / "stderr").read_bytes().count(b"journal: ")
    assert kills >= 3, "the flood ended too soon to kill pv-log often"
    everything = set(range(COUNT))
    for d, config in zip(dirs, configs):
        patterns = [(b"-", p[1:].encode()) for p in config.split("\n") if p.startswith("-")]
        want = {i for i in everything if logmatch.decide(patterns, line(i)[:-1])[0]}
        missing, repeated, torn = count_lines(logged(d), bool(flags), want)
        assert (missing, repeated, torn) == (0, 0, 0), (d, kills, settled)
