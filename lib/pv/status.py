"""The status record and its on-disk forms under ``supervise/``.

``status`` is runit's 20 bytes (the first 18 are daemontools'), so that
svstat, svok and sv read pv unchanged; ``stat`` and ``pid`` are runit's text
files; ``state`` is pv's own, one line of JSON.  Every file is written to a
temporary name and renamed, so a reader never sees half a record.
"""

import json
import os
import struct
from dataclasses import asdict, dataclass, field
from typing import Optional

from pv import tai64n
from pv.servicedir import PID_FILE, STAT_FILE, STATE_FILE, STATUS_FILE
from pv.states import RUNIT_DOWN, RUNIT_FINISH, RUNIT_RUN

STATUS_SIZE = 20
_TAIL = struct.Struct("<LBBBB")   # pid (little-endian), paused, want, term, state
_RUNIT_WORD = {RUNIT_DOWN: "down", RUNIT_RUN: "run", RUNIT_FINISH: "finish"}


@dataclass
class RunitStatus:
    """What the 20-byte ``status`` file holds."""

    changed_ns: int         # wall-clock time of the last state change
    pid: int                # 0 when down; the finish pid while finish runs
    paused: bool
    want_up: bool           # byte 17: 'u' or 'd'
    got_term: bool
    state: int              # RUNIT_DOWN, RUNIT_RUN or RUNIT_FINISH

    def pack(self):
        head = tai64n.from_time_ns(self.changed_ns)
        want = ord("u") if self.want_up else ord("d")
        tail = _TAIL.pack(self.pid, int(self.paused), want, int(self.got_term), self.state)
        return head + tail

    @classmethod
    def unpack(cls, data):
        if len(data) != STATUS_SIZE:
            raise ValueError("status is %d bytes, not %d" % (len(data), STATUS_SIZE))
        secs, nano = tai64n.unpack(data[:12])
        pid, paused, want, term, state = _TAIL.unpack(data[12:])
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


@dataclass
class State:
    """pv's richer record: what ``supervise/state`` holds (pv-run(1))."""

    state: str = "down"
    pid: int = 0
    pid_start: int = 0              # the pid's start time in /proc ticks, to spot reuse
    since: float = 0.0              # wall clock of the last state change
    ready_since: Optional[float] = None
    restarts: int = 0               # runs started after the first
    fails: int = 0                  # quick deaths in a row
    exit_code: Optional[int] = None  # of the last run that ended
    exit_signal: Optional[int] = None
    want: str = "up"
    next_try: Optional[float] = None  # wall clock of the next start, in backoff
    reason: str = ""                # why the last start failed, if it did
    supervisor: int = 0             # pid of the supervisor writing this
    extra: dict = field(default_factory=dict)

    def to_json(self):
        record = asdict(self)
        extra = record.pop("extra")
        record.update(extra)
        return json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text):
        record = json.loads(text)
        known = {name: record.pop(name) for name in list(record)
                 if name in cls.__dataclass_fields__ and name != "extra"}
        return cls(extra=record, **known)


def write_atomic(directory, name, data):
    """Write ``directory/name`` by temp file and rename."""
    path = os.path.join(directory, name)
    temp = path + ".new"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(temp, path)


def write_all(supervise_dir, runit, state):
    """Write status, stat, pid and state for one service."""
    write_atomic(supervise_dir, STATUS_FILE, runit.pack())
    write_atomic(supervise_dir, STAT_FILE, runit.stat_text(state.want).encode())
    pid_text = "%d\n" % runit.pid if runit.pid else ""
    write_atomic(supervise_dir, PID_FILE, pid_text.encode())
    write_atomic(supervise_dir, STATE_FILE, state.to_json().encode())


def read_status(supervise_dir):
    """The RunitStatus in ``supervise_dir``; OSError or ValueError if unreadable."""
    with open(os.path.join(supervise_dir, STATUS_FILE), "rb") as f:
        return RunitStatus.unpack(f.read(STATUS_SIZE + 1))


def read_state(supervise_dir):
    """pv's State in ``supervise_dir``; OSError or ValueError if unreadable."""
    with open(os.path.join(supervise_dir, STATE_FILE), encoding="utf-8") as f:
        return State.from_json(f.readline())
