"""The log directory contract (pv-logdir(5)): names, lock, current, rotation.

A LogDir owns one directory: the exclusive lock on ``lock``, the open
``current``, its size, and rotation to ``@TAI64N.s`` / ``.u``.  It never
sleeps, prints or exits: every system call that may fail transiently goes
through ``retry(what, fn)``, supplied by the pump, which reports and backs off.

The lock file also carries one word about the writer that holds it, read by
the next pv-log that opens the directory after a crash (crash.py).
"""

import errno
import fcntl
import os
import stat
import time

from pv import tai64n
from pv.log import config as logconfig
from pv.diag import TempError, reason_of
from pv.log.crash import CrashTail
from pv.log.processor import Processor

CURRENT = "current"
LOCK = "lock"
CONFIG = "config"
STATE = "state"
NEWSTATE = "newstate"
JOURNAL = "journal"     # pv-log's header and receipt of the piece in flight (journal.py)
MODE_CURRENT = 0o644    # while being written (svlogd)
MODE_DONE = 0o744       # closed cleanly / rotated (svlogd marks them so)
MODE_NEW_DIR = 0o700    # a missing log directory is made private, as multilog does
# A line longer than s still goes whole into a file of its own, up to this
# many bytes (or s, if larger); a longer line is split across files.
LONG_LINE = 65536
ROTATED_LEN = 27        # "@" + 24 hex digits + "." + one of "s", "u", "t"


def rotated_name(time_ns, suffix):
    return tai64n.label(time_ns) + "." + suffix


def is_rotated(name):
    return len(name) == ROTATED_LEN and name[0] == "@" and name[25] == "."


class LogDir(CrashTail):
    """One open log directory.  ``opts`` holds -s/-n defaults and tee mode."""

    def __init__(self, name, retry, report, size=None, num=None):
        self.name = name
        self.retry = retry
        self.report = report
        self.defaults = (size or logconfig.DEFAULT_SIZE,
                         logconfig.DEFAULT_NUM if num is None else num)
        self.dirfd = self.lockfd = self.fd = None
        self.mark = b""
        self.size = 0
        self.dirid = self.inode = None      # (dev, ino) of the directory; current's inode
        self.midline = False      # current ends inside a line we are writing
        self.spliced = False      # current is written by splice from stdin (journal.py)
        self.line_start = 0       # where in current that line began (0: before it)
        self.unclean = False      # current survived a crash: rotate it as .u
        self.deadline = None      # monotonic time of the t rotation
        self.config = logconfig.Config()
        self.processor = None

    # -- opening and closing ------------------------------------------------
    def open(self, tee, mend=True):
        """Lock, read config, open current; ``mend`` its tail now (else the
        caller calls ``mend`` or ``settle`` once the journal has spoken)."""
        try:
            self.dirfd = self._open_dir()
        except OSError as exc:
            raise TempError("open", "log directory " + self.name, reason_of(exc)) from None
        st = os.fstat(self.dirfd)
        self.dirid = (st.st_dev, st.st_ino)
        try:
            self._lock()
            self.config = self._read_config()
            self.mark = os.pread(self.lockfd, 64, 0)
            self._open_current()
        except BaseException:
            self.close(clean=False)
            raise
        if self.processor is None:
            self.processor = Processor(self.name, self.dirfd, None, self.report)
        self.processor.dirfd = self.dirfd          # a HUP reopened the directory
        self.processor.command = self.config.processor
        self.arm_timer()
        if mend:
            self.mend(tee)

    def _open_dir(self):
        """Open the directory, making its last component first if it is missing.

        multilog and s6-log do the same, so that ``pv-log main`` works in a
        fresh log/ instead of failing (and being respawned) for ever.  Only
        the last component: a missing parent is more likely a typo.
        """
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
        try:
            return os.open(self.name, flags)
        except FileNotFoundError:
            try:
                os.mkdir(self.name, MODE_NEW_DIR)
            except FileExistsError:
                pass        # another pv-log made it first; the lock sorts us out
        return os.open(self.name, flags)

    def _lock(self):
        self.lockfd = os.open(LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600,
                              dir_fd=self.dirfd)
        try:
            fcntl.flock(self.lockfd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise TempError("lock", "directory " + self.name, reason_of(exc)) from None

    def _read_config(self):
        try:
            fd = os.open(CONFIG, os.O_RDONLY | os.O_CLOEXEC, dir_fd=self.dirfd)
        except FileNotFoundError:
            return logconfig.Config(*self.defaults)
        try:
            data = b"".join(iter(lambda: os.read(fd, 65536), b""))
        finally:
            os.close(fd)
        return logconfig.parse(data, *self.defaults)

    def _open_current(self):
        try:
            st = os.stat(CURRENT, dir_fd=self.dirfd)
            self.unclean = self.unclean or (st.st_size > 0 and not st.st_mode & stat.S_IXUSR)
        except FileNotFoundError:
            pass
        self.fd = os.open(CURRENT, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, MODE_CURRENT,
                          dir_fd=self.dirfd)
        os.fchmod(self.fd, MODE_CURRENT)
        self.inode = os.fstat(self.fd).st_ino
        self.size = os.lseek(self.fd, 0, os.SEEK_END)

    def close(self, clean=True):
        """Flush current to disk, mark it closed (0744), release the lock."""
        if self.fd is not None and clean:
            self.retry("fsync", self.name + "/current", lambda: os.fsync(self.fd))
            self.retry("chmod", self.name + "/current",
                       lambda: os.fchmod(self.fd, MODE_DONE))
        for attr in ("fd", "lockfd", "dirfd"):
            fd = getattr(self, attr)
            if fd is not None:
                os.close(fd)
                setattr(self, attr, None)

    # -- writing and rotating -----------------------------------------------
    def write(self, data):
        """One write(2) of ``data`` to current; OSError propagates."""
        done = os.write(self.fd, data)
        self.size += done
        return done

    def room(self):
        """Bytes current may still take before it must be rotated (None: any)."""
        size = self.config.size
        return None if not size else max(0, size - self.size)

    def cut(self, out, pos, end):
        """Where the next write of ``out[pos:end]`` stops; None: rotate first.

        Whole lines only, and no more than ``s`` bytes in a file, except that
        a line longer than ``s`` stands alone in a file -- up to LONG_LINE
        bytes, or ``s`` if more.  Past that a line is split across files
        (pv-log(1)), so that ``s`` and ``n`` bound the disk used, whatever
        the input.
        """
        room = self.room()
        if self.midline:
            nl = out.find(b"\n", pos, end)
            stop = end if nl < 0 else nl + 1
            if room is None:
                return stop
            limit = self.line_start + max(self.config.size, LONG_LINE) - self.size
            if stop - pos <= limit:
                return stop
            return pos + limit if limit > 0 else None
        if room is None or end - pos <= room:
            return end
        if room > 0:
            cut = out.rfind(b"\n", pos, pos + room)
            if cut >= 0:
                return cut + 1
        if self.size:
            return None
        nl = out.find(b"\n", pos, end)
        stop = end if nl < 0 else nl + 1
        return min(stop, pos + max(self.config.size, LONG_LINE))

    def wrote(self, out, pos, stop, before):
        """``out[pos:stop]`` went to current at offset ``before``: note whether
        current now ends inside a line, and where that line began."""
        if out[stop - 1] == 0x0A:
            self.midline = False
        elif not self.midline:
            nl = out.rfind(b"\n", pos, stop)
            self.line_start = before + (nl + 1 - pos if nl >= 0 else 0)
            self.midline = True

    def rotate(self, inside_line=False):
        """current -> @TAI64N.s (or .u), fsync'd first; a fresh current.

        Never inside a line, except ``inside_line``: a line longer than ``s``.
        """
        if not self.size or self.fd is None or self.midline and not inside_line:
            return None
        if self.processor.command:
            self.processor.wait()
        suffix = "u" if self.processor.command or self.unclean else "s"
        target = self._unique_name(suffix)
        cur = self.name + "/current"
        self.retry("fsync", cur, lambda: os.fsync(self.fd))
        self.retry("chmod", cur, lambda: os.fchmod(self.fd, MODE_DONE))
        self.retry("rename", cur, lambda: os.rename(CURRENT, target, src_dir_fd=self.dirfd,
                                                    dst_dir_fd=self.dirfd))
        os.close(self.fd)
        self.fd = None
        self.fd = self.retry("create", cur, self._new_current)
        self.inode = os.fstat(self.fd).st_ino
        self.size, self.unclean, self.line_start = 0, False, 0
        self.remove_oldest()
        self.arm_timer()
        if self.processor.command:
            self.processor.start(target)
        return target

    def _new_current(self):
        fd = os.open(CURRENT, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, MODE_CURRENT,
                     dir_fd=self.dirfd)
        os.fchmod(fd, MODE_CURRENT)
        return fd

    def _unique_name(self, suffix):
        while True:
            name = rotated_name(time.time_ns(), suffix)
            try:
                os.stat(name, dir_fd=self.dirfd)
            except FileNotFoundError:
                return name

    def rotated(self):
        """Sorted names of the rotated files (.s and .u), oldest first."""
        names = [n for n in os.listdir(self.dirfd) if is_rotated(n)]
        return sorted(n for n in names if n[26] in "su")

    def remove_oldest(self, keep=None):
        """svlogd's rule: leftover .t files go; one oldest file goes if over n."""
        for name in os.listdir(self.dirfd):
            if is_rotated(name) and name[26] == "t" and not self.processor.running():
                self._unlink(name)
        keep = self.config.num if keep is None else keep
        old = self.rotated()
        if keep and len(old) > keep:
            self._unlink(old[0])
            return old[0]
        return None

    def free_space(self):
        """On ENOSPC, with N below n: delete the oldest file while over N."""
        if self.config.min < self.config.num:
            return self.remove_oldest(keep=self.config.min)
        return None

    def _unlink(self, name):
        try:
            os.unlink(name, dir_fd=self.dirfd)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                self.report("warning", "unable to unlink %s/%s: %s"
                            % (self.name, name, reason_of(exc)))

    # -- the t setting ------------------------------------------------------
    def arm_timer(self):
        timeout = self.config.timeout
        self.deadline = time.monotonic() + timeout if timeout else None

    def due(self, now):
        return self.deadline is not None and now >= self.deadline
