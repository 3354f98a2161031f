"""The named states of a supervised service and the events that move it.

One spelling of each: every module, the supervisor's and the clients'
(pv-svc's waits, pv-ctl), imports the names and sets from here.  Plain
strings, not enum members: the supervisor compares and stores them, nothing
more, and the enum module would cost pv-scan 0.7 MB.  This module imports
nothing but ``pv.status`` so that clients pay nothing for it.

``Phase`` is pv's own state, shown in ``supervise/state`` (``shown``);
``RUNIT_STATE`` maps it to the one byte runit's ``status`` file has room
for.  ``Event`` names everything that can happen to a unit: the control
letters as written to ``supervise/control`` are events themselves.
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


# The sets, by what they mean.  They hold the words as shown (CLEANUP shows
# as "stopping"), so clients can test a record's "state" against them.
RUN_PHASES = (Phase.STARTING, Phase.RUNNING, Phase.READY)   # run alive, not being stopped
LIVE_PHASES = RUN_PHASES + (Phase.STOPPING,)                 # run alive (sv says "run")
UP_PHASES = (Phase.RUNNING, Phase.READY)                     # up and past starting
REST_PHASES = (Phase.DOWN, Phase.BACKOFF, Phase.FATAL, Phase.WAITING)  # nothing runs at all
DOWN_PHASES = REST_PHASES + (Phase.FINISHING,)               # nothing of the run is left
MOVING_PHASES = (Phase.STARTING, Phase.STOPPING, Phase.FINISHING)
FAILED_PHASES = (Phase.BACKOFF, Phase.FATAL)                 # down, and not by choice


def shown(phase):
    """The word pv-ctl and supervise/state use (cleanup shows as stopping)."""
    return Phase.STOPPING if phase == Phase.CLEANUP else phase


class Event:
    # control letters (supervise/control), as runsv reads them
    UP = "u"
    DOWN = "d"
    ONCE = "o"
    EXIT = "x"
    PAUSE = "p"
    CONT = "c"
    HUP = "h"
    ALRM = "a"
    INT = "i"
    QUIT = "q"
    USR1 = "1"
    USR2 = "2"
    TERM = "t"
    KILL = "k"
    LETTERS = "udoxpchaiq12tk"
    SIGNAL_LETTERS = "pchaiq12tk"
    # what the supervisor itself sees happen
    BEGIN = "begin"              # supervision begins (facts: leftovers of an earlier one)
    SPAWNED = "spawned"          # ./run is executing
    SPAWN_FAILED = "spawn-failed"    # ./run could not be started
    RUN_EXITED = "run-exited"
    LEFTOVERS_GONE = "leftovers-gone"
    FINISH_EXITED = "finish-exited"
    FINISH_FAILED = "finish-failed"  # ./finish could not be started
    KILL_TIMER = "kill-timer"
    FINISH_TIMER = "finish-timer"
    BACKOFF_TIMER = "backoff-timer"
    STARTED_TIMER = "started-timer"
    READY = "ready"
    NOT_READY = "not-ready"      # start-timeout passed without readiness
    NEEDS_MET = "needs-met"      # the services in ``needs`` may have become ready
    SHUTDOWN = "shutdown"        # take it down for good (x from pv itself; logs too)
    LOG_CLOSED = "log-closed"    # a logger's pipe was closed: it is to exit at EOF
    INTERNAL = (BEGIN, SPAWNED, SPAWN_FAILED, RUN_EXITED, LEFTOVERS_GONE, FINISH_EXITED,
                FINISH_FAILED, KILL_TIMER, FINISH_TIMER, BACKOFF_TIMER, STARTED_TIMER, READY,
                NOT_READY, NEEDS_MET, SHUTDOWN, LOG_CLOSED)
    ALL = tuple(LETTERS) + INTERNAL


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
