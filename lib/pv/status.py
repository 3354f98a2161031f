"""The status record and its on-disk forms under ``supervise/``.

``status`` is runit's 20 bytes (the first 18 are daemontools'), so that
svstat, svok and sv read pv unchanged; ``stat`` and ``pid`` are runit's text
files; ``state`` is pv's own, one line of JSON.  Every file is written to a
temporary name and renamed, so a reader never sees half a record.
"""

import posix        # not os (nor struct): pv-svc judges its wait without them (pv.layout)

from pv import tai64n
from pv.diag import NotSupervised, TempError, reason_of
from pv.layout import PID_FILE, STAT_FILE, STATE_FILE, STATUS_FILE, SUPERVISE, join

# runit's status byte 19: 0 down, 1 run, 2 finish.
RUNIT_DOWN, RUNIT_RUN, RUNIT_FINISH = 0, 1, 2

STATUS_SIZE = 20
STATE_MAX = 65536          # a state line is a few hundred bytes
_SUPERVISE_SLASH = "/" + SUPERVISE + "/"
_RUNIT_WORD = {RUNIT_DOWN: "down", RUNIT_RUN: "run", RUNIT_FINISH: "finish"}


class RunitStatus:
    """What the 20-byte ``status`` file holds."""

    __slots__ = ("changed_ns", "pid", "paused", "want_up", "got_term", "state")

    def __init__(self, changed_ns, pid, paused, want_up, got_term, state):
        self.changed_ns = changed_ns  # wall-clock time of the last state change
        self.pid = pid                # 0 when down; the finish pid while finish runs
        self.paused = paused
        self.want_up = want_up        # byte 17: 'u' or 'd'
        self.got_term = got_term
        self.state = state            # RUNIT_DOWN, RUNIT_RUN or RUNIT_FINISH

    def __eq__(self, other):
        return isinstance(other, RunitStatus) and all(
            getattr(self, name) == getattr(other, name) for name in self.__slots__)

    def pack(self):
        head = tai64n.from_time_ns(self.changed_ns)
        want = ord("u") if self.want_up else ord("d")
        # Then the pid (little-endian, 4 bytes), paused, want, term, state.
        tail = bytes((int(self.paused), want, int(self.got_term), self.state))
        return head + self.pid.to_bytes(4, "little") + tail

    @classmethod
    def unpack(cls, data):
        if len(data) != STATUS_SIZE:
            raise ValueError("status is %d bytes, not %d" % (len(data), STATUS_SIZE))
        secs, nano = tai64n.unpack(data)
        pid = int.from_bytes(data[12:16], "little")
        paused, want, term, state = data[16:20]
        return cls(secs * 1_000_000_000 + nano, pid, bool(paused),
                   want == ord("u"), bool(term), state)

    def stat_text(self, want_word):
        """runit's ``stat``: ``run``, ``down`` or ``finish`` and qualifiers."""
        text = _RUNIT_WORD.get(self.state, "down")
        if self.paused:
            text += ", paused"
        if self.got_term:
            text += ", got TERM"
        want_word = "down" if want_word == "once" else want_word
        if self.state != RUNIT_DOWN and want_word in ("down", "exit"):
            text += ", want " + want_word
        return text + "\n"


class State:
    """pv's richer record: what ``supervise/state`` holds (pv-run(1))."""

    # name -> default; the order is the order of pv-run(1)'s description
    FIELDS = {
        "state": "down",
        "pid": 0,
        "pid_start": 0,         # the pid's start time in /proc ticks, to spot reuse
        "since": 0.0,           # wall clock of the last state change
        "ready_since": None,
        "restarts": 0,          # runs started again after one ended
        "fails": 0,             # quick deaths (failed starts) in a row
        "exit_code": None,      # of the last run that ended
        "exit_signal": None,
        "want": "up",
        "next_try": None,       # wall clock of the next start, in backoff
        "reason": "",           # why the last start failed, if it did
        "supervisor": 0,        # pid of the supervisor writing this
        "config": "",           # servicedir.config_digest() when the run started
        "readiness": "",        # the method the run declared: notification-fd, sd-notify, check
        "status": "",           # the last STATUS= the service sent (sd-notify)
    }
    __slots__ = tuple(FIELDS) + ("extra",)

    def __init__(self, extra=None, **values):
        for name, default in self.FIELDS.items():
            setattr(self, name, values.pop(name, default))
        if values:
            raise TypeError("unknown State fields: %s" % ", ".join(sorted(values)))
        self.extra = dict(extra or {})   # keys from a newer pv, kept as they are

    def __eq__(self, other):
        return isinstance(other, State) and all(
            getattr(self, name) == getattr(other, name) for name in self.__slots__)

    def as_dict(self):
        record = dict(self.extra)
        record.update((name, getattr(self, name)) for name in self.FIELDS)
        return record

    def to_json(self):
        from pv import jsonline     # not loaded by pv-ctl status, which reads with _json
        return jsonline.dumps(self.as_dict()) + "\n"

    @classmethod
    def from_json(cls, text):
        from pv import jsonline
        record = jsonline.loads(text)
        if not isinstance(record, dict):
            raise ValueError("state is not a JSON object")
        return cls.from_record(record)

    @classmethod
    def from_record(cls, record):
        """The State of a decoded record; ``record`` (a dict) is kept as ``extra``,
        less the fields.  One pop per field, no keyword dict: pv-ctl status
        makes 1,000 of these."""
        self = cls.__new__(cls)
        pop = record.pop
        for name, default in cls.FIELDS.items():
            setattr(self, name, pop(name, default))
        self.extra = record
        return self


def write_atomic(directory, name, data):
    """Write ``directory/name`` by temp file and rename."""
    path = join(directory, name)
    temp = path + ".new"
    fd = posix.open(temp, posix.O_WRONLY | posix.O_CREAT | posix.O_TRUNC, 0o644)
    try:
        posix.write(fd, data)
    finally:
        posix.close(fd)
    posix.rename(temp, path)      # os.replace's call on POSIX


def records(runit, state):
    """{file name: bytes} of the four records of one service."""
    pid_text = "%d\n" % runit.pid if runit.pid else ""
    return {STATUS_FILE: runit.pack(), STAT_FILE: runit.stat_text(state.want).encode(),
            PID_FILE: pid_text.encode(), STATE_FILE: state.to_json().encode()}


def write_all(supervise_dir, runit, state, last=None):
    """Write status, stat, pid and state for one service.

    With ``last`` (file name -> bytes last written, updated here), a file
    whose content did not change is not written again: each write is a
    create and a rename, and pv-scan stopping 1000 services does 8000.
    The state file is written last, so a reader that sees a new state also
    sees the status written with it.
    """
    for name, data in records(runit, state).items():
        if last is not None and last.get(name) == data:
            continue
        write_atomic(supervise_dir, name, data)
        if last is not None:
            last[name] = data


def read_status(supervise_dir):
    """The RunitStatus in ``supervise_dir``; OSError or ValueError if unreadable."""
    with open(join(supervise_dir, STATUS_FILE), "rb") as f:
        return RunitStatus.unpack(f.read(STATUS_SIZE + 1))


def read_state(supervise_dir):
    """pv's State in ``supervise_dir``; OSError or ValueError if unreadable."""
    with open(join(supervise_dir, STATE_FILE), encoding="utf-8") as f:
        return State.from_json(f.readline())


class _ScanContext:
    """What the json package's C scanner asks of its decoder: plain JSON."""
    strict = True
    object_hook = object_pairs_hook = None
    parse_float, parse_int = float, int

    @staticmethod
    def parse_constant(name):
        raise ValueError("not JSON: %s" % name)


class Reader:
    """Reads the records of services, one after another, as cheaply as Python can.

    ``pv-ctl status`` over 1,000 services reads 2,000 records.  Each is one
    open(2) and one read(2) (a file object costs more than the read), and a
    state line goes through the json package's C scanner (``_json``: the
    json package itself would load ``re``), made once per Reader.  Where
    there is no ``_json``, pv.jsonline serves, 100 times slower.
    """

    __slots__ = ("_scan",)

    def __init__(self):
        try:
            from _json import make_scanner
        except ImportError:
            self._scan = None
        else:
            self._scan = make_scanner(_ScanContext)

    def state(self, line):
        """The State of one ``state`` line; ValueError if it is not one JSON object."""
        if self._scan is None:
            return State.from_json(line)
        try:
            record, end = self._scan(line, 0)
        except (StopIteration, RecursionError):
            raise ValueError("state is not JSON") from None
        except SystemError:
            # Before Python 3.12, _json raises its errors (an unterminated
            # string: a half-written record) as json.decoder.JSONDecodeError
            # found in sys.modules only; without the json package loaded, the
            # scanner fails with "returned NULL without setting an exception".
            raise ValueError("state is not JSON") from None
        if type(record) is not dict or (end != len(line) and line[end:].strip()):
            raise ValueError("state is not one JSON object")
        return State.from_record(record)

    def records(self, service):
        """(State, RunitStatus) of ``service``; NotSupervised or TempError if unreadable."""
        state = self.state_of(service)
        try:
            runit = _read(service + _SUPERVISE_SLASH + STATUS_FILE, STATUS_SIZE + 1)
            return state, RunitStatus.unpack(runit)
        except (OSError, ValueError) as exc:
            raise _unreadable(service, exc) from None

    def state_of(self, service):
        """The State of ``service`` from one read of ``state`` alone (all a
        wait judges by); NotSupervised or TempError if unreadable."""
        try:
            # concatenation: os.path.join costs more than the read
            line = _read(service + _SUPERVISE_SLASH + STATE_FILE, STATE_MAX)
            end = line.find(b"\n")
            return self.state((line if end < 0 else line[:end]).decode("utf-8"))
        except (OSError, ValueError) as exc:    # UnicodeDecodeError is a ValueError
            raise _unreadable(service, exc) from None


def _unreadable(service, exc):
    """The error a failed read of ``service``'s records stands for."""
    if isinstance(exc, FileNotFoundError):
        return NotSupervised(service)
    if isinstance(exc, OSError):
        return TempError("read status of", service, reason_of(exc))
    return TempError("read status of", service, "bad format")


def _read(path, limit):
    fd = posix.open(path, posix.O_RDONLY | posix.O_CLOEXEC)
    try:
        return posix.read(fd, limit)
    finally:
        posix.close(fd)
