"""Reading a service's log directory (pv-log / svlogd format) for ``pv-ctl tail``.

The log of service S is ``S/log/main`` (what ``pv-ctl add`` makes), else
``S/log`` itself when it holds a ``current``.  Old lines are in the rotated
``@TAI64N.s`` / ``.u`` files, whose names sort in time order.  Line stamps
(``@4000...`` TAI64N from ``pv-log -t``, UTC from ``-tt``/``-ttt``) are shown
in local time.
"""

import collections
import os
import time

from pv import tai64n, timefmt
from pv.ctl.add import LOG_SUBDIR
from pv.log.logdir import CURRENT
from pv.servicedir import LOG, service_of

POLL_FIRST_SECS = 0.02
POLL_MAX_SECS = 0.5


def log_dir(service):
    """The directory holding the service's ``current``."""
    log = os.path.join(service_of(service), LOG)     # instances share S's log ...
    own = os.path.join(log, "%s-%s" % (LOG_SUBDIR, os.path.basename(service)))
    if service_of(service) != service and os.path.isdir(own):
        return own                                   # ... unless each has its own
    main = os.path.join(log, LOG_SUBDIR)
    if os.path.isdir(main) or not os.path.exists(os.path.join(log, CURRENT)):
        return main
    return log


def rotated(directory):
    """Rotated files, oldest first."""
    names = [n for n in os.listdir(directory)
             if n.startswith("@") and n[-2:] in (".s", ".u")]
    return [os.path.join(directory, n) for n in sorted(names)]


def _local(secs, nanos):
    tm = time.localtime(secs)
    return time.strftime("%Y-%m-%d %H:%M:%S", tm) + ".%06d" % (nanos // 1000)


def render(line):
    """``line`` with a leading TAI64N or pv-log UTC stamp shown in local time."""
    if line.startswith("@") and len(line) >= 25:
        try:
            secs, nanos = tai64n.parse_label(line[:25])
        except ValueError:
            return line
        return _local(secs, nanos) + line[25:]
    if len(line) >= 25 and line[4:5] == "-" and line[10:11] in ("_", "T") \
            and line[19:20] == ".":
        try:
            secs, nanos = timefmt.parse_utc(line[:25])
        except ValueError:
            return line
        return _local(secs, nanos) + line[25:]
    return line


def _decode(data):
    return data.decode("utf-8", "replace")


def last_lines(directory, count):
    """The last ``count`` lines of the log (rotated files, then current; a partial last line counts)."""
    files = rotated(directory) + [os.path.join(directory, CURRENT)]
    found = collections.deque(maxlen=count)
    needed = count
    chunks = []
    for path in reversed(files):
        if needed <= 0:
            break
        try:
            with open(path, "rb") as f:
                tail = collections.deque(f, maxlen=needed)
        except FileNotFoundError:
            continue
        chunks.append(list(tail))
        needed -= len(tail)
    for chunk in reversed(chunks):
        found.extend(_decode(line).rstrip("\n") for line in chunk)
    return list(found)


class Follower:
    """Follows ``current`` across rotation (inode change) and truncation.

    ``lines()`` yields each new complete line; it polls with back-off, from
    POLL_FIRST_SECS to POLL_MAX_SECS, resetting whenever data arrives.
    """

    def __init__(self, directory, from_end=True):
        self.path = os.path.join(directory, CURRENT)
        self.file = None
        self.partial = b""
        self._open(from_end)

    def _open(self, at_end):
        try:
            self.file = open(self.path, "rb")
        except FileNotFoundError:
            self.file = None
            return
        if at_end:
            self.file.seek(0, os.SEEK_END)

    def _replaced(self):
        """True if ``current`` is now another file, or was truncated."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False          # mid-rotation: keep reading the old one
        if self.file is None:
            return True
        mine = os.fstat(self.file.fileno())
        return st.st_ino != mine.st_ino or st.st_dev != mine.st_dev \
            or st.st_size < self.file.tell()

    def poll(self):
        """The complete lines available now."""
        out = []
        if self.file is not None:
            out += self._read()
        if self._replaced():
            if self.file is not None:
                out += self._read()     # what was written before the rename
                self.file.close()
            self._open(at_end=False)
            if self.file is not None:
                out += self._read()
        return out

    def _read(self):
        data = self.partial + self.file.read()
        lines = data.split(b"\n")
        self.partial = lines.pop()
        return [_decode(line) for line in lines]

    def lines(self, until=None):
        """Yield new lines until ``until()`` is true (forever if None)."""
        delay = POLL_FIRST_SECS
        while until is None or not until():
            got = self.poll()
            for line in got:
                yield line
            delay = POLL_FIRST_SECS if got else min(delay * 2, POLL_MAX_SECS)
            time.sleep(delay)

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None
