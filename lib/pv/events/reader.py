"""A cursor over an events directory, and how a reader waits for more.

The reader holds the last sequence number it has handed out; ``read()``
returns every complete record after it, across rotation: when ``current``
was renamed under it, the open descriptor still reads the renamed file to
its end, and the next file is found by the names (``@<first seq>.s``).  A
cursor older than the oldest file kept yields a gap, reported once.

Waiting uses inotify on the directory (Linux), through ctypes so that the
runtime stays standard-library only: the writer does nothing for readers,
so a reader can never slow the supervisor down.  Without inotify the reader
polls every ``POLL_SECS``.
"""

import os
import select

from pv.events import journal

POLL_SECS = 0.25
_IN_MODIFY, _IN_MOVED_TO, _IN_CREATE = 0x2, 0x80, 0x100


class Reader:
    def __init__(self, directory, after=None):
        """Records after sequence number ``after``; None: only those still to come."""
        self.directory = directory
        self.cursor = self._last_seq() if after is None else after
        self.file = None
        self.name = None          # the file open: CURRENT or a rotated name
        self.inode = None
        self.pending = b""        # a record whose newline has not been written yet
        self.gaps = []            # (first missing seq, last missing seq), to be reported

    def _last_seq(self):
        path = os.path.join(self.directory, journal.CURRENT)
        _, last = journal._first_last(path)
        if last is None:
            rotated = journal.rotated_files(self.directory)
            if rotated:
                _, last = journal._first_last(os.path.join(self.directory, rotated[-1][1]))
        return last or 0

    def read(self):
        """[(seq, line bytes)] of the complete records after the cursor, in order."""
        out = []
        while True:
            if self.file is None and not self._open_next():
                return out
            self._take(self.file.read(), out)
            if self.name == journal.CURRENT and not self._rotated():
                return out
            self._take(self.file.read(), out)    # what was written before the rename
            self._close()     # self.name stays: _open_next goes on from it

    def _take(self, data, out):
        if not data:
            return
        lines = (self.pending + data).split(b"\n")
        self.pending = lines.pop()
        for line in lines:
            seq = journal.line_seq(line)
            if seq is None or seq <= self.cursor:
                continue
            if seq > self.cursor + 1:
                self.gaps.append((self.cursor + 1, seq - 1))
            self.cursor = seq
            out.append((seq, line))

    def _rotated(self):
        try:
            return os.stat(os.path.join(self.directory, journal.CURRENT)).st_ino != self.inode
        except FileNotFoundError:
            return True

    def _open_next(self):
        """Open the file holding cursor + 1 (or the one after the file just read)."""
        previous, self.name = self.name, None
        for _ in range(5):      # the writer may rotate (and remove) between listing and open
            name = self._choose(previous)
            try:
                self.file = open(os.path.join(self.directory, name), "rb")
            except FileNotFoundError:
                continue
            self.name, self.inode = name, os.fstat(self.file.fileno()).st_ino
            self.pending = b""
            return True
        return False

    def _choose(self, previous):
        rotated = journal.rotated_files(self.directory)
        if previous is not None and previous != journal.CURRENT:
            later = [name for _, name in rotated if name > previous]
            return later[0] if later else journal.CURRENT
        want = self.cursor + 1
        holding = [name for first, name in rotated if first <= want]
        if holding:
            return holding[-1]
        return rotated[0][1] if rotated else journal.CURRENT

    def _close(self):
        if self.file is not None:
            self.file.close()
            self.file = None

    def close(self):
        self._close()


class Waker:
    """Wait until the directory changes (inotify), or until ``out_fd`` is closed."""

    def __init__(self, directory):
        self.fd = _inotify_watch(directory)

    def wait(self, timeout=None, out_fd=None):
        """'changed', 'timeout' or 'closed' (the reader of ``out_fd`` went away)."""
        poller = select.poll()
        if self.fd >= 0:
            poller.register(self.fd, select.POLLIN)
        else:
            timeout = POLL_SECS if timeout is None else min(timeout, POLL_SECS)
        if out_fd is not None:
            poller.register(out_fd, 0)    # POLLERR/POLLHUP are always reported
        ready = poller.poll(None if timeout is None else timeout * 1000)
        for fd, mask in ready:
            if fd == out_fd and mask & (select.POLLERR | select.POLLHUP):
                return "closed"
        if self.fd >= 0 and ready:
            try:
                os.read(self.fd, 65536)
            except BlockingIOError:
                pass
            return "changed"
        return "changed" if self.fd < 0 else "timeout"

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _inotify_watch(directory):
    """An inotify descriptor watching ``directory``; -1 where there is none."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, AttributeError):
        return -1
    if fd < 0:
        return -1
    mask = _IN_MODIFY | _IN_MOVED_TO | _IN_CREATE
    if libc.inotify_add_watch(fd, os.fsencode(directory), mask) < 0:
        os.close(fd)
        return -1
    return fd
