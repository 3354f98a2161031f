"""The measurements, one function per metric: service directories, runs, timings.

Each function starts its own peer instance(s) in a fresh directory under
``root`` and stops them in a ``finally``; a figure that could not be had is
None, with the reason in ``FAILURES`` and on stderr.
"""

import itertools
import os
import sys
import tempfile
import time

import peers
import procfs
from peers import wait_until

SERVICE_RUN = "#!/bin/sh\necho $$ > {up}/{name}\nexec sleep 1000000\n"
CRASH_RUN = ("#!/bin/sh\ndate +%s.%N >> {work}/starts\ndate +%s.%N >> {work}/exits\n"
             "exit 1\n")
OPS_SERVICES = 50
IDLE_SERVICES = 100
SETTLE_SECS = 2.0          # run.py --quick: 1.0
UP_SECS = 120.0
STATUS_REPS = 3            # the status of all N: the best of three
PICKUP_SECS = 15.0
FLOOR_ARGV = ["python3", "-I", "-S", "-c", "pass"]   # the interpreter's own start


START = time.monotonic()


def progress(text):
    sys.stderr.write("bench: %5.1f s: %s\n" % (time.monotonic() - START, text))
    sys.stderr.flush()


# --- service directories -------------------------------------------------------------
def make_work(root, label):
    work = tempfile.mkdtemp(prefix=label + "-", dir=root)
    for sub in ("sv", "up"):
        os.mkdir(os.path.join(work, sub))
    return work


def write_run(directory, text):
    os.mkdir(directory)
    path = os.path.join(directory, "run")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


def add_services(work, count):
    names = ["s%04d" % i for i in range(1, count + 1)]
    for name in names:
        write_run(os.path.join(work, "sv", name),
                  SERVICE_RUN.format(up=os.path.join(work, "up"), name=name))
    return names


def read_pid(work, name):
    try:
        with open(os.path.join(work, "up", name)) as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def service_pids(work):
    pids = (read_pid(work, name) for name in os.listdir(os.path.join(work, "up")))
    return [pid for pid in pids if pid is not None]


def count_up(work):
    return len(os.listdir(os.path.join(work, "up")))


def age(work):
    """Date the scan directory a minute back, as on a machine that booted with it.

    runsvdir skips a directory whose mtime is the current second until the
    next one (so that it misses no change): a freshly made scan directory
    would cost it a second that it never costs in use.
    """
    past = time.time() - 60
    os.utime(os.path.join(work, "sv"), (past, past))


def started(cls, work, count):
    """A started peer and the seconds until all ``count`` runs began (None: timed out)."""
    age(work)
    peer = cls(work)
    begin = time.monotonic()
    peer.start()
    wait_until(lambda: count_up(work) >= count or peer.proc.poll() is not None, UP_SECS, 0.005)
    if count_up(work) < count:
        failed(peer, "only %d of %d services came up" % (count_up(work), count))
        return peer, None
    return peer, time.monotonic() - begin


FAILURES = []      # "peer: what went wrong", listed under the table


def failed(peer, text):
    """Say why a run gave no figure, with the end of the supervisor's own output."""
    status = peer.proc.poll()
    FAILURES.append("%s: %s%s" % (peer.name, text,
                                  "" if status is None else " (it exited %d)" % status))
    progress("%s: %s; exit status %s" % (peer.name, text, status))
    try:
        with open(os.path.join(peer.work, "supervisor.log"), "rb") as f:
            tail = f.read()[-600:].decode("utf-8", "replace")
    except OSError:
        return
    for line in tail.splitlines()[-5:]:
        progress("  | " + line)


# --- metrics -----------------------------------------------------------------------------
def scale_run(cls, root, count):
    """Up time, memory after SETTLE_SECS, and down time of ``count`` idle services."""
    work = make_work(root, "%s-%d" % (cls.name, count))
    add_services(work, count)
    peer, up = started(cls, work, count)
    try:
        if up is None:
            return None
        time.sleep(SETTLE_SECS)
        rss, pss = procfs.memory(peer.pids())
        names = sorted(os.listdir(peer.scandir))
        status = min(timed(peer.status_argv(names)) for _ in range(STATUS_REPS))
        pids = service_pids(work)
        begin = time.monotonic()
        peer.take_down()
        down = time.monotonic() - begin if all_gone(peer, pids) else None
        return dict(up=up, rss=rss, pss=pss, down=down, status=status)
    finally:
        peer.stop()


def all_gone(peer, pids):
    """Wait until every pid in ``pids`` is gone; False if not within UP_SECS.

    Gives up 5 s after the supervisor's root exited with services left (a
    crash: no one would take them down).
    """
    gone = lambda: all(procfs.gone(p) for p in pids)
    wait_until(lambda: gone() or peer.proc.poll() is not None, UP_SECS, 0.01)
    if wait_until(gone, 5.0 if peer.proc.poll() is not None else UP_SECS, 0.01):
        return True
    failed(peer, "services left running after the take-down")
    return False


def idle_run(classes, root, count, secs):
    """{name: (CPU ms, schedstat ms, voluntary switches)} of every tree over ``secs`` idle.

    All trees idle side by side (none of them is woken by the others).
    """
    running = []
    try:
        for cls in classes:
            work = make_work(root, "%s-idle" % cls.name)
            add_services(work, count)
            running.append(started(cls, work, count))
        time.sleep(SETTLE_SECS + 1)
        trees = {peer.name: peer.pids() for peer, up in running if up is not None}
        before = {name: procfs.usage(pids) for name, pids in trees.items()}
        time.sleep(secs)
        after = {name: procfs.usage(pids) for name, pids in trees.items()}
    finally:
        for peer, _up in running:
            peer.stop()
    return {name: (after[name][0] - before[name][0], (after[name][1] - before[name][1]) / 1e6,
                   after[name][2] - before[name][2]) for name in trees}


def lines(path):
    try:
        with open(path) as f:
            return [float(x) for x in f.read().split()]
    except OSError:
        return []


def respawn_run(cls, root):
    """Seconds from the first exit of a crashing run to the start of the next one."""
    work = make_work(root, "%s-crash" % cls.name)
    write_run(os.path.join(work, "sv", "crash"), CRASH_RUN.format(work=work))
    age(work)
    peer = cls(work)
    peer.start()
    try:
        starts = os.path.join(work, "starts")
        if not wait_until(lambda: len(lines(starts)) >= 2, 15, 0.005):
            failed(peer, "no second start of a crashing run")
            return None
        return lines(starts)[1] - lines(os.path.join(work, "exits"))[0]
    finally:
        peer.stop()


# How often a new pid is looked for: a 1 ms poll rounded every restart up
# by up to a millisecond, a tenth of what is measured.
PID_POLL_SECS = 0.0001


def new_pid_after(work, name, action):
    """Seconds from calling ``action`` until it returned and ``name`` runs as a new pid."""
    old = read_pid(work, name)
    begin = time.monotonic()
    action()
    ok = wait_until(lambda: runs_anew(work, name, old), 15, PID_POLL_SECS)
    return time.monotonic() - begin if ok else None


def runs_anew(work, name, old):
    pid = read_pid(work, name)      # None while run is rewriting the file
    return pid not in (None, old) and not procfs.gone(pid)


def timed(argv):
    begin = time.monotonic()
    peers.quiet(argv)
    return time.monotonic() - begin


def restart_time(peer, work, name, which):
    argv = peer.restarts(name)[which][1]
    return new_pid_after(work, name, lambda: timed(argv))


def ops_run(cls, root, reps):
    """kill -9, restart and status times on one instance of OPS_SERVICES services."""
    work = make_work(root, "%s-ops" % cls.name)
    names = add_services(work, OPS_SERVICES)
    peer, up = started(cls, work, OPS_SERVICES)
    result = {}
    try:
        if up is None:
            return result
        time.sleep(SETTLE_SECS)     # every service up for > 1 s: no start throttling
        spare = iter(names)
        result["kill"] = [new_pid_after(work, n, lambda n=n: os.kill(read_pid(work, n), 9))
                          for n in [next(spare) for _ in range(reps)]]
        for i, (label, _argv) in enumerate(peer.restarts(names[0])):
            key = "restart" if i == 0 else label
            result[key] = [restart_time(peer, work, n, i)
                           for n in [next(spare) for _ in range(reps)]]
        result["status1"] = [timed(peer.status_argv([names[-1]])) for _ in range(reps)]
        result["status50"] = [timed(peer.status_argv(names)) for _ in range(reps)]
        return result
    finally:
        peer.stop()


def pickup_run(cls, root, reps):
    """Seconds from a new symlink in the scan directory to its run started, ``reps`` times.

    The scanner runs one service, settled; each new service directory is
    made elsewhere and linked in (then the peer's announce command, if it
    has one, is run and counted).
    """
    work = make_work(root, "%s-pickup" % cls.name)
    add_services(work, 1)
    peer, up = started(cls, work, 1)
    times = []
    try:
        if up is None:
            return times
        time.sleep(SETTLE_SECS)
        for n in range(reps):
            name = "new%d" % n
            real = os.path.join(work, "elsewhere", name)
            os.makedirs(os.path.dirname(real), exist_ok=True)
            write_run(real, SERVICE_RUN.format(up=os.path.join(work, "up"), name=name))
            begin = time.monotonic()
            os.symlink(real, os.path.join(peer.scandir, name))
            announce = peer.announce(name)
            if announce:
                peers.quiet(announce)
            if not wait_until(lambda: read_pid(work, name) is not None, PICKUP_SECS, 0.001):
                failed(peer, "a new entry was not started within %g s" % PICKUP_SECS)
                break
            times.append(time.monotonic() - begin)
        return times
    finally:
        peer.stop()


QUIET_SECS = 0.02     # between two timed commands, once the last one's run has settled


def settle(work, name=None):
    """Before the next timed command: the run just restarted as ``name`` is
    past its exec of sleep (SERVICE_RUN), and a short pause for the rest.
    Otherwise the next command shares the CPUs with that run's start (1-2
    ms of a shell here), and which command follows which shifts a ratio."""
    if name is not None:
        wait_until(lambda: procfs.comm(read_pid(work, name)) == "sleep", 5, PID_POLL_SECS)
    time.sleep(QUIET_SECS)


def walls_run(root, reps):
    """pv's command walls and the interpreter's floor, ``reps`` of each taken
    in turns (a rotating order) on one pv-scan of OPS_SERVICES services:
    {label: [seconds]}.  A ratio of the two is only as good as their sharing
    the machine's state: taken apart, a handful of cold runs of one side
    (after the memory rows' 1000 services) against warm runs of the other
    made the ratio swing by 0.3-0.5."""
    work = make_work(root, "pv-walls")
    names = add_services(work, OPS_SERVICES)
    peer, up = started(peers.Pv, work, OPS_SERVICES)
    result = {}
    try:
        if up is None:
            return result
        time.sleep(SETTLE_SECS)
        spare = itertools.cycle(names[:-1])     # each restart on the one restarted longest ago
        steps = {"floor": (None, FLOOR_ARGV),
                 "pv-ctl status NAME": (None, peer.status_argv([names[-1]])),
                 "pv-svc -t -w up": (1, None),
                 "pv-ctl restart NAME": (0, None)}
        order = list(steps)
        for rep in range(reps):
            for label in order[rep % len(order):] + order[:rep % len(order)]:
                which, argv = steps[label]
                name = next(spare) if which is not None else None
                took = timed(argv) if name is None else restart_time(peer, work, name, which)
                result.setdefault(label, []).append(took)
                settle(work, name)
        return result
    finally:
        peer.stop()
