"""Waiting for a service to reach a state, woken by the supervisor.

A waiter makes a FIFO in ``supervise/event/`` and holds it open for
reading; the supervisor writes a byte to every FIFO there after each state
change.  So a wait costs no CPU and reacts as soon as the status is written.
A slow liveness check (every ``LIVENESS_SECS``) notices a supervisor that
died without saying so.
"""

import os
import select
import time

from pv import control, status
from pv.diag import NotSupervised, PvError, TempError, reason_of
from pv.servicedir import EVENT_DIR, supervise_dir
from pv.supervise.states import DOWN_PHASES, REST_PHASES, RUN_PHASES, Phase

LIVENESS_SECS = 2.0


def reached(condition, state, runit, old_pid=0):
    """Whether the records show ``condition``; ``old_pid`` must have been replaced.

    Judged from pv's ``state`` record alone: it is one file, replaced whole,
    so it cannot be seen half-updated as the pair status+state could.
    """
    word = state.state
    if condition in ("up", "ready"):
        if word not in RUN_PHASES or not state.pid or state.pid == old_pid:
            return False
        return condition == "up" or word == Phase.READY or not state.readiness
    if condition == "down":      # the run has ended and nothing of it is left
        return word in DOWN_PHASES
    if condition == "finished":  # ... and ./finish is over too
        return word in REST_PHASES
    raise ValueError("unknown condition: %s" % condition)


CONDITIONS = ("up", "ready", "down", "finished")


class Listener:
    """A FIFO in ``S/supervise/event/``, open for reading until ``close()``.

    With ``after_command``, the first check waits for the supervisor's first
    event: the letters just sent are read before the state is judged.
    """

    def __init__(self, service, after_command=False):
        self.service = service
        self.armed = not after_command
        directory = os.path.join(supervise_dir(service), EVENT_DIR)
        self.path = os.path.join(directory, "w%d.%d" % (os.getpid(), time.monotonic_ns()))
        self.fd = self._keep = -1
        try:
            os.mkfifo(self.path, 0o600)
            self.fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
            # Our own writer: without one, the FIFO reads as EOF (always
            # "readable") once the supervisor's first writer has closed it.
            self._keep = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            # No event directory we may use (an older supervisor, or another
            # user's service): fall back to polling with back-off.
            self.close()
            self.armed = True

    def drain(self):
        try:
            while os.read(self.fd, 512):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def close(self):
        for fd in (self._keep, self.fd):
            if fd >= 0:
                os.close(fd)
        self.fd = self._keep = -1
        try:
            os.unlink(self.path)
        except OSError:
            pass


def read_records(service):
    """(State, RunitStatus) of ``service``; NotSupervised or TempError if unreadable."""
    path = supervise_dir(service)
    try:
        return status.read_state(path), status.read_status(path)
    except FileNotFoundError:
        raise NotSupervised(service) from None
    except OSError as exc:
        raise TempError("read status of", service, reason_of(exc)) from None
    except ValueError:
        raise TempError("read status of", service, "bad format") from None


def wait_all(listeners, condition, deadline, old_pids):
    """Block until every listener's service shows ``condition`` or ``deadline`` passes.

    Returns [(service, PvError or None for a timeout)] for those that did not.
    """
    pending, failed = list(listeners), []
    poll_delay = 0.01
    while True:
        still = []
        for listener in pending:
            try:
                if not _reached_now(listener, condition, old_pids):
                    still.append(listener)
            except PvError as exc:
                failed.append((listener.service, exc))
        pending = still
        if not pending:
            return failed
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            return failed + [(ls.service, None) for ls in pending]
        fds = [ls.fd for ls in pending if ls.fd >= 0]
        timeout = LIVENESS_SECS if len(fds) == len(pending) else poll_delay
        poll_delay = min(poll_delay * 2, 0.5)
        if deadline is not None:
            timeout = min(timeout, deadline - now)
        readable, _, _ = select.select(fds, [], [], timeout)
        for ls in pending:
            if ls.fd in readable:
                ls.drain()
                ls.armed = True


def _reached_now(listener, condition, old_pids):
    service = listener.service
    if not control.is_supervised(service):
        raise NotSupervised(service)
    if not listener.armed:
        return False
    try:
        state, runit = read_records(service)
    except NotSupervised:
        # Locked and listening, but its first record is not written yet (it is
        # still looking for what a predecessor left running): not yet.
        return False
    return reached(condition, state, runit, old_pids.get(service, 0))
