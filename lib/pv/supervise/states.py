"""The named states of a supervised service and the events that move it.

Plain strings, not enum members: the supervisor compares and stores them,
nothing more, and the enum module would cost pv-scan 0.7 MB.  ``Phase`` is
pv's own state, shown in ``supervise/state``; ``RUNIT_STATE`` maps it to the
one byte runit's ``status`` file has room for.
"""

from pv.status import RUNIT_DOWN, RUNIT_FINISH, RUNIT_RUN


class Phase:
    DOWN = "down"            # nothing running, nothing scheduled
    STARTING = "starting"    # run started, start-secs not yet passed / not yet ready
    RUNNING = "running"      # run up (and past start-secs)
    READY = "ready"          # run up and declared ready
    STOPPING = "stopping"    # the stop signal was sent; waiting for run to exit
    CLEANUP = "stopping-leftovers"  # run exited; its group or descendants remain
    FINISHING = "finishing"  # ./finish is running
    BACKOFF = "backoff"      # down, a respawn is scheduled
    FATAL = "fatal"          # down, gave up after max-retries; waits for u
    WAITING = "waiting"      # down, to start once the services it needs are ready
    ALL = (DOWN, STARTING, RUNNING, READY, STOPPING, CLEANUP, FINISHING, BACKOFF, FATAL, WAITING)


def shown(phase):
    """The word pv-ctl and supervise/state use (cleanup shows as stopping)."""
    return Phase.STOPPING if phase == Phase.CLEANUP else phase


class Event:
    UP = "u"
    DOWN = "d"
    ONCE = "o"
    EXIT = "x"
    RUN_EXITED = "run-exited"
    LEFTOVERS_GONE = "leftovers-gone"
    FINISH_EXITED = "finish-exited"
    KILL_TIMER = "kill-timer"
    FINISH_TIMER = "finish-timer"
    BACKOFF_TIMER = "backoff-timer"
    STARTED_TIMER = "started-timer"
    READY = "ready"
    NOT_READY = "not-ready"      # start-timeout passed without readiness
    NEEDS_MET = "needs-met"      # the services in ``needs`` may have become ready


class Want:
    UP = "up"
    DOWN = "down"
    EXIT = "exit"    # take it down, then the supervisor exits
    ALL = (UP, DOWN, EXIT)


RUNIT_STATE = {
    Phase.DOWN: RUNIT_DOWN,
    Phase.BACKOFF: RUNIT_DOWN,
    Phase.FATAL: RUNIT_DOWN,
    Phase.WAITING: RUNIT_DOWN,
    Phase.STARTING: RUNIT_RUN,
    Phase.RUNNING: RUNIT_RUN,
    Phase.READY: RUNIT_RUN,
    Phase.STOPPING: RUNIT_RUN,
    Phase.CLEANUP: RUNIT_FINISH,
    Phase.FINISHING: RUNIT_FINISH,
}
