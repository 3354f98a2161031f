"""The writer of an events directory: ``current`` and rotated ``@SEQ.s`` files.

Each record is one line of JSON written by one ``write(2)`` on a descriptor
opened with O_APPEND: a reader never sees half a record unless the machine
itself stops mid-write, and the supervisor never waits for a reader, because
it never talks to one.  Readers learn of new lines from inotify on the
directory (pv.events.reader); the writer neither pokes nor wakes anyone.

``current`` is renamed to ``@<first seq, 20 digits>.s`` once it holds ``size``
bytes, and the oldest rotated files beyond ``keep`` are removed, as pv-log
does with its log directories; naming the files by their first sequence
number (rather than pv-log's TAI64N stamp) lets a reader with a cursor find
its file from the names alone.  Records are not fsync'd: they survive the
supervisor's crash, not the machine's.  See pv-events(5).
"""

import os

CURRENT = "current"
CONFIG = "config"
ROTATED_PREFIX = "@"
ROTATED_SUFFIX = ".s"
DEFAULT_SIZE = 1000000       # bytes in current before rotation
DEFAULT_KEEP = 10            # rotated files kept
MIN_SIZE = 4096
TAIL_BYTES = 65536           # enough to hold the last record when recovering

_QUOTE = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def rotated_name(first_seq):
    return "%s%020d%s" % (ROTATED_PREFIX, first_seq, ROTATED_SUFFIX)


def rotated_seq(name):
    """The first sequence number of a rotated file's name, or None."""
    if not (name.startswith(ROTATED_PREFIX) and name.endswith(ROTATED_SUFFIX)):
        return None
    digits = name[len(ROTATED_PREFIX):-len(ROTATED_SUFFIX)]
    return int(digits) if digits.isdigit() else None


def rotated_files(directory):
    """[(first seq, name)] of the rotated files, oldest first."""
    found = []
    for name in os.listdir(directory):
        seq = rotated_seq(name)
        if seq is not None:
            found.append((seq, name))
    return sorted(found)


def line_seq(line):
    """The sequence number a record line starts with (``{"seq":N,``), or None."""
    if not line.startswith(b'{"seq":'):
        return None
    digits = line[7:line.find(b",", 7)]
    return int(digits) if digits.isdigit() else None


def quote(text):
    """``text`` as a JSON string (the few characters names and reasons can hold)."""
    # The common case (a plain name) is checked in C; the loop is for the rest.
    if not (text.isprintable() and '"' not in text and "\\" not in text):
        text = "".join(_QUOTE.get(ch) or ("\\u%04x" % ord(ch) if ch < " " else ch)
                       for ch in text)
    return '"' + text + '"'


def value(item):
    if item is None:
        return "null"
    if item is True or item is False:
        return "true" if item else "false"
    if isinstance(item, str):
        return quote(item)
    if isinstance(item, float):
        return "%.6f" % item
    return "%d" % item


def read_config(directory):
    """(size, keep) from the directory's ``config`` (svlogd's ``sSIZE``/``nNUM`` lines)."""
    size, keep = DEFAULT_SIZE, DEFAULT_KEEP
    try:
        with open(os.path.join(directory, CONFIG)) as f:
            lines = f.read(4096).splitlines()
    except OSError:
        return size, keep
    for line in lines:
        if line[1:].isdigit() and line[:1] == "s":
            size = max(int(line[1:]), MIN_SIZE)
        elif line[1:].isdigit() and line[:1] == "n":
            keep = max(int(line[1:]), 1)
    return size, keep


class Journal:
    """Appends records to ``directory``; ``append`` returns the record's seq."""

    def __init__(self, directory, clock):
        self.directory = directory
        self.clock = clock            # time.time, or a fake in tests
        self.size, self.keep = read_config(directory)
        self.fd = -1
        self.seq = 0                  # the last sequence number written
        self.first = 0                # the first sequence number in current
        self.written = 0              # bytes in current
        self.failed = None            # the strerror of the last failed write, if any

    def open(self):
        """Create the directory and recover the last sequence number; OSError if impossible."""
        os.makedirs(self.directory, mode=0o755, exist_ok=True)
        path = os.path.join(self.directory, CURRENT)
        self.fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        self.written = _drop_torn_tail(self.fd)
        self.first, self.seq = _first_last(path)
        if self.seq is None:        # current is empty: continue from the newest rotated file
            rotated = rotated_files(self.directory)
            last = None
            if rotated:
                _, last = _first_last(os.path.join(self.directory, rotated[-1][1]))
            self.first, self.seq = None, last or 0

    def append(self, event, service="", pid=0, frm="", to="", instance=None, **fields):
        """Write one record; never raises (a failure is kept in ``failed``)."""
        seq = self.seq + 1
        text = '{"seq":%d,"time":%.6f,"event":"%s","service":%s%s,"pid":%d,"from":"%s",' \
            '"to":"%s"' % (seq, self.clock(), event, quote(service),
                           "" if instance is None else ',"instance":%d' % instance, pid, frm, to)
        for key, item in fields.items():
            text += ',"%s":%s' % (key, value(item))
        data = (text + "}\n").encode("utf-8", "surrogateescape")
        try:
            if self.written >= self.size:
                self._rotate()
            os.write(self.fd, data)
        except OSError as exc:
            # The sequence number is spent all the same: readers see the gap.
            self.seq = seq
            self.failed = exc.strerror
            return seq
        self.seq = seq
        self.failed = None
        if self.first is None:
            self.first = seq
        self.written += len(data)
        return seq

    def _rotate(self):
        current = os.path.join(self.directory, CURRENT)
        if self.first is not None:
            os.rename(current, os.path.join(self.directory, rotated_name(self.first)))
        fd = os.open(current, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        os.close(self.fd)
        self.fd, self.first, self.written = fd, None, 0
        rotated = rotated_files(self.directory)
        for _, name in rotated[:max(0, len(rotated) - self.keep)]:
            try:
                os.unlink(os.path.join(self.directory, name))
            except FileNotFoundError:
                pass

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _drop_torn_tail(fd):
    """Cut a last line left without its newline by a crash; the size that remains."""
    size = os.fstat(fd).st_size
    if size == 0:
        return 0
    start = max(0, size - TAIL_BYTES)
    tail = os.pread(fd, size - start, start)
    if tail.endswith(b"\n"):
        return size
    keep = start + tail.rfind(b"\n") + 1 if b"\n" in tail else start
    os.ftruncate(fd, keep)
    return keep


def _first_last(path):
    """(first seq, last seq) of a journal file; (None, None) when it has no record."""
    try:
        with open(path, "rb") as f:
            first = line_seq(f.readline())
            size = os.fstat(f.fileno()).st_size
            f.seek(max(0, size - TAIL_BYTES))
            lines = f.read().splitlines()
    except OSError:
        return None, None
    for line in reversed(lines):
        last = line_seq(line)
        if last is not None:
            return first, last
    return None, None
