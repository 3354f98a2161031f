"""The named states of a supervised service and the events that move it.

``Phase`` is pv's own state, shown in ``supervise/state``; ``RUNIT_STATE``
maps it to the one byte runit's ``status`` file has room for.
"""

import enum

from pv.status import RUNIT_DOWN, RUNIT_FINISH, RUNIT_RUN


class Phase(enum.Enum):
    DOWN = "down"            # nothing running, nothing scheduled
    STARTING = "starting"    # run started, start-secs not yet passed / not yet ready
    RUNNING = "running"      # run up (and past start-secs)
    READY = "ready"          # run up and declared ready
    STOPPING = "stopping"    # the stop signal was sent; waiting for run to exit
    CLEANUP = "stopping-leftovers"  # run exited; its group or descendants remain
    FINISHING = "finishing"  # ./finish is running
    BACKOFF = "backoff"      # down, a respawn is scheduled
    FATAL = "fatal"          # down, gave up after max-retries; waits for u

    @property
    def shown(self):
        """The word pv-ctl and supervise/state use (cleanup shows as stopping)."""
        return "stopping" if self is Phase.CLEANUP else self.value


class Event(enum.Enum):
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


class Want(enum.Enum):
    UP = "up"
    DOWN = "down"
    EXIT = "exit"    # take it down, then the supervisor exits


RUNIT_STATE = {
    Phase.DOWN: RUNIT_DOWN,
    Phase.BACKOFF: RUNIT_DOWN,
    Phase.FATAL: RUNIT_DOWN,
    Phase.STARTING: RUNIT_RUN,
    Phase.RUNNING: RUNIT_RUN,
    Phase.READY: RUNIT_RUN,
    Phase.STOPPING: RUNIT_RUN,
    Phase.CLEANUP: RUNIT_FINISH,
    Phase.FINISHING: RUNIT_FINISH,
}
