"""The transition table (pv.supervise.table), one behaviour per test.

A ``World`` plays the Unit and the system around it with a fake clock and
fake processes: it applies the effects ``step`` returns exactly as the Unit
does (phase first, effects in order, spawn/finish outcomes as events) and
lets a test say what happens next (the run dies, time passes, ...).
"""

import signal

import pytest

from pv.supervise import policy
from pv.supervise.states import REST_PHASES, Event, Phase, Want
from pv.supervise.facts import Facts, UnitFacts
from pv.supervise.table import COLUMNS, GRID, step

TABLE = {(phase, event): row[i] for event, row in GRID.items() for i, phase in enumerate(COLUMNS)}

TERM, KILL = signal.SIGTERM, signal.SIGKILL


class Run:
    def __init__(self, started, ignores_term=False, children=0):
        self.started, self.ignores_term = started, ignores_term
        self.children = set(range(1000, 1000 + children))   # in its process group
        self.alive = True


class World:
    """A unit as the table drives it, over fake processes and a fake clock."""

    def __init__(self, want=Want.UP, **options):
        self.phase, self.want = Phase.DOWN, want
        self.fails = self.restarts = 0
        self.clock = 0.0
        self.deadline = None          # (event, due)
        self.laters = []              # [(due, event)]
        self.run = self.last_run = None
        self.runs = []                # every run ever spawned
        self.leftovers = set()
        self.finish = False           # ./finish running
        self.polling = self.stop_asked = self.paused = self.got_term = False
        self.adopting = False
        self.uptime = 0.0
        self.exit_code = self.exit_signal = None
        self.history, self.warnings, self.signals, self.fatal = [], [], [], 0
        self.ended_all = 0            # times it asked the host to end everything
        self.next_try = None
        self.options = dict(dict(policy=policy.Policy(), readiness="", start_timeout=0.0,
                                 kill_timeout=10.0, finish_timeout=5.0, finish_present=False,
                                 needs_met=True, is_log=False, spawn_ok=True,
                                 finish_ok=True, ignores_term=False, children=0,
                                 on_exit_exit=False, exiting=False), **options)

    def facts(self):
        o = self.options
        return Facts(want=self.want, fails=self.fails, is_log=o["is_log"], policy=o["policy"],
                     uptime=self.uptime, exit_code=self.exit_code,
                     exit_signal=self.exit_signal, stop_asked=self.stop_asked,
                     adopting=self.adopting, leftovers=frozenset(self.leftovers),
                     finish_present=o["finish_present"], needs_met=o["needs_met"],
                     readiness=o["readiness"], start_timeout=o["start_timeout"],
                     kill_timeout=o["kill_timeout"], finish_timeout=o["finish_timeout"],
                     down_signal=TERM, reason="unable to start ./run: nope",
                     on_exit_exit=o["on_exit_exit"], exiting=o["exiting"])

    # --- the Unit's half --------------------------------------------------------------
    def send(self, event):
        while event is not None:
            old = self.phase
            self.phase, effects, why = step(old, event, self.facts())
            self.history.append((old, event, self.phase, why))
            event = None
            for effect in effects:
                event = self.apply(effect) or event
        return self

    def apply(self, effect):
        name, args = effect[0], effect[1:]
        if name in ("want", "fails", "paused", "got_term", "stop_asked", "next_try"):
            setattr(self, name, args[0])
        elif name == "restarts":
            self.restarts += 1
        elif name == "warn":
            self.warnings.append(args[0])
        elif name == "spawn":
            return self._spawn()
        elif name == "finish":
            if not self.options["finish_ok"]:
                return Event.FINISH_FAILED
            self.finish = True
        elif name == "signal_run":
            self._signal({"t": TERM, "k": KILL}.get(args[0], 0), run_only=True)
        elif name == "signal_all":
            self._signal(args[0])
        elif name == "kill_finish":
            self.finish = False
            self.laters.append((self.clock, "finish-died"))
        elif name in ("arm", "disarm", "cancel"):
            self.deadline = (args[0], self.clock + args[1]) if name == "arm" and args[1] > 0 \
                else None
            self.polling = self.polling and name != "cancel"
        elif name == "later":
            self.laters.append((self.clock + args[1], args[0]))
        elif name == "poll":
            self.polling = True
        elif name == "forget_session":
            self.adopting = False
        elif name == "fatal":
            self.fatal += 1
        elif name == "end_all":
            self.ended_all += 1
        return None

    def _spawn(self):
        assert self.run is None and not self.leftovers and not self.finish, "two runs alive"
        if not self.options["spawn_ok"]:
            self.fails_to_spawn = True
            return Event.SPAWN_FAILED
        self.run = Run(self.clock, self.options["ignores_term"], self.options["children"])
        self.runs.append(self.run)
        return Event.SPAWNED

    def _signal(self, signum, run_only=False):
        self.signals.append(signum)
        if signum not in (TERM, KILL):
            return
        if self.run is not None and (signum == KILL or not self.run.ignores_term):
            self.laters.append((self.clock, "run-died"))
            self.run.dying = signum
        if not run_only and (signum == KILL or not self.options["ignores_term"]):
            self.leftovers.clear()
            if self.run is not None:
                self.run.children.clear()

    # --- the world's half -----------------------------------------------------------------
    def die(self, code=1, after=0.0, signum=None):
        """The run ends by itself ``after`` seconds from now (unless killed before)."""
        self.advance(after)
        return self._end(code, signum) if self.run is not None else self

    def _end(self, code=1, signum=None):
        run, self.run = self.run, None
        run.alive = False
        self.uptime = self.clock - run.started
        self.exit_code, self.exit_signal = (None, signum) if signum else (code, None)
        self.leftovers = set(run.children)
        return self.send(Event.RUN_EXITED)

    def advance(self, secs):
        """Let ``secs`` pass, firing whatever falls due in order."""
        end = self.clock + secs
        while True:
            due = [(when, ev) for when, ev in self.laters if when <= end]
            if self.deadline and self.deadline[1] <= end:
                due.append((self.deadline[1], self.deadline[0]))
            if not due:
                break
            when, event = min(due)
            self.clock = max(self.clock, when)
            if self.deadline and (event, when) == self.deadline:
                self.deadline = None
            else:
                self.laters.remove((when, event))
            self._fire(event)
        self.clock = end
        return self

    def _fire(self, event):
        if event == "run-died":
            if self.run is not None and getattr(self.run, "dying", None):
                self._end(signum=self.run.dying)
        elif event == "finish-died":
            self.finish_exits()
        else:
            self.send(event)

    def finish_exits(self):
        self.finish = False
        return self.send(Event.FINISH_EXITED)

    def gone(self):
        """Leftovers die; the poll notices."""
        self.leftovers.clear()
        return self.send(Event.LEFTOVERS_GONE)

    def events(self):
        return [event for _, event, _, _ in self.history]


def running_world(**options):
    world = World(**options).send(Event.UP)
    assert world.phase == Phase.RUNNING and world.run is not None
    return world


# --- the table itself --------------------------------------------------------------------
def test_every_cell_is_written_out():
    assert set(GRID) == set(Event.ALL)
    assert all(len(row) == len(Phase.ALL) for row in GRID.values())
    assert COLUMNS == Phase.ALL
    assert set(TABLE) == {(p, e) for p in Phase.ALL for e in Event.ALL}
    assert len(Event.ALL) == len(set(Event.ALL))


@pytest.mark.parametrize("variant", [
    {}, {"leftovers": frozenset([5]), "adopting": True}, {"want": Want.DOWN, "fails": 9},
    {"readiness": "check", "finish_present": True, "stop_asked": True},
    {"policy": policy.Policy(restart="never", max_retries=0), "needs_met": False,
     "is_log": True, "kill_timeout": 0.0, "exit_signal": 9},
    {"on_exit_exit": True}, {"on_exit_exit": True, "want": Want.DOWN, "stop_asked": True},
    {"on_exit_exit": True, "exiting": True, "leftovers": frozenset([5])},
])
def test_no_cell_raises(variant):
    for phase, event in TABLE:
        new, effects, why = step(phase, event, Facts(**variant))
        assert new in Phase.ALL and isinstance(why, str)
        assert all(isinstance(e, tuple) and isinstance(e[0], str) for e in effects)


def test_a_unit_offers_every_fact_the_table_may_read():
    names = {name for name in vars(Facts) if not name.startswith("_")}
    assert names and names <= set(vars(UnitFacts))


def test_facts_reject_unknown_names():
    with pytest.raises(TypeError):
        Facts(wnat=Want.UP)


# --- starting --------------------------------------------------------------------------------
def test_u_starts_a_run_that_is_running_at_once():
    world = running_world()
    assert world.history[0][:3] == (Phase.DOWN, Event.UP, Phase.STARTING)
    assert world.events() == [Event.UP, Event.SPAWNED]


def test_start_secs_keeps_it_starting_until_they_pass():
    world = World(policy=policy.Policy(start_secs=2)).send(Event.UP)
    assert world.phase == Phase.STARTING
    world.fails = 3
    world.advance(2)
    assert world.phase == Phase.RUNNING and world.fails == 0


def test_readiness_moves_starting_to_ready_and_drops_the_start_timeout():
    world = World(readiness="notification-fd", start_timeout=5).send(Event.UP)
    assert world.phase == Phase.STARTING and world.deadline == (Event.NOT_READY, 5)
    world.send(Event.READY)
    assert world.phase == Phase.READY and world.deadline is None


def test_start_timeout_stops_the_run_and_counts_a_failed_start():
    world = World(readiness="check", start_timeout=1).send(Event.UP)
    world.advance(1)
    assert world.fails == 1 and world.phase in (Phase.BACKOFF, Phase.STARTING)
    assert TERM in world.signals and not world.stop_asked
    assert "not ready within start-timeout: stopping ./run" in world.warnings


def test_a_start_that_fails_backs_off_at_least_a_tenth():
    world = World(spawn_ok=False).send(Event.UP)
    assert world.phase == Phase.BACKOFF and world.fails == 1
    assert world.deadline == (Event.BACKOFF_TIMER, 0.1) and world.next_try == 0.1
    assert world.warnings == ["unable to start ./run: nope"]


def test_needs_not_met_waits_then_starts():
    world = World(needs_met=False).send(Event.UP)
    assert world.phase == Phase.WAITING and not world.runs
    world.options["needs_met"] = True
    world.send(Event.NEEDS_MET)
    assert world.phase == Phase.RUNNING


def test_d_while_waiting_is_down():
    world = World(needs_met=False).send(Event.UP).send(Event.DOWN)
    assert world.phase == Phase.DOWN and world.want == Want.DOWN


# --- crashes and the restart policy -----------------------------------------------------
def test_first_crash_restarts_at_once_then_backs_off():
    world = running_world()
    world.die(after=0.1)
    assert world.phase == Phase.RUNNING and world.fails == 1 and len(world.runs) == 2
    world.die(after=0.1)
    assert world.phase == Phase.BACKOFF and world.fails == 2
    assert world.deadline[0] == Event.BACKOFF_TIMER and world.restarts == 2
    world.advance(0.1)
    assert world.phase == Phase.RUNNING and len(world.runs) == 3


def test_a_run_that_lived_resets_fails():
    world = running_world()
    world.fails = 4
    world.die(after=5)
    assert world.fails == 0 and world.phase == Phase.RUNNING


def test_max_retries_gives_up():
    world = running_world(policy=policy.Policy(max_retries=1))
    world.die()
    world.die()
    assert world.phase == Phase.FATAL and world.fatal == 1
    assert world.warnings[-1] == "giving up after 2 failed starts in a row"


def test_u_after_fatal_starts_fresh():
    world = running_world(policy=policy.Policy(max_retries=0))
    world.die()
    assert world.phase == Phase.FATAL
    world.send(Event.UP)
    assert world.phase == Phase.RUNNING and world.fails == 0


def test_restart_never_takes_it_down_and_wants_it_down():
    world = running_world(policy=policy.Policy(restart="never"))
    world.die(code=0, after=3)
    assert world.phase == Phase.DOWN and world.want == Want.DOWN


def test_on_failure_restarts_only_a_failure():
    on_failure = policy.Policy(restart="on-failure", exit_codes=frozenset([0, 3]))
    world = running_world(policy=on_failure)
    world.die(code=1, after=3)
    assert world.phase == Phase.RUNNING
    world.die(code=3, after=3)
    assert world.phase == Phase.DOWN


def test_o_starts_once():
    world = World(want=Want.DOWN).send(Event.ONCE)
    assert world.phase == Phase.RUNNING and world.want == Want.DOWN
    world.die(after=3)
    assert world.phase == Phase.DOWN and len(world.runs) == 1


# --- stopping -------------------------------------------------------------------------------
def test_d_sends_the_down_signal_and_arms_the_kill_timer():
    world = running_world(ignores_term=True)
    world.send(Event.DOWN)
    assert world.phase == Phase.STOPPING and world.signals == [TERM] and world.got_term
    assert world.deadline == (Event.KILL_TIMER, 10.0)
    world.advance(10)
    assert world.signals[-1] == KILL and world.phase == Phase.DOWN


def test_leftovers_are_taken_down_before_finish():
    world = running_world(children=2, finish_present=True, ignores_term=True)
    world.die(after=3)
    assert world.phase == Phase.CLEANUP and world.signals == [TERM] and world.polling
    world.gone()
    assert world.phase == Phase.FINISHING and world.finish
    world.finish_exits()
    assert world.phase == Phase.RUNNING and len(world.runs) == 2


def test_a_finish_that_hangs_is_killed():
    world = running_world(finish_present=True, finish_timeout=2)
    world.die(after=3)
    world.advance(2)
    assert world.phase == Phase.RUNNING and not world.finish


def test_a_finish_that_cannot_start_is_skipped():
    world = running_world(finish_present=True, finish_ok=False)
    world.die(after=3)
    assert world.phase == Phase.RUNNING
    assert world.warnings[-1].startswith("unable to start ./finish")


def test_x_is_ignored_on_a_logger_but_shutdown_is_not():
    world = running_world(is_log=True)
    world.send(Event.EXIT)
    assert world.phase == Phase.RUNNING and world.want == Want.UP
    world.send(Event.SHUTDOWN)
    assert world.phase == Phase.STOPPING and world.want == Want.EXIT


def test_a_closed_log_pipe_gives_the_logger_its_timeout_kill():
    world = running_world(is_log=True, kill_timeout=2.0, ignores_term=True)
    world.send(Event.LOG_CLOSED)
    assert world.phase == Phase.RUNNING and world.want == Want.EXIT
    world.advance(2.0)
    assert world.phase == Phase.STOPPING


def test_a_closed_log_pipe_with_timeout_kill_0_stops_at_once():
    world = running_world(is_log=True, kill_timeout=0.0)
    world.send(Event.LOG_CLOSED).advance(0)
    assert world.phase == Phase.DOWN and world.want == Want.EXIT


# --- restarts the user asks for (issue 16.4) ---------------------------------------------------
@pytest.mark.parametrize("letter", [Event.TERM, Event.KILL])
def test_t_and_k_restart_at_once_without_counting_a_failure(letter):
    world = running_world()
    for _ in range(6):
        world.advance(0.05)
        world.send(letter)
        world.advance(0)
        assert world.phase == Phase.RUNNING and world.fails == 0
    assert len(world.runs) == 7 and Phase.BACKOFF not in [h[2] for h in world.history]


def test_d_then_u_restarts_at_once_whatever_the_restart_knob():
    world = running_world(policy=policy.Policy(restart="never"))
    world.fails = 3
    world.send(Event.DOWN).send(Event.UP)
    world.advance(0)
    assert world.phase == Phase.RUNNING and world.fails == 3 and len(world.runs) == 2


def test_a_crash_after_an_ignored_stop_request_is_a_restart_as_asked():
    world = running_world(ignores_term=True)
    world.send(Event.TERM)
    world.die(after=0.1)
    assert world.phase == Phase.RUNNING and world.fails == 0


def test_u_while_stopping_after_start_timeout_still_backs_off():
    world = World(readiness="check", start_timeout=1, ignores_term=True).send(Event.UP)
    world.fails = 2
    world.advance(1)
    world.send(Event.UP)
    world.die(signum=TERM)
    assert world.phase == Phase.BACKOFF and world.fails == 3


# --- signals ------------------------------------------------------------------------------
def test_p_and_c_pause_and_continue_a_live_run_only():
    world = running_world()
    world.send(Event.PAUSE)
    assert world.paused and world.history[-1][3] == "signal p"
    world.send(Event.CONT)
    assert not world.paused
    down = World(want=Want.DOWN).send(Event.PAUSE)
    assert not down.paused and down.phase == Phase.DOWN


@pytest.mark.parametrize("letter", list("haiq12"))
def test_signal_letters_do_not_change_phase_or_want(letter):
    world = running_world()
    world.send(letter)
    assert world.phase == Phase.RUNNING and world.want == Want.UP and not world.stop_asked


# --- on-exit exit: the end of an essential program ends everything --------------------------
def _ended_everything(world, runs=1):
    assert world.phase == Phase.DOWN and world.want == Want.EXIT and world.ended_all == 1
    assert len(world.runs) == runs and world.fails == 0 and world.next_try is None


def test_an_essential_run_that_ends_while_starting_ends_everything():
    world = World(readiness="check", start_timeout=5, on_exit_exit=True).send(Event.UP)
    assert world.phase == Phase.STARTING
    world.die(code=7, after=0.1)
    _ended_everything(world)
    assert world.history[-1][3] == "on-exit exit; down: want exit"


def test_an_essential_run_that_ends_while_running_ends_everything():
    world = running_world(on_exit_exit=True, policy=policy.Policy(restart="never"))
    world.die(code=0, after=3)
    _ended_everything(world)      # the want is exit, not the restart knob's down
    world.advance(60)
    assert len(world.runs) == 1


def test_an_essential_run_that_ends_while_ready_ends_everything():
    world = World(readiness="check", start_timeout=5, on_exit_exit=True).send(Event.UP)
    world.send(Event.READY)
    world.die(signum=TERM, after=3)
    _ended_everything(world)


def test_an_essential_run_stopped_by_d_ends_nothing():
    world = running_world(on_exit_exit=True, ignores_term=True)
    world.send(Event.DOWN)
    world.die(after=1)
    assert world.phase == Phase.DOWN and world.want == Want.DOWN and world.ended_all == 0


def test_an_essential_run_restarted_by_t_ends_everything():
    world = running_world(on_exit_exit=True)
    world.send(Event.TERM).advance(0)
    _ended_everything(world)


def test_an_essential_run_leaves_its_leftovers_and_finish_taken_down_then_stays_down():
    world = running_world(on_exit_exit=True, children=2, finish_present=True,
                          ignores_term=True)
    world.die(code=3, after=1)
    assert world.phase == Phase.CLEANUP and world.ended_all == 1 and world.want == Want.EXIT
    world.gone()
    assert world.phase == Phase.FINISHING
    world.finish_exits()
    _ended_everything(world)


@pytest.mark.parametrize("option", ["is_log", "exiting"])
def test_on_exit_means_nothing_on_a_logger_or_once_everything_is_ending(option):
    world = running_world(on_exit_exit=True, **{option: True})
    world.die(after=3)
    assert world.phase == Phase.RUNNING and world.ended_all == 0 and len(world.runs) == 2


# --- a supervisor that died before us -----------------------------------------------------------
def test_begin_takes_down_what_an_earlier_supervisor_left_then_starts():
    world = World()
    world.adopting, world.leftovers = True, {4242}
    world.send(Event.BEGIN)
    assert world.phase == Phase.CLEANUP and "4242" in world.warnings[0]
    world.gone()
    assert world.phase == Phase.RUNNING and len(world.runs) == 1


def test_begin_without_leftovers_starts_or_stays_down():
    assert World().send(Event.BEGIN).phase == Phase.RUNNING
    assert World(want=Want.DOWN).send(Event.BEGIN).phase == Phase.DOWN


def test_letters_in_a_resting_phase_only_note_the_want():
    world = World(want=Want.DOWN)
    for letter in "dx":
        world.send(letter)
        assert world.phase in REST_PHASES and not world.runs
    assert world.want == Want.EXIT


# --- random histories (hypothesis) ----------------------------------------------------------------
hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed")
st = hypothesis.strategies

ACTIONS = list("udoxtkpch") + ["die-quick", "die-slow", "tick", "second", "minute", "poll",
                                "finish-exits", "ready", "needs", "spawn-toggle"]
LETTER_WANT = {"u": Want.UP, "d": Want.DOWN, "o": Want.DOWN, "x": Want.EXIT}


def perform(world, action):
    if action in LETTER_WANT or len(action) == 1:
        world.send(action)
    elif action.startswith("die-") and world.run is not None:
        world.die(code=1, after=0.01 if action == "die-quick" else 2.0)
    elif action in ("tick", "second", "minute"):
        world.advance({"tick": 0.05, "second": 1.0, "minute": 60.0}[action])
    elif action == "poll" and world.polling and not world.leftovers:
        world.gone()
    elif action == "finish-exits" and world.finish:
        world.finish_exits()
    elif action == "ready" and world.run is not None and world.options["readiness"] \
            and not getattr(world.run, "readied", False):
        world.run.readied = True
        world.send(Event.READY)
    elif action == "needs":
        world.options["needs_met"] = not world.options["needs_met"]
        if world.options["needs_met"]:
            world.send(Event.NEEDS_MET)
    elif action == "spawn-toggle":
        world.options["spawn_ok"] = not world.options["spawn_ok"]


def drain(world):
    """Take it down and let every process end: what was started must be reaped."""
    world.options["spawn_ok"] = True
    world.send(Event.DOWN)
    for _ in range(50):
        if world.phase in REST_PHASES:
            break
        world.advance(60)
        if world.phase == Phase.CLEANUP and not world.leftovers:
            world.gone()
        if world.finish:
            world.finish_exits()


@hypothesis.settings(max_examples=400, deadline=None, database=None)
@hypothesis.given(
    restart=st.sampled_from(["always", "on-failure", "never"]),
    max_retries=st.sampled_from([None, 0, 2]),
    start_secs=st.sampled_from([0, 1.5]),
    readiness=st.sampled_from(["", "check"]),
    start_timeout=st.sampled_from([0, 0.5]),
    finish_present=st.booleans(), children=st.sampled_from([0, 2]),
    ignores_term=st.booleans(), kill_timeout=st.sampled_from([0.5, 10.0]),
    is_log=st.booleans(), on_exit_exit=st.booleans(),
    actions=st.lists(st.sampled_from(ACTIONS), max_size=40))
def test_random_histories_keep_the_invariants(restart, max_retries, start_secs, actions, **options):
    world = World(policy=policy.Policy(restart=restart, start_secs=start_secs,
                                       max_retries=max_retries), **options)
    world.send(Event.BEGIN)
    expected = Want.UP
    for action in actions:
        ended_all = world.ended_all
        perform(world, action)      # World._spawn asserts that never two runs are alive
        if action in LETTER_WANT and not (action == "x" and options["is_log"]):
            expected = LETTER_WANT[action]
        if world.ended_all > ended_all:     # on-exit exit: the host ends everything
            assert options["on_exit_exit"] and not options["is_log"]
            expected = Want.EXIT
        # want is never lost: only the restart knob may turn it down by itself
        if restart == "always":
            assert world.want == expected
        else:
            assert world.want in (expected, Want.DOWN)
        assert world.phase in Phase.ALL
        assert (world.run is not None) == (world.phase in RUN_OR_STOPPING)
    drain(world)
    assert world.phase in REST_PHASES, world.history[-5:]
    assert world.run is None and not world.leftovers and not world.finish
    assert all(not run.alive for run in world.runs)     # every started run was reaped


RUN_OR_STOPPING = (Phase.STARTING, Phase.RUNNING, Phase.READY, Phase.STOPPING)
