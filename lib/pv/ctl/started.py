"""``start`` and ``restart`` wait out ``start-secs``, as supervisorctl waits out startsecs.

The wait in pv.ctl.ops ends when the run is up; a service with
``start-secs`` is then still ``starting``, and a run that dies in its first
second would be reported started.  ``settle`` follows each such service
until it is ``running`` (or ``ready``), or it has left ``starting`` some
other way -- a new pid, ``backoff``, ``fatal``, ``down`` --, which is a
spawn error: ``unable to start NAME: spawn error (...)``, exit 1, where
supervisorctl says ``ERROR (spawn error)``.  Each wait has a deadline:
start-secs plus a margin from now, or the caller's ``-w``.
"""

import select
import time

from pv import servicedir, status, wait
from pv.diag import EXIT_NO, PvError

MARGIN_SECS = 2.0
STARTING = "starting"
STARTED = ("running", "ready")


class SpawnError(PvError):
    code = EXIT_NO


def settle(result, wait_secs=None):
    """(done, timed out, failures) of ops.act with every ``starting`` one waited for."""
    done, late, failures = result
    still_done = []
    for target in done:
        outcome = _follow(target, wait_secs)
        if outcome is None:
            still_done.append(target)
        elif outcome == "late":
            late.append(target)
        else:
            failures.append((target, SpawnError("start", target.name, "spawn error (%s)"
                                                % outcome)))
    return still_done, late, failures


def _start_secs(target):
    try:
        return float(servicedir.read_int(target.path, servicedir.START_SECS, 0))
    except (ValueError, OSError):
        return 0.0


def _follow(target, wait_secs):
    """None once started, ``late`` at the deadline, else why it is not started."""
    try:
        state, _ = status.Reader().records(target.path)
    except PvError as exc:
        return exc.reason
    if state.state != STARTING:
        return None
    pid = state.pid
    secs = wait_secs if wait_secs is not None else _start_secs(target) + MARGIN_SECS
    deadline = time.monotonic() + secs
    listener = wait.Listener(target.path)
    try:
        while True:
            try:
                state, _ = status.Reader().records(target.path)
            except PvError as exc:
                return exc.reason
            if state.state in STARTED and state.pid == pid:
                return None
            if state.pid != pid or state.state != STARTING:
                return _why(state)
            left = deadline - time.monotonic()
            if left <= 0:
                return "late"
            _sleep_until_event(listener, min(left, 0.25))
    finally:
        listener.close()


def _why(state):
    if state.exit_signal:
        return "killed by signal %s before start-secs" % state.exit_signal
    if state.exit_code is not None:
        return "exited %s before start-secs" % state.exit_code
    return "%s before start-secs" % state.state


def _sleep_until_event(listener, timeout):
    """Until the supervisor publishes a change (or ``timeout``: the FIFO may be absent)."""
    if listener.fd < 0:
        time.sleep(timeout)      # bounded: no event FIFO to wait on
        return
    readable, _, _ = select.select([listener.fd], [], [], timeout)
    if readable:
        listener.drain()
