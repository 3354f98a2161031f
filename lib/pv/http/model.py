"""The services of a scan directory as Supervisor's clients see them.

A pv service NAME is a Supervisor process NAME in the group named by its
``group`` file, or in a group of its own called NAME when it has none (as
supervisord does for a ``[program:NAME]``).  An ``instances`` directory
gives processes ``NAME:0``, ``NAME:1``... in group NAME (or its ``group``).
"""

import datetime
import os
import time

from pv import control
from pv.ctl import names as ctl_names
from pv.ctl import status as ctl_status
from pv.ctl import tail as ctl_tail
from pv.layout import STATE_FILE, STATUS_FILE, supervise_dir
from pv.status import Reader

# Supervisor's process states (supervisor/states.py), by name.
STOPPED, STARTING, RUNNING, BACKOFF, STOPPING = 0, 10, 20, 30, 40
EXITED, FATAL, UNKNOWN = 100, 200, 1000
STATE_NAMES = {STOPPED: "STOPPED", STARTING: "STARTING", RUNNING: "RUNNING",
               BACKOFF: "BACKOFF", STOPPING: "STOPPING", EXITED: "EXITED",
               FATAL: "FATAL", UNKNOWN: "UNKNOWN"}
# pv's state -> Supervisor's (``down`` depends on want; see supervisor_state).
PV_TO_SUPERVISOR = {"starting": STARTING, "running": RUNNING, "ready": RUNNING,
                    "stopping": STOPPING, "finishing": STOPPING, "backoff": BACKOFF,
                    "fatal": FATAL, ctl_status.NOT_SUPERVISED: UNKNOWN,
                    ctl_status.UNREADABLE: UNKNOWN}
RUNNING_STATES = (RUNNING, BACKOFF, STARTING)
SIGNALLABLE_STATES = (RUNNING, STARTING, STOPPING)
STOPPED_STATES = (STOPPED, EXITED, FATAL, UNKNOWN)
XMLRPC_INT_MAX = 2 ** 31 - 1


class Entry:
    """One Supervisor process: its group, name and pv target."""

    __slots__ = ("group", "name", "target")

    def __init__(self, group, name, target):
        self.group, self.name, self.target = group, name, target

    @property
    def namespec(self):
        return self.name if self.group == self.name else "%s:%s" % (self.group, self.name)


def entries(scandir):
    """Every process of ``scandir``, sorted by (group, name) as supervisorctl shows them."""
    found = []
    for name in ctl_names.list_or_empty(scandir):
        path = os.path.join(scandir, name)
        group = ctl_names.group_of(path) or name
        for target in ctl_names.instances_of(ctl_names.Target(name, path)):
            found.append(Entry(group, target.name, target))
    found.sort(key=lambda e: (e.group, e.name))
    return found


def find(all_entries, namespec):
    """(entries, is_group) for ``GROUP:*``, ``GROUP:NAME``, ``NAME`` or ``GROUP``.

    A bare word is a process name first, then a group name; nothing found
    gives an empty list.
    """
    group, sep, rest = namespec.partition(":")
    if sep and rest in ("", "*"):
        return [e for e in all_entries if e.group == group], True
    if sep:
        hits = [e for e in all_entries if e.group == group and e.name == rest]
        if hits:
            return hits, False
        # pv's own instance names: NAME:k
        return [e for e in all_entries if e.name == namespec], False
    hits = [e for e in all_entries if e.name == namespec]
    return hits, False


def find_group(all_entries, name):
    """The entries of group ``name``, or of the service ``name`` when no group has it."""
    hits = [e for e in all_entries if e.group == name]
    return hits or [e for e in all_entries if e.name == name]


def supervisor_state(row):
    """Supervisor's state code for a pv status row (the table in pv-http(1))."""
    if row.state == "down":
        exited = row.want != "down" and (row.exit_code is not None or row.exit_signal)
        return EXITED if exited else STOPPED
    return PV_TO_SUPERVISOR.get(row.state, UNKNOWN)


def capped(secs):
    return max(0, min(int(secs or 0), XMLRPC_INT_MAX))


def uptime_text(secs):
    """``0:00:05`` or ``2 days, 3:04:05``: what str(timedelta) gives supervisorctl."""
    return str(datetime.timedelta(seconds=max(0, int(secs))))


def description(code, row, now):
    if code == RUNNING:
        return "pid %d, uptime %s" % (row.pid, uptime_text(now - (row.since or now)))
    if code in (FATAL, BACKOFF):
        return ctl_status.explain(row, now) or "unknown error (try \"tail %s\")" % row.name
    if code in (STOPPED, EXITED):
        if row.since and (row.exit_code is not None or row.exit_signal or row.restarts):
            return time.strftime("%b %d %I:%M %p", time.localtime(row.since))
        return "Not started"
    if code == UNKNOWN:
        return ctl_status.explain(row, now)
    return ""


def log_file(entry):
    path = os.path.join(ctl_tail.log_dir(entry.target.path), ctl_tail.CURRENT)
    return path if os.path.exists(path) else ""


def info(entry, row=None, now=None, logfile=None):
    """Supervisor's getProcessInfo struct for one entry."""
    row = ctl_status.read_row(entry.target) if row is None else row
    now = time.time() if now is None else now
    code = supervisor_state(row)
    running = code in (RUNNING, STARTING, STOPPING, BACKOFF) and code != BACKOFF
    started = row.since if (running or row.exit_code is not None or row.exit_signal
                            or row.restarts) else 0
    logfile = log_file(entry) if logfile is None else logfile
    return {
        "name": entry.name, "group": entry.group,
        "start": capped(started), "stop": 0 if running else capped(row.since if started else 0),
        "now": capped(now), "state": code, "statename": STATE_NAMES[code],
        "spawnerr": row.reason if code in (FATAL, BACKOFF) else "",
        "exitstatus": row.exit_code or 0,
        "logfile": logfile, "stdout_logfile": logfile, "stderr_logfile": "",
        "pid": row.pid if running else 0,
        "description": description(code, row, now),
    }


def state_of(entry):
    """(Supervisor state code, row) of one entry, read now."""
    row = ctl_status.read_row(entry.target)
    return supervisor_state(row), row


class RowCache:
    """Rows kept while the service's records are unchanged.

    The supervisor replaces ``supervise/state`` and ``supervise/status`` by
    rename at each change, so a record whose (inode, mtime) pair is the
    same as last time holds the same row: two stat() calls instead of a
    read and a parse.  Whether a supervisor runs is asked every time.
    """

    MAX_ENTRIES = 65536

    def __init__(self):
        self.rows = {}
        self.reader = Reader()     # one JSON scanner for every read

    @staticmethod
    def _key(path):
        where = os.path.join(supervise_dir(path), "")
        try:
            a = os.stat(where + STATE_FILE)
            b = os.stat(where + STATUS_FILE)
        except OSError:
            return None
        return (a.st_ino, a.st_mtime_ns, b.st_ino, b.st_mtime_ns)

    def read(self, target):
        return self.read_with_log(Entry("", target.name, target))[0]

    def read_with_log(self, entry):
        """(row, log file path or "") of an entry; the log path is kept with the row."""
        target = entry.target
        key = self._key(target.path)
        cached = self.rows.get(target.path)
        if key is not None and cached is not None and cached[0] == key \
                and cached[1].name == target.name and control.is_supervised(target.path):
            return cached[1], cached[2]
        row, logfile = ctl_status.read_row(target, self.reader), log_file(entry)
        if key is not None and row.state not in (ctl_status.NOT_SUPERVISED,
                                                 ctl_status.UNREADABLE):
            if len(self.rows) >= self.MAX_ENTRIES:
                self.rows.clear()
            self.rows[target.path] = (key, row, logfile)
        return row, logfile
