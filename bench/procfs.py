"""What the bench reads from /proc (Linux only), and the sweep that kills leftovers.

A supervision tree is its root process plus every descendant whose command
name is one of the supervisor's own (runsv, supervise, s6-supervise): the
services below them are not counted.
"""

import ctypes
import os
import signal
import time

PR_SET_CHILD_SUBREAPER = 36


def _stat_fields(pid):
    """The fields of /proc/PID/stat after the command name, or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2:].split()


def comm(pid):
    """The command name of ``pid``, or None if it is gone."""
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().rstrip("\n")
    except (OSError, TypeError):
        return None


def processes():
    """pid -> (ppid, comm) of every process."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                text = f.read()
        except OSError:
            continue
        comm = text[text.index("(") + 1:text.rindex(")")]
        table[int(name)] = (int(text[text.rindex(")") + 2:].split()[1]), comm)
    return table


def tree(root, comms):
    """``root`` and its descendants named in ``comms`` (through named ones only)."""
    children = {}
    for pid, (ppid, comm) in processes().items():
        if comm in comms:
            children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return sorted(found)


def gone(pid):
    """True once ``pid`` has exited (a zombie counts as gone)."""
    fields = _stat_fields(pid)
    return fields is None or fields[0] in ("Z", "X")


def memory(pids):
    """(RSS, PSS) in KiB summed over ``pids``, from smaps_rollup."""
    rss = pss = 0
    for pid in pids:
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return rss, pss


def _tasks(pid):
    try:
        return [int(t) for t in os.listdir("/proc/%d/task" % pid)]
    except (FileNotFoundError, ProcessLookupError):
        return []


def _voluntary(pid, tid):
    try:
        with open("/proc/%d/task/%d/status" % (pid, tid)) as f:
            for line in f:
                if line.startswith("voluntary_ctxt_switches:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _schedstat_ns(pid, tid):
    try:
        with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
            return int(f.read().split()[0])
    except (FileNotFoundError, ProcessLookupError):
        return 0


def usage(pids):
    """(utime+stime in ms, on-CPU ns from schedstat, voluntary context switches) summed."""
    tick_ms = 1000.0 / os.sysconf("SC_CLK_TCK")
    ticks = nanos = switches = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is None:
            continue
        ticks += int(fields[11]) + int(fields[12])
        for tid in _tasks(pid):
            nanos += _schedstat_ns(pid, tid)
            switches += _voluntary(pid, tid)
    return ticks * tick_ms, nanos, switches


def become_subreaper():
    """Orphans of the peers come to us (the container's PID 1 may never reap them)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def reap_orphans(keep=()):
    """Reap zombie children of ours that no Popen owns (adopted orphans)."""
    me = os.getpid()
    for pid, (ppid, _comm) in processes().items():
        if ppid == me and pid not in keep and gone(pid):
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def _under(pid, root):
    """True if the process's cwd or command line lies under ``root``."""
    try:
        if os.readlink("/proc/%d/cwd" % pid).startswith(root):
            return True
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return root.encode() in f.read()
    except OSError:
        return False


def leftovers(root):
    me = os.getpid()
    return [pid for pid in processes() if pid != me and not gone(pid) and _under(pid, root)]


def sweep(root, rounds=50):
    """SIGKILL every process whose cwd or cmdline is under ``root``, until none is left.

    Supervisors go first in the same round as their services; a supervisor
    killed mid-respawn may start one more service, hence the rounds.
    """
    root = os.path.realpath(root)
    for _ in range(rounds):
        pids = leftovers(root)
        if not pids:
            return 0
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    return len(leftovers(root))
