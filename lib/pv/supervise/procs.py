"""Processes as the kernel shows them: reaping, /proc, the subreaper bit.

Which processes belong to a service?  Those in its session or process
group, everything descended from them, and orphans that were reparented to
us (we are a child subreaper) and carry the service's marker variable in
their environment.  One scan of /proc answers all three.
"""

import errno
import os
import time


class Proc:
    """One line of /proc/PID/stat, the fields pv uses."""

    __slots__ = ("pid", "ppid", "pgid", "sid", "start", "zombie")

    def __init__(self, pid, ppid, pgid, sid, start, zombie):
        self.pid, self.ppid, self.pgid, self.sid = pid, ppid, pgid, sid
        self.start = start        # in clock ticks after boot: with pid, names one process
        self.zombie = zombie

PR_SET_CHILD_SUBREAPER = 36
# The kernel gives a process's start as nanoseconds of CLOCK_BOOTTIME divided
# down (rounded down) to ticks of USER_HZ, sysconf's SC_CLK_TCK.
_NS_PER_TICK = 10 ** 9 // os.sysconf("SC_CLK_TCK")


def become_subreaper():
    """Make orphaned descendants our children (Linux); False where unsupported."""
    if not os.path.exists("/proc/self"):
        return False
    import sys
    before = set(sys.modules)
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
    finally:
        # One call is all we need of ctypes: drop its modules again, which
        # gives 0.5 MB back to a long-lived pv-scan.
        for name in set(sys.modules) - before:
            del sys.modules[name]
        import gc
        gc.collect()


def reap():
    """Yield (pid, wait status) for every child that has exited, without blocking."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        except InterruptedError:
            continue
        if pid == 0:
            return
        yield pid, status


def boot_ticks():
    """Now, in the unit of /proc/PID/stat's start time (clock ticks of
    CLOCK_BOOTTIME); None where there is no such clock."""
    try:
        return time.clock_gettime_ns(time.CLOCK_BOOTTIME) // _NS_PER_TICK
    except (AttributeError, OSError):
        return None


def parse_stat(data):
    """A Proc from the bytes of /proc/PID/stat (comm may hold spaces and parens)."""
    head, _, rest = data.rpartition(b")")
    fields = rest.split()
    pid = int(head.split(b" (", 1)[0])
    return Proc(pid, int(fields[1]), int(fields[2]), int(fields[3]), int(fields[19]),
                fields[0] == b"Z")


def read_proc(pid):
    """The Proc for ``pid``, or None if it does not exist (or /proc is missing)."""
    try:
        # os.open/os.read, not open(): a full scan reads this file for every
        # process on the system, and the file object costs half the time.
        fd = os.open("/proc/%d/stat" % pid, os.O_RDONLY)
        try:
            data = os.read(fd, 1024)
        finally:
            os.close(fd)
        return parse_stat(data)
    except (OSError, ValueError, IndexError):
        return None


def my_children():
    """Our direct children from /proc/self/task/*/children; None where the kernel
    lacks it (CONFIG_PROC_CHILDREN), or /proc is missing."""
    try:
        tasks = os.listdir("/proc/self/task")
        children = set()
        for tid in tasks:
            # pv-scan asks this for each run that ends, with a child per
            # service: read and parse in C, not word by word in Python.
            fd = os.open("/proc/self/task/%s/children" % tid, os.O_RDONLY)
            try:
                data = b""
                while True:
                    chunk = os.read(fd, 1 << 16)
                    if not chunk:
                        break
                    data += chunk
            finally:
                os.close(fd)
            children.update(map(int, data.split()))
        return children
    except (OSError, ValueError):
        return None


def nothing_left(session, known):
    """True when cheap checks prove a finished run left nothing behind.

    With its process group empty, every live descendant of the run has been
    reparented to us (we are its subreaper), so it would be a child of ours
    that no unit knows.  False means "can't tell cheaply": scan /proc.
    """
    if session and group_exists(session):
        return False
    children = my_children()
    return children is not None and known >= children     # known: a set or a keys view


class Table(dict):
    """{pid: Proc}, with room for what is derived from it once."""

    kids = None
    sessions = None
    strays = None


def proc_table():
    """{pid: Proc} of every process now; empty without /proc."""
    table = Table()
    try:
        names = os.listdir("/proc")
    except OSError:
        return table
    for name in names:
        if name.isdigit():
            proc = read_proc(int(name))
            if proc is not None:
                table[proc.pid] = proc
    return table


def has_marker(pid, marker):
    """True if ``pid``'s environment holds exactly ``marker`` (b"NAME=value")."""
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            return marker in f.read().split(b"\0")
    except OSError:
        return False


def children_map(table):
    """{pid: [its children]}; kept on the table, which one batch of events shares."""
    cached = getattr(table, "kids", None)
    if cached is not None:
        return cached
    kids = {}
    for proc in table.values():
        kids.setdefault(proc.ppid, []).append(proc.pid)
    if isinstance(table, Table):
        table.kids = kids
    return kids


def sessions_map(table):
    """{session or group id: [pids in it]}; kept on the table like ``children_map``.

    pv-scan stopping 1,000 services asks ``belonging`` 1,000 times of one
    table: an index, not a pass over every process each time.
    """
    cached = getattr(table, "sessions", None)
    if cached is not None:
        return cached
    index = {}
    for proc in table.values():
        index.setdefault(proc.sid, []).append(proc.pid)
        if proc.pgid != proc.sid:
            index.setdefault(proc.pgid, []).append(proc.pid)
    if isinstance(table, Table):
        table.sessions = index
    return index


def strays(table, known):
    """Our children in ``table`` that no unit knows (orphans we adopted);
    kept on the table like ``children_map``.

    pv-scan has a child per service: going through all of them for each of
    1,000 services stopping together would be a million steps.  Kept for the
    table's batch: a pid known since is not in the table (it was spawned
    after), and one reaped since is dead.
    """
    cached = getattr(table, "strays", None)
    if cached is not None:
        return cached
    found = [pid for pid in children_map(table).get(os.getpid(), ()) if pid not in known]
    if isinstance(table, Table):
        table.strays = found
    return found


def with_descendants(table, roots):
    """``roots`` and every process descended from them."""
    kids = children_map(table)
    found, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(kids.get(pid, ()))
    return found


def belonging(table, session, marker, known):
    """Live pids of the service whose session (and first group) is ``session``.

    ``known`` are pids some other unit owns; orphans reparented to us that are
    not known and carry ``marker`` are the service's too.
    """
    roots = set(sessions_map(table).get(session, ())) if session else set()
    for pid in strays(table, known):
        if pid not in roots and has_marker(pid, marker):
            roots.add(pid)
    alive = with_descendants(table, roots)
    return {pid for pid in alive if pid in table and not table[pid].zombie}


def in_run(pid, session, max_depth=64, zombie_ok=False):
    """Whether live ``pid`` is a process of the run whose session (and first
    process group) is ``session``: in that session or group, or descended
    from its first process.

    Unlike the marker variable, which any process may put in its own
    environment, none of these can be claimed by a process of another
    service: this is what a notification (MAINPID=, the sender itself) is
    checked against.
    """
    proc = read_proc(pid) if session and pid > 0 else None
    if proc is None or (proc.zombie and not zombie_ok):
        return False
    for _ in range(max_depth):
        if session in (proc.sid, proc.pgid, proc.pid):
            return True
        if proc.ppid <= 1 or proc.ppid == os.getpid():
            return False
        proc = read_proc(proc.ppid)
        if proc is None:
            return False
    return False


def tagged_anywhere(table, marker):
    """Live pids anywhere on the system that carry ``marker`` (and their descendants)."""
    roots = {p.pid for p in table.values() if not p.zombie and has_marker(p.pid, marker)}
    return {pid for pid in with_descendants(table, roots) if not table[pid].zombie}


def outside_group(pids, pgid):
    """Those of ``pids`` that are not (or no longer) in process group ``pgid``."""
    if not pgid:
        return set(pids)
    outside = set()
    for pid in pids:
        proc = read_proc(pid)
        if proc is not None and proc.pgid != pgid:
            outside.add(pid)
    return outside


def signal_pids(pids, signum, group=0):
    """Send ``signum`` to ``group`` (a process group, if non-zero) and each of ``pids``."""
    if group:
        try:
            os.killpg(group, signum)
        except OSError:
            pass  # the group is gone: nothing to signal
    for pid in pids:
        try:
            os.kill(pid, signum)
        except OSError as exc:
            if exc.errno != errno.ESRCH:
                raise


def group_exists(pgid):
    """Whether any process (zombies included) is in group ``pgid``; for systems without /proc."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_status_text(status):
    """(exit code or None, signal or None) from a wait status."""
    if os.WIFSIGNALED(status):
        return None, os.WTERMSIG(status)
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status), None
    return None, None


def boot_time():
    """The wall-clock time the system booted (0 where unknown)."""
    try:
        with open("/proc/stat", "rb") as f:
            for line in f:
                if line.startswith(b"btime "):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0
