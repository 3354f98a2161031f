"""pv-log's journal (lib/pv/log/journal.py): each recovery case on a real
log directory and a real pipe, the kill simulated by stopping half-way.

A "run" here is what pv-log does for one piece, cut where a SIGKILL could
fall; the next run reopens the directory and the journal as a new pv-log
would, and must leave every line in current once and the rest in the pipe.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))

from pv import timefmt  # noqa: E402
from pv.log import journal as logjournal  # noqa: E402
from pv.log.journal import Journal  # noqa: E402
from pv.log.crash import MARK_SPLICE  # noqa: E402
from pv.log.logdir import LogDir  # noqa: E402
from pv.log.render import Renderer, input_offset  # noqa: E402
from pv.log.source import TeeSource  # noqa: E402

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="tee(2) is Linux")

PIECE = b"".join(b"line %d\n" % i for i in range(100))
NEXT = b"next line\n"


@pytest.fixture
def pipe():
    r, w = os.pipe()
    yield r, w
    for fd in (r, w):
        try:
            os.close(fd)
        except OSError:
            pass


def opened(path, tee=True):
    d = LogDir(str(path), lambda verb, obj, fn, logdir=None: fn(), lambda *a: None)
    d.open(tee, mend=False)
    return d


class Run:
    """One pv-log's view: its directories, its source and its journal."""

    def __init__(self, paths, r):
        self.dirs = [opened(p) for p in paths]
        self.source = TeeSource(r)
        self.journal = Journal.open(self.dirs, len(paths), r)

    def recover(self):
        done = self.journal.recover(self.dirs, self.source)
        for d in self.dirs if not done else ():
            d.mend(True)
        return done

    def close(self):
        self.journal.close()
        self.source.close()
        for d in self.dirs:
            d.close(clean=False)


def current(path):
    with open(os.path.join(str(path), "current"), "rb") as f:
        return f.read()


def left_in(r):
    """What the pipe still holds (the writer end must be closed)."""
    data = b""
    while True:
        part = os.read(r, 65536)
        if not part:
            return data
        data += part


def start(tmp_path, pipe, names=("log",), before=b"old line\n"):
    r, w = pipe
    paths = []
    for name in names:
        path = tmp_path / name
        path.mkdir()
        (path / "current").write_bytes(before)
        paths.append(path)
    os.write(w, PIECE + NEXT)
    os.close(w)
    return paths, Run(paths, r)


def again(paths, run, r):
    run.close()
    return Run(paths, r)


def in_flight(tmp_path, pipe, written=PIECE):
    """A run with PIECE named in the journal and ``written`` of it in current:
    where a kill between the write and the consume leaves things."""
    paths, run = start(tmp_path, pipe)
    d = run.dirs[0]
    assert run.journal.begin([(d, len(PIECE))], len(PIECE))
    d.write(written)
    return paths, run, d


# -- the journal kind: the receipt is the journal file ----------------------------
def test_written_not_consumed_is_consumed_without_writing(tmp_path, pipe):
    paths, run, d = in_flight(tmp_path, pipe)   # killed here: nothing consumed
    run = again(paths, run, pipe[0])
    assert "consumed %d" % len(PIECE) in run.recover()
    assert current(paths[0]) == b"old line\n" + PIECE
    assert left_in(pipe[0]) == NEXT
    run.close()


def test_partly_consumed_piece_is_consumed_to_its_end(tmp_path, pipe):
    paths, run, d = in_flight(tmp_path, pipe)
    moved = run.source.splice_to(run.journal.fd, 100, run.journal.next)   # cut short
    assert moved == 100
    run = again(paths, run, pipe[0])
    assert "consumed %d" % (len(PIECE) - 100) in run.recover()
    assert current(paths[0]) == b"old line\n" + PIECE
    assert left_in(pipe[0]) == NEXT
    run.close()


def test_write_cut_short_is_cut_back_and_written_once(tmp_path, pipe):
    paths, run, d = in_flight(tmp_path, pipe, PIECE[:333])   # a torn line at the end
    run = again(paths, run, pipe[0])
    assert "cut current back" in run.recover()
    assert current(paths[0]) == b"old line\n"
    assert not run.dirs[0].midline
    assert left_in(pipe[0]) == PIECE + NEXT        # all of it, to be written once
    run.close()


def test_other_inode_repeats_never_loses(tmp_path, pipe):
    paths, run, d = in_flight(tmp_path, pipe)
    run.close()
    os.rename(paths[0] / "current", paths[0] / "@elsewhere")  # someone rotated it
    (paths[0] / "current").write_bytes(b"x" * 9 + PIECE)     # even at the same size
    run = Run(paths, pipe[0])
    assert run.recover() is None
    assert left_in(pipe[0]) == PIECE + NEXT
    run.close()


def test_another_pipe_or_a_torn_header_repeats(tmp_path, pipe):
    paths, run, d = in_flight(tmp_path, pipe)
    run.close()
    with open(paths[0] / "journal", "r+b") as f:
        f.seek(40)
        f.write(b"\xff")
    run = Run(paths, pipe[0])
    assert run.recover() is None
    assert left_in(pipe[0]) == PIECE + NEXT
    run.close()


def test_a_consumed_piece_and_a_cut_back_receipt_settle_nothing(tmp_path, pipe):
    paths, run = start(tmp_path, pipe)
    d = run.dirs[0]
    run.journal.next = logjournal.LIMIT - 10        # the next piece cuts the receipt back
    run.journal.begin([(d, len(PIECE))], len(PIECE))
    assert run.journal.next == logjournal.HEADER
    d.write(PIECE)
    run.journal.consume(run.source, len(PIECE))
    run = again(paths, run, pipe[0])
    assert run.recover() is None
    assert current(paths[0]) == b"old line\n" + PIECE
    assert left_in(pipe[0]) == NEXT
    run.close()


# -- direct: the receipt is the first directory's current ---------------------------
def test_direct_splice_cut_short_is_completed(tmp_path, pipe):
    paths, run = start(tmp_path, pipe, ("a", "b"))
    a, b = run.dirs
    assert run.journal.begin([(a, len(PIECE)), (b, len(PIECE))], len(PIECE), direct=True)
    b.write(PIECE)
    a.spliced = True
    a.set_mark(a.word())
    assert run.source.splice_to(a.fd, 333, None) == 333      # killed inside the splice
    run = again(paths, run, pipe[0])
    assert "consumed %d" % (len(PIECE) - 333) in run.recover()
    assert current(paths[0]) == current(paths[1]) == b"old line\n" + PIECE
    assert left_in(pipe[0]) == NEXT
    run.close()


def test_direct_with_another_directory_cut_short(tmp_path, pipe):
    paths, run = start(tmp_path, pipe, ("a", "b"))
    a, b = run.dirs
    run.journal.begin([(a, len(PIECE)), (b, len(PIECE))], len(PIECE), direct=True)
    b.write(PIECE[:50])
    run = again(paths, run, pipe[0])
    assert "cut current back" in run.recover()
    assert current(paths[0]) == current(paths[1]) == b"old line\n"
    assert left_in(pipe[0]) == PIECE + NEXT
    run.close()


def test_without_a_journal_a_spliced_torn_tail_is_continued_not_dropped(tmp_path, pipe):
    # A consumed torn line, the journal unusable (another directory set):
    # the lock's word keeps the torn part, the pipe holds the rest of it.
    paths, run = start(tmp_path, pipe)
    a = run.dirs[0]
    a.spliced = True
    a.set_mark(a.word())
    assert run.source.splice_to(a.fd, 5, None) == 5          # b"line " of "line 0\n"
    run.close()
    os.unlink(paths[0] / "journal")
    run = Run(paths, pipe[0])
    assert run.recover() is None
    assert run.dirs[0].midline and run.dirs[0].mark == MARK_SPLICE
    assert current(paths[0]) == b"old line\nline "
    assert left_in(pipe[0]) == PIECE[5:] + NEXT
    run.close()


def test_no_journal_unless_every_directory_opened(tmp_path, pipe):
    paths, run = start(tmp_path, pipe, ("a", "b"))
    assert run.journal.active()
    assert not Journal.open(run.dirs[:1], 2, pipe[0]).active()
    run.close()


# -- the pure parts ------------------------------------------------------------------
def test_header_round_trip():
    dirs = [((1, 2, 3), 4, 5, False), ((6, 7, 8), 9, 10, True)]
    data = logjournal.pack((11, 12), 4096, 77, logjournal.DIRECT, dirs)
    assert logjournal.unpack(data) == ((11, 12), 4096, 77, logjournal.DIRECT, dirs)
    assert logjournal.unpack(data[:-1]) is None
    assert logjournal.unpack(b"\0" + data[1:]) is None


@pytest.mark.parametrize("midline", [False, True])
def test_input_offset_undoes_the_stamps(midline):
    stamp = b"2026-11-29_18:00:00.00000 "
    piece = b"abc\nde\n\nfghij\n"
    out, _ = timefmt.stamp_chunk(piece, stamp, midline)
    for n in range(1, len(piece) + 1):
        if piece[n - 1] == 0x0A:
            _, stop = timefmt.stamp_chunk(piece[:n], stamp, midline)
            assert input_offset(out, stop, len(stamp), midline) == n
    assert input_offset(out, 3, len(stamp), False) is None      # inside the first stamp
    assert input_offset(out, 3, len(stamp), True) == 3          # no stamp: "abc"
    assert input_offset(b"abc\n", 2, 0, False) == 2


def test_selector_maps_kept_lines_back_to_the_input(tmp_path):
    path = tmp_path / "log"
    path.mkdir()
    (path / "config").write_bytes(b"-*drop*\npP: \n")
    d = opened(path)
    renderer = Renderer(0, None, 1000)
    piece = b"keep 1\ndrop 2\nkeep 3\ndrop 4\nkeep 5\n"
    (d_, out, end, _), = renderer.render([d], piece)[0]
    assert out == b"P: keep 1\nP: keep 3\nP: keep 5\n"
    stop = out.index(b"P: keep 5")
    assert renderer.input_at(d, out, stop, 0) == piece.index(b"drop 4")
    d.close(clean=False)


def test_a_symlink_named_journal_is_not_followed(tmp_path, pipe):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious\n")
    path = tmp_path / "log"
    path.mkdir()
    (path / "journal").symlink_to(victim)
    d = opened(path)
    assert not Journal.open([d], 1, pipe[0]).active()
    assert victim.read_bytes() == b"precious\n"
    d.close(clean=False)
