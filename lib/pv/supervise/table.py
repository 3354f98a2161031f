"""The supervisor as a pure transition function: step(phase, event, facts).

``step`` returns ``(phase, effects, why)``: the next phase, the effects the
``Unit`` carries out in order (plain tuples, below), and a short reason for
the event record.  It does no I/O and reads no clock: everything a decision
needs comes in ``facts`` (see facts.py), so every transition can be tested
in microseconds from a history of events.

``GRID`` is the table itself, one row per event, one column per phase: every
cell is written out.  ``ignore`` means the event means nothing in that phase;
``keep`` means only the want changes (the letters u, d, o, x, and pv's own
shutdown events, always note the want first, except x on a logger).

Effects (the Unit sets the phase first, then runs them in order; ``spawn``
and ``finish`` come last, and their outcome comes back as an event):

    ("want", W)            ("fails", N)          ("restarts",)
    ("paused", B)          ("got_term", B)       ("stop_asked", B)
    ("reason", TEXT)       ("warn", TEXT)        ("next_try", SECS or None)
    ("ready_since", B)     ("spawn",)            ("finish",)
    ("signal_run", LETTER) ("signal_all", SIGNUM) ("kill_finish",)
    ("arm", EVENT, SECS)   the one deadline timer (SECS <= 0: just cancel it)
    ("later", EVENT, SECS) a one-shot timer of its own
    ("disarm",)            cancel the deadline timer
    ("cancel",)            the deadline and the leftovers poll
    ("poll",)              look for leftovers again soon
    ("forget_session",)    the run's session and leftovers are gone
    ("fatal",)             obey on-fatal (the host does)
    ("end_all",)           an essential run ended (on-exit exit): the host takes
                           everything down and exits with the run's status
"""

from pv.signames import signal
from pv.supervise import policy
from pv.supervise.states import RUN_PHASES, Event, Phase, Want

WANT_OF = {Event.UP: Want.UP, Event.DOWN: Want.DOWN, Event.ONCE: Want.DOWN,
           Event.EXIT: Want.EXIT, Event.SHUTDOWN: Want.EXIT, Event.LOG_CLOSED: Want.EXIT}


def step(phase, event, facts):
    """(next phase, [effects], why) for ``event`` in ``phase``."""
    if event == Event.EXIT and facts.is_log:
        return phase, [], "x is ignored on a logger"
    new, effects, why = GRID[event][COLUMN[phase]](phase, event, facts)
    want = WANT_OF.get(event)
    if want is not None:
        effects.insert(0, ("want", want))
    return new, effects, why


# --- the rules the cells name ---------------------------------------------------
def ignore(phase, event, facts):
    return phase, [], ""


def keep(phase, event, facts):
    return phase, [], "want noted"


def _start(facts, fresh, why):
    effects = [("cancel",)] + ([("fails", 0)] if fresh else [])
    if not facts.needs_met:
        return Phase.WAITING, effects, "waiting for what it needs"
    return Phase.STARTING, effects + [("spawn",)], why


def start_fresh(phase, event, facts):
    return _start(facts, True, "started by " + event)


def start(phase, event, facts):
    return _start(facts, False, "started: " + event)


def go_down(phase, event, facts):
    return Phase.DOWN, [("cancel",), ("next_try", None)], "down: " + event


def _stop(facts, asked, why):
    signum = facts.down_signal
    effects = [("signal_all", signum), ("got_term", signum == signal.SIGTERM),
               ("arm", Event.KILL_TIMER, facts.kill_timeout)]
    if asked:
        effects.insert(0, ("stop_asked", True))
    return Phase.STOPPING, effects, why


def stop(phase, event, facts):
    return _stop(facts, True, "stopped by " + event)


def log_closed(phase, event, facts):
    """The logger reads end-of-file now; one that ignores it is stopped later."""
    if facts.kill_timeout > 0:
        return phase, [("later", Event.SHUTDOWN, facts.kill_timeout)], "log pipe closed"
    return _stop(facts, True, "log pipe closed")


def begin(phase, event, facts):
    left = facts.leftovers
    if left:
        text = "taking down %d process(es) left running by a previous supervisor: %s" % (
            len(left), " ".join(map(str, sorted(left))))
        return Phase.CLEANUP, [("warn", text), ("signal_all", facts.down_signal),
                               ("arm", Event.KILL_TIMER, facts.kill_timeout),
                               ("poll",)], "adopting leftovers"
    effects = [("forget_session",)]
    if facts.want == Want.UP:
        new, more, why = _start(facts, False, "begun")
        return new, effects + more, why
    return phase, effects, "begun down"


def spawned(phase, event, facts):
    effects = [("got_term", False), ("paused", False), ("stop_asked", False), ("reason", ""),
               ("next_try", None), ("ready_since", False)]
    if facts.readiness:
        effects.append(("arm", Event.NOT_READY, facts.start_timeout))
        return Phase.STARTING, effects, "run started; waiting for " + facts.readiness
    if facts.policy.start_secs > 0:
        effects.append(("arm", Event.STARTED_TIMER, facts.policy.start_secs))
        return Phase.STARTING, effects, "run started; start-secs to pass"
    return Phase.RUNNING, effects, "run started"


def spawn_failed(phase, event, facts):
    fails = facts.fails + 1
    effects = [("fails", fails), ("reason", facts.reason), ("warn", facts.reason)]
    delay = policy.backoff_delay(max(fails, 2), facts.policy.pacing)
    return _backoff_or_fatal(facts, fails, delay, effects, False)


def _backoff_or_fatal(facts, fails, delay, effects, restart):
    if policy.gives_up(facts.policy, fails):
        effects += [("next_try", None),
                    ("warn", "giving up after %d failed starts in a row" % fails), ("fatal",)]
        return Phase.FATAL, effects, "gave up after %d failed starts" % fails
    effects += [("restarts",)] if restart else []
    if delay <= 0:
        new, more, _ = _start(facts, False, "")
        return new, effects + more, "restarted at once"
    effects += [("next_try", delay), ("arm", Event.BACKOFF_TIMER, delay)]
    return Phase.BACKOFF, effects, "restart in %.1f s" % delay


def _decide(facts, effects, fails, want):
    """The run (and finish) are over: start again now, later, or never."""
    effects.append(("cancel",))
    if want != Want.UP:
        return Phase.DOWN, effects + [("next_try", None)], "down: want " + want
    if facts.stop_asked:     # a restart the user asked for is not a crash
        new, more, _ = _start(facts, False, "")
        return new, effects + [("restarts",)] + more, "restarted as asked"
    if not policy.wants_restart(facts.policy, facts.exit_code, facts.exit_signal) and \
            not policy.retries_failed_start(facts.policy, fails):
        return Phase.DOWN, effects + [("want", Want.DOWN), ("next_try", None)], \
            "down: restart policy " + facts.policy.restart
    delay = policy.backoff_delay(fails, facts.policy.pacing)
    return _backoff_or_fatal(facts, fails, delay, effects, True)


def _over(facts, effects, fails, want):
    """Nothing of the run is left: adopted leftovers are done, else finish or decide."""
    effects += [("cancel",), ("forget_session",)]
    if facts.adopting:
        if want == Want.UP:
            new, more, _ = _start(facts, False, "")
            return new, effects + more, "leftovers gone; started"
        return Phase.DOWN, effects + [("next_try", None)], "leftovers gone"
    if facts.finish_present:
        effects += [("arm", Event.FINISH_TIMER, facts.finish_timeout), ("finish",)]
        return Phase.FINISHING, effects, "running finish"
    return _decide(facts, effects, fails, want)


def run_exited(phase, event, facts):
    return _run_exited(phase, facts, facts.want, [])


def run_ended(phase, event, facts):
    """The run ended by itself: as any exit, unless it is essential (on-exit
    exit), when its end takes everything down and it is not started again.
    Not while the host is taking everything down already."""
    if facts.is_log or facts.exiting or not facts.on_exit_exit:
        return run_exited(phase, event, facts)
    new, effects, why = _run_exited(phase, facts, Want.EXIT,
                                    [("want", Want.EXIT), ("end_all",)])
    return new, effects, "on-exit exit; " + why


def _run_exited(phase, facts, want, effects):
    """``want``: the want as the step's own effects leave it."""
    effects += [("paused", False), ("got_term", False)]
    stopping, fails = phase == Phase.STOPPING, facts.fails
    if not stopping and not facts.stop_asked and want == Want.UP:
        fails = fails + 1 if policy.is_quick_death(facts.policy, facts.uptime) else 0
        effects.append(("fails", fails))
    if facts.leftovers:
        if not stopping:
            effects += [("signal_all", facts.down_signal),
                        ("arm", Event.KILL_TIMER, facts.kill_timeout)]
        return Phase.CLEANUP, effects + [("poll",)], "run ended; taking down what it left"
    return _over(facts, effects, fails, want)


def leftovers_gone(phase, event, facts):
    return _over(facts, [], facts.fails, facts.want)


def finish_exited(phase, event, facts):
    return _decide(facts, [], facts.fails, facts.want)


def finish_failed(phase, event, facts):
    return _decide(facts, [("warn", "unable to start ./finish: " + facts.reason)], facts.fails,
                   facts.want)


def kill_all(phase, event, facts):
    return phase, [("signal_all", signal.SIGKILL), ("poll",)], "timeout-kill: SIGKILL"


def kill_finish(phase, event, facts):
    return phase, [("kill_finish",)], "timeout-finish: SIGKILL"


def started(phase, event, facts):
    return Phase.RUNNING, [("fails", 0)], "start-secs passed"


def ready(phase, event, facts):
    return Phase.READY, [("disarm",), ("fails", 0), ("ready_since", True)], "ready"


def not_ready(phase, event, facts):
    text = "not ready within start-timeout"
    effects = [("fails", facts.fails + 1), ("reason", text), ("warn", text + ": stopping ./run")]
    new, more, why = _stop(facts, False, text)
    return new, effects + more, why


def send(phase, event, facts):
    """A signal letter reaches the run; t and k ask for a restart (or an end)."""
    effects = [("signal_run", event)]
    if event in (Event.PAUSE, Event.CONT):
        effects.insert(0, ("paused", event == Event.PAUSE))
    elif event == Event.TERM:
        effects.append(("got_term", True))
    if event in (Event.TERM, Event.KILL) and phase in RUN_PHASES:
        effects.append(("stop_asked", True))
    return phase, effects, "signal " + event


# --- the table ----------------------------------------------------------------------
# Columns in the order of Phase.ALL.
COLUMNS = Phase.ALL
_ = ignore
#   phase:             down         starting    running     ready       stopping
#                      cleanup      finishing   backoff     fatal       waiting
GRID = {
    Event.UP:         (start_fresh, keep,       keep,       keep,       keep,
                       keep,        keep,       start_fresh, start_fresh, start),
    Event.ONCE:       (start_fresh, keep,       keep,       keep,       keep,
                       keep,        keep,       start_fresh, start_fresh, start),
    Event.DOWN:       (keep,        stop,       stop,       stop,       keep,
                       keep,        keep,       go_down,    go_down,    go_down),
    Event.EXIT:       (keep,        stop,       stop,       stop,       keep,
                       keep,        keep,       go_down,    go_down,    go_down),
    Event.SHUTDOWN:   (keep,        stop,       stop,       stop,       keep,
                       keep,        keep,       go_down,    go_down,    go_down),
    Event.LOG_CLOSED: (keep,        log_closed, log_closed, log_closed, keep,
                       keep,        keep,       go_down,    go_down,    go_down),
    Event.BEGIN:      (begin,       _,          _,          _,          _,
                       _,           _,          _,          _,          _),
    Event.SPAWNED:    (_,           spawned,    _,          _,          _,
                       _,           _,          _,          _,          _),
    Event.SPAWN_FAILED: (_,         spawn_failed, _,        _,          _,
                       _,           _,          _,          _,          _),
    Event.RUN_EXITED: (_,           run_ended,  run_ended,  run_ended,  run_exited,
                       _,           _,          _,          _,          _),
    Event.LEFTOVERS_GONE: (_,       _,          _,          _,          _,
                       leftovers_gone, _,       _,          _,          _),
    Event.FINISH_EXITED: (_,        _,          _,          _,          _,
                       _,           finish_exited, _,       _,          _),
    Event.FINISH_FAILED: (_,        _,          _,          _,          _,
                       _,           finish_failed, _,       _,          _),
    Event.KILL_TIMER: (_,           _,          _,          _,          kill_all,
                       kill_all,    _,          _,          _,          _),
    Event.FINISH_TIMER: (_,         _,          _,          _,          _,
                       _,           kill_finish, _,         _,          _),
    Event.BACKOFF_TIMER: (_,        _,          _,          _,          _,
                       _,           _,          start,      _,          _),
    Event.STARTED_TIMER: (_,        started,    _,          _,          _,
                       _,           _,          _,          _,          _),
    Event.READY:      (_,           ready,      ready,      _,          _,
                       _,           _,          _,          _,          _),
    Event.NOT_READY:  (_,           not_ready,  _,          _,          _,
                       _,           _,          _,          _,          _),
    Event.NEEDS_MET:  (_,           _,          _,          _,          _,
                       _,           _,          _,          _,          start),
    # the signal letters reach a live run, and nothing else
    Event.PAUSE: (_, send, send, send, send, _, _, _, _, _),
    Event.CONT:  (_, send, send, send, send, _, _, _, _, _),
    Event.HUP:   (_, send, send, send, send, _, _, _, _, _),
    Event.ALRM:  (_, send, send, send, send, _, _, _, _, _),
    Event.INT:   (_, send, send, send, send, _, _, _, _, _),
    Event.QUIT:  (_, send, send, send, send, _, _, _, _, _),
    Event.USR1:  (_, send, send, send, send, _, _, _, _, _),
    Event.USR2:  (_, send, send, send, send, _, _, _, _, _),
    Event.TERM:  (_, send, send, send, send, _, _, _, _, _),
    Event.KILL:  (_, send, send, send, send, _, _, _, _, _),
}

# A row and a column index, not a dict of 300 pairs: pv-scan keeps this in memory.
COLUMN = {phase: i for i, phase in enumerate(COLUMNS)}
