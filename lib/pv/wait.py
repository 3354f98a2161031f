"""Waiting for a service to reach a state, woken by the supervisor.

A waiter makes a FIFO in ``supervise/event/`` and holds it open for
reading; the supervisor writes a byte to every FIFO there after each state
change.  So a wait costs no CPU and reacts as soon as the status is written.
A slow liveness check (every ``LIVENESS_SECS``) notices a supervisor that
died without saying so.

What it judges with (select, pv.status and the names of the states) is
imported only once the letters are sent: pv-svc loads it while the
supervisor reacts, not before (bench/README, "pv-svc -t -w up").
"""

import posix        # not os, which pv-svc does not load before sending (pv.layout)
import time

from pv import control
from pv.diag import NotSupervised, PvError
from pv.layout import EVENT_DIR, PID_FILE, join, supervise_dir

LIVENESS_SECS = 2.0
RESERVED_FDS = 64          # descriptors kept free for everything but listeners
SMALL_FD_COUNT = 256       # under any open-file limit a system starts with


def reached(condition, state, old_pid=0):
    """Whether the records show ``condition``; ``old_pid`` must have been replaced.

    Judged from pv's ``state`` record alone: it is one file, replaced whole,
    so it cannot be seen half-updated as the pair status+state could.
    """
    from pv.supervise.states import DOWN_PHASES, ENDED_PHASES, RUN_PHASES, Phase
    word = state.state
    if condition in ("up", "ready"):
        if word not in RUN_PHASES or not state.pid or state.pid == old_pid:
            return False
        return condition == "up" or word == Phase.READY or not state.readiness
    if condition == "down":      # the run has ended and nothing of it is left
        return word in DOWN_PHASES
    if condition == "finished":  # ... and ./finish is over too
        return word in ENDED_PHASES
    raise ValueError("unknown condition: %s" % condition)


CONDITIONS = ("up", "ready", "down", "finished")


class Listener:
    """A FIFO in ``S/supervise/event/``, open for reading until ``close()``.

    With ``after_command``, nothing is judged until the supervisor writes
    ``c``: the letters just sent were read, and the records of the batch that
    read them are written (an ``s`` before it may be an earlier batch's).
    Without ``use_fd`` (past the descriptor budget) or where no FIFO can be
    made, the listener holds no descriptor and its service is polled.
    """

    def __init__(self, service, after_command=False, use_fd=True):
        self.service = service
        self.armed = not after_command
        directory = join(supervise_dir(service), EVENT_DIR)
        self.path = join(directory, "w%d.%d" % (posix.getpid(), time.monotonic_ns()))
        self.fd = -1
        if not use_fd:
            self.path, self.armed = None, True
            return
        try:
            posix.mkfifo(self.path, 0o600)
            # Read and write in one descriptor: a FIFO with a writer of our
            # own never reads as EOF (always "readable") once the supervisor's
            # writer has closed it.  One descriptor per service, not two.
            self.fd = posix.open(self.path, posix.O_RDWR | posix.O_NONBLOCK)
        except OSError:
            # No event directory we may use (an older supervisor, or another
            # user's service): fall back to polling with back-off.
            self.close()
            self.armed = True

    def drain(self):
        """Read what the supervisor wrote; armed once it says ``c`` (the
        letters were read, and the records of that batch are written)."""
        try:
            while True:
                got = posix.read(self.fd, 512)
                if not got:
                    return
                self.armed = self.armed or b"c" in got
        except (BlockingIOError, InterruptedError):
            pass

    def close(self):
        if self.fd >= 0:
            posix.close(self.fd)
        self.fd = -1
        if self.path is not None:
            try:
                posix.unlink(self.path)
            except OSError:
                pass
            self.path = None


def command(services, letters, condition=None, deadline=None, replace=False):
    """Send ``letters`` to each service, then wait until each shows ``condition``.

    The one send-and-wait of pv-svc and pv-ctl.  Each listener is made
    before the letters go, so no state change after them is missed.
    ``replace``: the letters end the current run, so "up" needs a new pid.
    With no letters, each service must be supervised.  Returns
    [(service, PvError, or None for a wait that timed out)], in the order
    of ``services``; a service not listed did what was asked.
    """
    failed, listeners, old_pids = [], [], {}
    budget = fd_budget(len(services)) if condition else 0
    try:
        for service in services:
            listener = None
            try:
                if condition:
                    old_pids[service] = _pid(service) if replace else 0
                    listener = Listener(service, bool(letters), len(listeners) < budget)
                if letters:
                    control.send(service, letters)
                elif not control.is_supervised(service):
                    raise NotSupervised(service)
            except PvError as exc:
                failed.append((service, exc))
                if listener is not None:
                    listener.close()
                continue
            if listener is not None:
                listeners.append(listener)
        if listeners:
            failed += wait_all(listeners, condition, deadline, old_pids)
    finally:
        for listener in listeners:
            listener.close()
    order = {service: n for n, service in enumerate(services)}
    return sorted(failed, key=lambda item: order[item[0]])


def _pid(service):
    """The pid in runit's ``pid`` file (that of ``status``, as text), 0 if none:
    read before the letters go, without loading pv.status."""
    try:
        fd = posix.open(join(supervise_dir(service), PID_FILE), posix.O_RDONLY | posix.O_CLOEXEC)
        try:
            text = posix.read(fd, 32)
        finally:
            posix.close(fd)
        return int(text or 0)
    except (OSError, ValueError):
        return 0


def fd_budget(count):
    """How many of ``count`` listeners may hold a descriptor.

    All of them where the open-file limit allows, raised towards the hard
    limit if need be; otherwise the limit less ``RESERVED_FDS``, and the
    rest are polled.  (A few listeners never need the resource module.)
    """
    if count + RESERVED_FDS <= SMALL_FD_COUNT:
        return count
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    infinite = resource.RLIM_INFINITY
    want = count + RESERVED_FDS
    if soft != infinite and soft < want:
        raised = want if hard == infinite else min(want, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    if soft == infinite:
        return count
    return max(0, min(count, soft - RESERVED_FDS))


def wait_all(listeners, condition, deadline, old_pids):
    """Block until every listener's service shows ``condition`` or ``deadline`` passes.

    Returns [(service, PvError or None for a timeout)] for those that did not.
    poll(2), not select(2): a thousand listeners hold descriptors past 1024.
    Only the services whose FIFO was written are looked at again, so a wake
    costs one read of one service's ``state``; every service is looked at
    (and asked whether it is still supervised) every ``LIVENESS_SECS``,
    those without a FIFO with back-off.
    """
    import select
    from pv import status
    from pv.supervise import states  # noqa: F401 - for reached(), loaded while the supervisor works
    reader, poller, by_fd = status.Reader(), select.poll(), {}
    for listener in listeners:
        if listener.fd >= 0:
            poller.register(listener.fd, select.POLLIN)
            by_fd[listener.fd] = listener
    waiting, failed = dict.fromkeys(listeners), []
    check, woken, poll_delay = list(listeners), (), 0.01
    liveness = time.monotonic() + LIVENESS_SECS
    while True:
        for listener in check:
            if listener not in waiting:
                continue
            try:
                done = _reached_now(listener, condition, old_pids, reader, listener in woken)
            except PvError as exc:
                failed.append((listener.service, exc))
                done = True
            if done:
                del waiting[listener]
                if listener.fd >= 0:
                    poller.unregister(listener.fd)
        if not waiting:
            return failed
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            return failed + [(listener.service, None) for listener in waiting]
        polled = [ls for ls in waiting if ls.fd < 0]
        timeout = min(liveness - now, poll_delay) if polled else liveness - now
        if deadline is not None:
            timeout = min(timeout, deadline - now)
        events = poller.poll(max(0, int(timeout * 1000) + 1))
        check, woken = polled, set()
        for fd, _ in events:
            listener = by_fd[fd]
            listener.drain()
            check.append(listener)
            woken.add(listener)
        if polled:
            poll_delay = min(poll_delay * 2, 0.5)
        if time.monotonic() >= liveness:
            check, woken, liveness = list(waiting), (), time.monotonic() + LIVENESS_SECS


def _reached_now(listener, condition, old_pids, reader, woken):
    """Whether ``listener``'s service shows ``condition``.  ``woken``: its
    supervisor has just written to the listener's FIFO, so it is alive and
    need not be asked again (three system calls per wake)."""
    service = listener.service
    if not woken and not control.is_supervised(service):
        raise NotSupervised(service)
    if not listener.armed:
        return False
    try:
        state = reader.state_of(service)
    except NotSupervised:
        # Locked and listening, but its first record is not written yet (it is
        # still looking for what a predecessor left running): not yet.
        return False
    return reached(condition, state, old_pids.get(service, 0))
