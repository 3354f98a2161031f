"""A service's log (``current`` of its pv-log directory) read by byte offset.

``read`` and ``tail`` answer Supervisor's readProcessStdoutLog and
tailProcessStdoutLog; ``follow`` yields what is appended, across rotation,
until the client goes away -- the stream behind ``tail -f``.
"""

import os
import select

from pv.ctl import tail as ctl_tail

MAX_READ = 1 << 20          # one answer carries at most 1 MiB
FIRST_TAIL = 1024           # what a follow shows of the past first
POLL_FIRST_SECS = 0.05
POLL_MAX_SECS = 1.0


class BadArguments(ValueError):
    pass


def current_path(service_path):
    return os.path.join(ctl_tail.log_dir(service_path), ctl_tail.CURRENT)


def read(path, offset, length):
    """Bytes of ``path``: ``offset < 0`` is the last -offset bytes (length must be 0).

    OSError if the file cannot be read; BadArguments for a negative length
    or a negative offset with a length.
    """
    if length < 0 or (offset < 0 and length):
        raise BadArguments("BAD_ARGUMENTS")
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        if offset < 0:
            start, count = max(0, size + offset), -offset
        else:
            start, count = offset, length or size
        f.seek(start)
        return f.read(min(count, MAX_READ))


def tail(path, offset, length):
    """[text, new offset, overflow]: up to ``length`` bytes after ``offset``.

    When more than ``length`` bytes wait, only the last ``length`` are sent
    and overflow is true -- the caller has fallen behind.  A missing file is
    ["", offset, False].
    """
    length = max(0, min(length, MAX_READ))
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            overflow = size > offset + length
            start = max(0, size - length) if overflow or offset > size else offset
            f.seek(start)
            data = f.read(min(length, size - start)) if length else b""
    except OSError:
        return ["", offset, False]
    return [data.decode("utf-8", "replace"), size, overflow]


def client_gone(sock):
    """True if the client has hung up; anything it sent meanwhile is discarded."""
    try:
        return sock.recv(4096) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True


def gone(sock):
    """Without waiting: whether the client of ``sock`` has hung up."""
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable) and client_gone(sock)


def nothing(sock):
    """An empty stream that lasts until the client hangs up (``stderr``: pv has none)."""
    while True:
        select.select([sock], [], [])
        if client_gone(sock):
            return
        yield b""


class Follow:
    """New bytes of a log, following ``current`` when pv-log rotates it."""

    def __init__(self, path, backlog=FIRST_TAIL):
        self.path = path
        self.file = None
        self.ino = None
        self.backlog = backlog

    def _reopen(self):
        try:
            st = os.stat(self.path)
        except OSError:
            return
        if self.file is not None and (st.st_ino == self.ino and st.st_size >= self.file.tell()):
            return
        if self.file is not None:
            self.file.close()
        self.file = open(self.path, "rb")
        self.ino = st.st_ino
        if self.backlog is not None:
            self.file.seek(max(0, st.st_size - self.backlog))
            self.backlog = None

    def poll(self):
        """The bytes available now (b"" if none)."""
        data = self.file.read(MAX_READ) if self.file is not None else b""
        before = self.file
        self._reopen()
        if self.file is not before and self.file is not None:
            data += self.file.read(MAX_READ)
        return data

    def chunks(self, sock):
        """Yield data as it comes, until the client on ``sock`` goes away.

        Polls with back-off; the wait is a select on the client's socket,
        so a client that hangs up ends the stream at once.
        """
        self._reopen()
        delay = POLL_FIRST_SECS
        while True:
            data = self.poll()
            if data:
                yield data
                delay = POLL_FIRST_SECS
                continue
            readable, _, _ = select.select([sock], [], [], delay)
            if readable and client_gone(sock):
                return
            delay = min(delay * 2, POLL_MAX_SECS)

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None
