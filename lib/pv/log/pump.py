"""The pump of pv-log: chunks from stdin to every log directory, nothing lost.

Each turn takes what the input holds (``source.peek()``), writes its
complete lines to every directory, and only then consumes them from the
input.  Lines are stamped a chunk at a time (one ``bytes.replace``).  A
partial line stays in the input until its newline comes, except when it
fills half the pipe or stalls for STALL seconds: then it is written in
pieces and the directory is "inside a line" (no stamp, no rotation) until
the newline.  Write errors are reported once and retried with back-off; the
unconsumed input holds the writer back meanwhile.  See pv-log(1).
"""

import errno
import select
import signal
import time

from pv import timefmt
from pv.diag import TempError, reason_of
from pv.log.journal import Journal
from pv.log.logdir import LogDir
from pv.log.render import Renderer
from pv.log.source import TeeSource, open_source
from pv.log.waiter import Signals, Waiter
from pv.log.writer import Writer

# Input written and consumed at a time: with the journal a kill repeats
# nothing, so this is only a matter of speed.  Stamped, a 256 KiB piece walks
# some 600 KiB of buffers through the cache: 64 KiB pieces measured faster.
PIECE, PIECE_STAMPED = 256 << 10, 64 << 10
STALL = 1.0          # seconds a partial line may wait in the pipe for its end
BACKOFF_MIN, BACKOFF_MAX = 0.05, 1.0


class Options:
    def __init__(self, stamp=timefmt.NONE, linemax=1000, bufsize=1024, replace=None,
                 size=None, num=None, verbose=0, tee=True):
        self.stamp, self.linemax, self.bufsize = stamp, linemax, bufsize
        self.replace, self.size, self.num = replace, size, num
        self.verbose, self.tee = verbose, tee


class Abandon(Exception):
    """SIGTERM arrived while a write kept failing."""


class Pump(Writer):
    def __init__(self, names, opts, report, infd=0, errfd=2):
        self.opts = opts
        self.report = report
        self.infd, self.errfd = infd, errfd
        self.renderer = Renderer(opts.stamp, opts.replace, opts.linemax)
        self.piece = PIECE_STAMPED if opts.stamp != timefmt.NONE else PIECE
        self.dirs = [LogDir(n, self.retry, report, opts.size, opts.num) for n in names]
        self.stopping = self.hangup = False
        self.drain = 0
        self.stall_since = None
        self.signals = self.source = self.waiter = None
        self.journal = Journal()
        self.tee = False

    # -- life cycle ----------------------------------------------------------
    def run(self):
        """Pump until end of input or SIGTERM; raises PvError if no directory opens."""
        self.signals = Signals()
        try:
            self.source = open_source(self.infd, self.opts.bufsize, self.opts.tee)
            self.tee = isinstance(self.source, TeeSource)
            self.open_dirs(mend=False)
            self.open_journal(recover=True)
            self.waiter = Waiter(self.infd, self.source.edge, self.signals.rd)
            self._run_loop()
        finally:
            self.signals.close()
            if self.waiter:
                self.waiter.close()
            if self.source:
                self.source.close()
            self.journal.close()

    def _run_loop(self):
        try:
            self.loop()
        except Abandon:
            # tee: what was not written is still in the pipe; read(): it is lost
            self.finish(clean=False)
            if not self.tee:
                raise TempError("write", "log directory", "SIGTERM while writes failed") from None
            return
        self.finish(clean=True)

    def open_dirs(self, mend=True):
        ok = False
        for d in self.dirs:
            try:
                d.open(self.tee, mend)
                ok = True
                for line in d.config.unknown:
                    self.info("%s/config: ignoring line %r" % (d.name, line))
                self.info("open: %s (%d bytes)" % (d.name, d.size))
            except TempError as exc:
                self.report("warning", exc.message())
            except OSError as exc:
                self.report("warning", "unable to open log directory %s: %s"
                            % (d.name, reason_of(exc)))
        if not ok:
            raise TempError("open", "any log directory", "no functional log directories")

    def open_journal(self, recover=False):
        """The journal (journal.py), in tee mode; after a kill, settle its piece."""
        self.journal.close()
        if self.tee:
            self.journal = Journal.open(self.live(), len(self.dirs), self.infd)
        if recover:
            # Before any tail is mended: the journal knows better what it is.
            done = self.journal.recover(self.live(), self.source)
            if done:
                self.info("journal: " + done)
            for d in self.live() if not done else ():
                d.mend(self.tee)

    def finish(self, clean):
        """At the end: end torn lines (EOF), wait for processors, close."""
        at_eof = not self.stopping
        for d in self.live():
            try:
                if d.midline and (at_eof or not self.tee):
                    self._write_all(d, memoryview(b"\n"))
                    d.midline = False
                if d.processor.running():
                    d.processor.wait()
                d.close(clean=clean)
            except Abandon:
                d.close(clean=False)

    def live(self):
        return [d for d in self.dirs if d.fd is not None]

    # -- the loop ------------------------------------------------------------
    def loop(self):
        while True:
            self.dispatch()
            data = self.source.peek()
            if data is None:
                return
            if self.stopping and (not self.tee or self.drain <= 0):
                start = 0
                while not self.tee and start < len(data):
                    start += self.step(data, start, len(data), True)
                return
            if self.take(data):
                continue
            if self.stopping:
                return
            self.wait(data)

    def take(self, data):
        """Write and consume what can go now; False if nothing could."""
        cut = data.rfind(b"\n") + 1
        if not cut:
            if not data or not self._partial_due(len(data)):
                return False
            cut = len(data)
        close = self.hangup and not self.source.full(cut)
        start = 0
        while start < cut:
            stop = cut
            if cut - start > self.piece:
                stop = data.rfind(b"\n", start, start + self.piece) + 1
                if stop <= start:
                    stop = data.find(b"\n", start + self.piece, cut) + 1 or cut
            start += self.step(data, start, stop, close and stop == cut)
        self.stall_since = None
        return True

    def _partial_due(self, count):
        if self.source.full(count) or self.hangup:
            return True
        now = time.monotonic()
        if self.stall_since is None:
            self.stall_since = now
        return now - self.stall_since >= STALL

    def wait(self, data):
        deadlines = [d.deadline for d in self.live()
                     if d.deadline is not None and not d.midline]
        if data and self.stall_since is not None:
            deadlines.append(self.stall_since + STALL)
        timeout = None
        if deadlines:
            timeout = max(0.0, min(deadlines) - time.monotonic())
        ready, hangup = self.waiter.wait(timeout)
        self.hangup = self.hangup or hangup
        if ready:
            self.source.fill()

    # -- signals and timers --------------------------------------------------
    def dispatch(self):
        for signum in self.signals.take():
            if signum in (signal.SIGTERM, signal.SIGINT):
                if not self.stopping:
                    self.info("sigterm received")
                    self.stopping = True
                    self.drain = self.source.pending()
            elif signum == signal.SIGHUP:
                self.reopen()
            elif signum == signal.SIGALRM:
                for d in self.live():
                    self._rotate(d)
            elif signum == signal.SIGCHLD:
                for d in self.live():
                    d.processor.poll()
        now = time.monotonic()
        for d in self.live():
            if d.due(now) and not d.midline:
                self._rotate(d)
                d.arm_timer()

    def reopen(self):
        self.info("sighup received: reopening")
        for d in self.live():
            d.close()
        self.open_dirs()
        self.open_journal()

    def _rotate(self, d, inside_line=False):
        name = d.rotate(inside_line)
        if name:
            self.info("rotate: %s/%s" % (d.name, name))

    def retry(self, verb, obj, fn, logdir=None):
        """fn() until it succeeds: report the first failure, back off, retry."""
        delay, failed = BACKOFF_MIN, False
        while True:
            try:
                result = fn()
            except OSError as exc:
                if not failed:
                    self.report("warning", "unable to %s %s: %s (retrying)"
                                % (verb, obj, reason_of(exc)))
                    failed = True
                if exc.errno == errno.ENOSPC and logdir and self._free(logdir):
                    continue
                self.pause(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            if failed:
                self.info("%s %s: succeeded after retrying" % (verb, obj))
            return result

    def _free(self, d):
        gone = d.free_space()
        if gone:
            self.report("warning", "out of disk space, delete: %s/%s" % (d.name, gone))
        return gone

    def pause(self, delay):
        """Sleep for a retry, awake to signals; SIGTERM abandons the write."""
        self.waiter_signals_only(delay)
        for signum in self.signals.take():
            if signum in (signal.SIGTERM, signal.SIGINT):
                self.stopping = True
                raise Abandon()
            self.signals.received.append(signum)

    def waiter_signals_only(self, delay):
        try:
            select.select([self.signals.rd], [], [], delay)
        except InterruptedError:
            pass

    def info(self, text):
        if self.opts.verbose:
            self.report("info", text)
