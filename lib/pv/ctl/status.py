"""pv-ctl's view of services: one Row per service, as a table, JSON or a check.

Rows are built only from the library's readers (``control.is_supervised``,
``status.Reader``); nothing here opens a supervise file itself.
"""

import os
import time

from pv import control
from pv.diag import PvError, printable
from pv.status import Reader
from pv.supervise.states import FAILED_PHASES, MOVING_PHASES, UP_PHASES, Phase, Want

DOWN_WORDS = (Phase.DOWN,) + FAILED_PHASES     # no pid worth showing
NOT_SUPERVISED = "unsupervised"
UNREADABLE = "unknown"

# LSB / supervisorctl status exit codes.
STATUS_ALL_UP = 0
STATUS_NOT_RUNNING = 3
STATUS_UNKNOWN = 4

# Nagios plugin API.
CHECK_OK, CHECK_WARNING, CHECK_CRITICAL, CHECK_UNKNOWN = 0, 1, 2, 3
CHECK_WORDS = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}

_COLOURS = {Phase.RUNNING: "32", Phase.READY: "32", Phase.STARTING: "33", Phase.STOPPING: "33",
            Phase.FINISHING: "33", Phase.BACKOFF: "33", Phase.FATAL: "31", NOT_SUPERVISED: "31",
            UNREADABLE: "31"}


class Row:
    """What pv-ctl shows for one service."""

    __slots__ = ("name", "path", "state", "pid", "since", "want", "exit_code",
                 "exit_signal", "next_try", "reason", "restarts", "paused")

    def __init__(self, name, path, state):
        self.name, self.path, self.state = name, path, state
        self.pid = 0
        self.since = self.next_try = None
        self.want = ""
        self.exit_code = self.exit_signal = None
        self.reason = ""
        self.restarts = 0
        self.paused = False

    def is_up(self):
        return self.state in UP_PHASES

    def as_dict(self, now):
        record = {name: getattr(self, name) for name in self.__slots__}
        record["uptime"] = round(now - self.since, 3) if self.since else None
        # An unreadable record is still a supervised service: is_supervised said so.
        record["supervised"] = self.state != NOT_SUPERVISED
        return record


def read_rows(targets):
    """The Rows of ``targets``, in order, read with one Reader."""
    reader = Reader()
    return [read_row(target, reader) for target in targets]


def read_row(target, reader=None):
    """The Row of one ``Target``; never raises for a service's own trouble."""
    if not control.is_supervised(target.path):
        return Row(target.name, target.path, NOT_SUPERVISED)
    try:
        state, runit = (reader or Reader()).records(target.path)
    except PvError as exc:
        row = Row(target.name, target.path, UNREADABLE)
        row.reason = exc.reason
        return row
    row = Row(target.name, target.path, state.state)
    row.pid = state.pid or runit.pid
    row.since = state.since or runit.changed_ns / 1e9
    row.want, row.restarts, row.paused = state.want, state.restarts, runit.paused
    row.exit_code, row.exit_signal = state.exit_code, state.exit_signal
    row.next_try, row.reason = state.next_try, state.reason
    return row


def status_code(rows, unknown_names=()):
    """0 all up, 3 some not running, 4 some unknown or not supervised (worst wins)."""
    if unknown_names or any(r.state in (NOT_SUPERVISED, UNREADABLE) for r in rows):
        return STATUS_UNKNOWN
    if not all(r.is_up() for r in rows):
        return STATUS_NOT_RUNNING
    return STATUS_ALL_UP


def duration(secs):
    """A short duration: 42s, 5m03s, 2h05m, 3d04h."""
    secs = max(0, int(secs))
    if secs < 60:
        return "%ds" % secs
    if secs < 3600:
        return "%dm%02ds" % divmod(secs, 60)
    if secs < 86400:
        return "%dh%02dm" % (secs // 3600, secs % 3600 // 60)
    return "%dd%02dh" % (secs // 86400, secs % 86400 // 3600)


def last_exit(row):
    """``exit 1`` or ``killed by SIGSEGV``; "" if no run has ended."""
    if row.exit_signal:
        import signal
        try:
            name = signal.Signals(row.exit_signal).name
        except ValueError:
            name = "signal %d" % row.exit_signal
        return "killed by " + name
    if row.exit_code is not None:
        return "exit %d" % row.exit_code
    return ""


def explain(row, now):
    """Why an unhappy service is unhappy, as one short phrase ("" if it is not)."""
    if row.state in (NOT_SUPERVISED, UNREADABLE):
        return row.reason or ("supervisor not running" if row.state == NOT_SUPERVISED else "")
    parts = []
    down_but_up = row.state == Phase.DOWN and row.want == Want.UP
    if row.state in FAILED_PHASES or down_but_up:
        parts += [last_exit(row), row.reason]
    if row.state == Phase.BACKOFF and row.next_try:
        parts.append("next try in %s" % duration(row.next_try - now + 0.999))
    if row.state == Phase.FATAL:
        parts.append("gave up; start it to retry")
    if down_but_up:
        parts.append("want up")
    elif row.state not in DOWN_WORDS and row.want != Want.UP:
        parts.append("want " + row.want)
    if row.paused:
        parts.append("paused")
    return "; ".join(p for p in parts if p)


def _cells(row, now):
    pid = str(row.pid) if row.pid and row.state not in DOWN_WORDS else "-"
    uptime = duration(now - row.since) if row.since else "-"
    return [printable(row.name), row.state, pid, uptime, printable(explain(row, now))]


def table(rows, now=None, colour=False):
    """Aligned lines: NAME STATE PID UPTIME [WHY]."""
    now = time.time() if now is None else now
    cells = [_cells(row, now) for row in rows]
    widths = [max([len(c[i]) for c in cells] + [1]) for i in range(4)]
    lines = []
    for c in cells:
        state = c[1].ljust(widths[1])
        if colour and c[1] in _COLOURS:
            state = "\033[%sm%s\033[0m" % (_COLOURS[c[1]], state)
        text = "%s  %s  %s  %s  %s" % (c[0].ljust(widths[0]), state, c[2].rjust(widths[2]),
                                       c[3].rjust(widths[3]), c[4])
        lines.append(text.rstrip())
    return lines


def as_json(rows, now=None):
    import json
    now = time.time() if now is None else now
    return json.dumps([row.as_dict(now) for row in rows], indent=1, sort_keys=True)


def want_colour(stream, environ=None):
    environ = os.environ if environ is None else environ
    if "NO_COLOR" in environ or environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def check(rows, unknown_names=()):
    """(exit code, one line) for a Nagios/Icinga check over ``rows``."""
    up = [r for r in rows if r.is_up()]
    bad = [r for r in rows if r.state in FAILED_PHASES + (NOT_SUPERVISED, UNREADABLE)
           or (r.state == Phase.DOWN and r.want == Want.UP)]
    moving = [r for r in rows if r.state in MOVING_PHASES]
    resting = [r for r in rows if r.state == Phase.DOWN and r.want != Want.UP]
    perf = " | up=%d;;;0;%d total=%d" % (len(up), len(rows), len(rows))
    if unknown_names or not rows:
        what = ("no such service: " + printable(", ".join(unknown_names))) if unknown_names \
            else "no services"
        return CHECK_UNKNOWN, "PV UNKNOWN - " + what
    if bad:
        code, shown = CHECK_CRITICAL, bad
    elif moving:
        code, shown = CHECK_WARNING, moving
    else:
        note = ", %d down by request" % len(resting) if resting else ""
        return CHECK_OK, "PV OK - %d/%d up%s%s" % (len(up), len(rows), note, perf)
    now = time.time()
    words = []
    for r in shown:
        why = explain(r, now)
        words.append("%s %s%s" % (printable(r.name), r.state, " (%s)" % why if why else ""))
    return code, "PV %s - %s%s" % (CHECK_WORDS[code], ", ".join(words), perf)
