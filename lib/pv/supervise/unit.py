"""The supervisor of one directory: an explicit (phase, event) -> action table.

A ``Unit`` starts ``./run``, notices when it ends, takes down what it left
behind, runs ``./finish``, and decides whether and when to start again.  It
never blocks: every wait is a timer or a child's exit, delivered by the
``Host`` (pv-run's or pv-scan's loop) as an event.  pv-run and pv-scan drive
this same class.
"""

import os
from pv.signames import signal
import time

from pv import servicedir, status
from pv.supervise import execknobs
from pv.supervise import policy
from pv.supervise import procs
from pv.supervise import readiness
from pv.supervise import spawn
from pv.supervise.knobs import Knobs
from pv.supervise.states import RUNIT_STATE, Event, Phase, Want, shown
from pv.status import RunitStatus, State
from pv.supervise.supervisedir import SuperviseDir

POLL_FIRST_SECS = 0.005   # leftovers that are not our children: poll, backing off
POLL_CAP_SECS = 0.25
RUN_PHASES = (Phase.STARTING, Phase.RUNNING, Phase.READY)
# The name of the record a change of phase makes (pv-events(5)); STARTING->RUNNING is "up".
WHY = {Phase.STARTING: "spawn", Phase.RUNNING: "spawn", Phase.STOPPING: "stop",
       Phase.CLEANUP: "cleanup", Phase.FINISHING: "finish"}


class Unit:
    """One service directory under supervision (a service, or its logger)."""

    def __init__(self, path, label, host, is_log=False, stdin=None, stdout=None,
                 instance=None):
        self.path = path              # absolute
        self.label = label            # as the user named it, for messages
        self.host = host
        self.is_log = is_log
        self.stdin, self.stdout = stdin, stdout
        self.instance = instance      # None, or k of an ``instances`` directory
        # An instance keeps its records in S/instance/k/supervise and is marked
        # with that directory, so that each is a service of its own to sv.
        own = path if instance is None else servicedir.instance_dir(path, instance)
        self.sv = SuperviseDir(own)
        self.marker = ("%s=%s" % (servicedir.MARKER_VAR, own)).encode()
        self.knobs = Knobs(path, lambda text: self.host.report(self, "warning", text))
        self.phase = Phase.DOWN
        self.want = Want.UP
        self.run = self.finish = None     # Popen objects
        self.session = 0                  # the run's session and process group id
        self.started = 0.0                # monotonic time the run started
        self.got_term = self.paused = False
        self.record = State(supervisor=os.getpid())
        self.runit = RunitStatus(time.time_ns(), 0, False, True, False, 0)
        self.leftover_pid = 0
        self.policy = policy.Policy()
        self._deadline = self._poll = None   # Timers
        self._poll_delay = POLL_FIRST_SECS
        self._last_warning = None
        self._published = None      # the state line last written
        self.readiness = readiness.Watcher(self, "", None)
        self.exec_spec = execknobs.Exec()
        self.main_pid_hint = 0
        self.adopting = False       # cleaning up after a supervisor that died

    # --- the table -------------------------------------------------------
    TABLE = {
        (Phase.DOWN, Event.UP): "_start_fresh",
        (Phase.BACKOFF, Event.UP): "_start_fresh",
        (Phase.FATAL, Event.UP): "_start_fresh",
        (Phase.DOWN, Event.ONCE): "_start_fresh",
        (Phase.BACKOFF, Event.ONCE): "_start_fresh",
        (Phase.FATAL, Event.ONCE): "_start_fresh",
        (Phase.STARTING, Event.DOWN): "_stop",
        (Phase.RUNNING, Event.DOWN): "_stop",
        (Phase.READY, Event.DOWN): "_stop",
        (Phase.BACKOFF, Event.DOWN): "_go_down",
        (Phase.FATAL, Event.DOWN): "_go_down",
        (Phase.STARTING, Event.EXIT): "_stop",
        (Phase.RUNNING, Event.EXIT): "_stop",
        (Phase.READY, Event.EXIT): "_stop",
        (Phase.BACKOFF, Event.EXIT): "_go_down",
        (Phase.FATAL, Event.EXIT): "_go_down",
        (Phase.STARTING, Event.RUN_EXITED): "_run_ended",
        (Phase.RUNNING, Event.RUN_EXITED): "_run_ended",
        (Phase.READY, Event.RUN_EXITED): "_run_ended",
        (Phase.STOPPING, Event.RUN_EXITED): "_run_ended",
        (Phase.STOPPING, Event.KILL_TIMER): "_kill_all",
        (Phase.CLEANUP, Event.KILL_TIMER): "_kill_all",
        (Phase.CLEANUP, Event.LEFTOVERS_GONE): "_after_cleanup",
        (Phase.FINISHING, Event.FINISH_TIMER): "_kill_finish",
        (Phase.FINISHING, Event.FINISH_EXITED): "_decide",
        (Phase.BACKOFF, Event.BACKOFF_TIMER): "_start",
        (Phase.STARTING, Event.STARTED_TIMER): "_started",
        (Phase.STARTING, Event.READY): "_ready",
        (Phase.RUNNING, Event.READY): "_ready",
        (Phase.STARTING, Event.NOT_READY): "_not_ready",
        (Phase.WAITING, Event.UP): "_start",
        (Phase.WAITING, Event.ONCE): "_start",
        (Phase.WAITING, Event.NEEDS_MET): "_start",
        (Phase.WAITING, Event.DOWN): "_go_down",
        (Phase.WAITING, Event.EXIT): "_go_down",
    }

    def handle(self, event):
        """Apply ``event``; publish the records if anything changed."""
        action = self.TABLE.get((self.phase, event))
        if action is not None:
            getattr(self, action)()
        self.publish()

    def command(self, letter):
        """One control letter, as written to ``supervise/control``."""
        if letter == "u":
            self.set_want(Want.UP, letter)
            self.handle(Event.UP)
        elif letter == "d":
            self.set_want(Want.DOWN, letter)
            self.handle(Event.DOWN)
        elif letter == "o":
            self.set_want(Want.DOWN, letter)  # as runit: once means "up now, down when it ends"
            self.handle(Event.ONCE)
        elif letter == "x" and not self.is_log:
            self.set_want(Want.EXIT, letter)
            self.handle(Event.EXIT)
        elif letter in "pc" and self.run is not None:
            self.paused = letter == "p"
            self._signal_run(letter)
            self.publish()
        elif letter in "haiq12tk":
            self._signal_run(letter)
        # anything else is ignored, as runsv ignores it

    def set_want(self, want, by):
        """Change the want; the record says who: a letter, policy, shutdown, on-exit."""
        if want != self.want:
            old, self.want = self.want, want
            self.host.record(self, self.phase, self.phase, "want", want=want, was=old, by=by)

    # --- starting --------------------------------------------------------
    def begin(self, want):
        """Start supervising: publish, then start ``run`` if ``want`` is up.

        A supervisor restarted since boot keeps the want its predecessor
        recorded, and first takes down whatever that one left running.
        """
        self.want = self._previous_want() or want
        if not self._adopt_leftovers() and self.want == Want.UP:
            self._start()
        self.publish()

    def _previous_want(self):
        try:
            old = status.read_state(self.sv.path)
        except (OSError, ValueError):
            return None
        if old.since < procs.boot_time() or old.want not in ("up", "down"):
            return None
        return old.want

    def _adopt_leftovers(self):
        """Processes of this service left by a supervisor that died: take them down."""
        try:
            old = status.read_state(self.sv.path)
        except (OSError, ValueError):
            return False     # never supervised (or unreadable): nobody to adopt
        if not old.pid and old.state in ("down", "backoff", "fatal"):
            return False     # the last supervisor saw it all down
        proc = procs.read_proc(old.pid) if old.pid else None
        if proc is not None and proc.start == old.pid_start:
            self.session = old.pid
        self.adopting = True
        left = self._leftovers()
        if not left:
            self.adopting = False
            self.session = 0
            return False
        self.host.report(self, "warning", "taking down %d process(es) left running by a "
                         "previous supervisor: %s" % (len(left), " ".join(map(str, sorted(left)))))
        self.leftover_pid = min(left)
        self._set_phase(Phase.CLEANUP)
        self._signal_all(self.knobs.down_signal())
        self._arm_kill_timer()
        self._schedule_poll()
        return True

    def _start_fresh(self):
        self.record.fails = 0
        self._start()

    def _start(self):
        self._cancel_timers()
        if not self.host.may_start(self):
            self._set_phase(Phase.WAITING)
            return
        self.policy = self.knobs.policy()
        digest = servicedir.config_digest(self.path)
        if self.record.config and digest != self.record.config:
            self.host.record(self, self.phase, self.phase, "config")
        self.record.config = digest
        try:
            self.exec_spec = execknobs.read_exec(self.path)
        except (servicedir.KnobError, OSError) as exc:
            self._start_failed("unable to start ./run: %s" % (getattr(exc, "strerror", 0) or exc))
            return
        try:
            self.readiness = readiness.Watcher(self, *self.knobs.readiness_method())
            env = self._environment()
            env.update(self.readiness.env)
            self.run = spawn.spawn(["./run"], self.path, env, stdin=self.stdin,
                                   stdout=self.stdout, fds=self.readiness.fds,
                                   spec=self.exec_spec, nofile=self.host.child_nofile)
        except OSError as exc:
            self.readiness.close()
            self._start_failed("unable to start ./run: %s" % (exc.strerror or exc))
            return
        self.readiness.start()
        self.record.readiness = self.readiness.kind
        self.record.status = ""
        self.main_pid_hint = 0
        self._last_warning = None
        self.host.track(self.run.pid, self._on_run_exit)
        self.session = self.run.pid
        self.started = time.monotonic()
        self.got_term = self.paused = False
        self.record.reason = ""
        self.record.next_try = None
        self.record.ready_since = None
        if self.readiness.kind:
            self._set_phase(Phase.STARTING)
            secs = self.knobs.start_timeout_secs()
            if secs > 0:
                self._deadline = self.host.loop.call_later(
                    secs, lambda: self.handle(Event.NOT_READY))
        elif self.policy.start_secs > 0:
            self._set_phase(Phase.STARTING)
            self._deadline = self.host.loop.call_later(
                self.policy.start_secs, lambda: self.handle(Event.STARTED_TIMER))
        else:
            self._set_phase(Phase.RUNNING)

    def _environment(self):
        return self.knobs.environment(self.exec_spec, self.marker, self.instance)

    def kill_timeout_secs(self):
        return self.knobs.kill_timeout_secs()

    def spawn_helper(self, argv):
        """Start a helper of the service (./check, ./finish) like its run, minus readiness."""
        return spawn.spawn(argv, self.path, self._environment(), stdin=self.stdin,
                           stdout=self.stdout, spec=self.exec_spec,
                           nofile=self.host.child_nofile)

    def note_status(self, text):
        """STATUS= from the service (sd-notify): shown in supervise/state."""
        self.record.status = text[:200]
        self.publish()

    def note_main_pid(self, pid):
        """MAINPID= from the service: the process to follow if run exits first."""
        self.main_pid_hint = pid

    def _start_failed(self, text):
        self.record.fails += 1
        self.record.reason = text
        if text != self._last_warning:
            self.host.report(self, "warning", text)
            self._last_warning = text
        delay = policy.backoff_delay(max(self.record.fails, 2))
        self._backoff_or_fatal(delay)

    def _started(self):
        self.record.fails = 0
        self._set_phase(Phase.RUNNING, "up")

    def _ready(self):
        if self._deadline is not None:     # start-secs or start-timeout: no longer needed
            self._deadline.cancel()
            self._deadline = None
        self.record.fails = 0
        self.record.ready_since = time.time()
        self._set_phase(Phase.READY)

    def _not_ready(self):
        """start-timeout passed: stop the run; it counts as a failed start."""
        self._deadline = None
        self.record.fails += 1
        self.record.reason = "not ready within start-timeout"
        self.host.report(self, "warning", "not ready within start-timeout: stopping ./run")
        self._stop()

    # --- stopping --------------------------------------------------------
    def _stop(self):
        signum = self.knobs.down_signal()
        self._signal_all(signum)
        self.got_term = signum == signal.SIGTERM
        self._set_phase(Phase.STOPPING, signal=signum)
        self._arm_kill_timer()

    def _signal_all(self, signum):
        """Send ``signum`` (then CONT, so stopped processes see it) to everything of the run."""
        # The group gets one killpg; only those that left it are signalled one
        # by one (a shell that traps TERM must not see it twice).
        pids = procs.outside_group(self._leftovers(), self.session)
        procs.signal_pids(pids, signum, group=self.session)
        if signum not in (signal.SIGKILL, signal.SIGCONT):
            procs.signal_pids(pids, signal.SIGCONT, group=self.session)

    def _arm_kill_timer(self):
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        secs = self.knobs.kill_timeout_secs()
        if secs > 0:
            self._deadline = self.host.loop.call_later(secs, lambda: self.handle(Event.KILL_TIMER))

    def _kill_all(self):
        self._signal_all(signal.SIGKILL)
        self.host.record(self, self.phase, self.phase, "kill", signal=signal.SIGKILL)
        self._deadline = None
        self._schedule_poll()

    def _signal_run(self, letter):
        from pv.control import letter_signal
        if self.run is None or self.phase not in RUN_PHASES + (Phase.STOPPING,):
            return
        signum = letter_signal(letter)
        if signum == signal.SIGTERM:
            self.got_term = True
        try:
            os.kill(self.run.pid, signum)
        except OSError:
            pass  # it has exited; its SIGCHLD is on the way
        self.publish()

    # --- after run ends --------------------------------------------------
    def _on_run_exit(self, status):
        spawn.reaped(self.run, status)
        if self._follow_main_pid():
            return
        self.record.exit_code, self.record.exit_signal = procs.wait_status_text(status)
        self.host.record(self, self.phase, "exited", "exit")
        self.handle(Event.RUN_EXITED)

    def _follow_main_pid(self):
        """run exited, but told us (MAINPID=) of the process that is the service."""
        pid, self.main_pid_hint = self.main_pid_hint, 0
        proc = procs.read_proc(pid) if pid and pid != self.run.pid else None
        if proc is None or proc.zombie or proc.ppid != os.getpid() or \
                self.phase not in RUN_PHASES:
            return False
        self.run = spawn.Child(pid)
        self.host.track(pid, self._on_run_exit)
        self.publish()
        return True

    def _run_ended(self):
        self.readiness.close()
        uptime = time.monotonic() - self.started
        if self.phase != Phase.STOPPING and self.want == Want.UP:
            if policy.is_quick_death(self.policy, uptime):
                self.record.fails += 1
            else:
                self.record.fails = 0
        stopping = self.phase == Phase.STOPPING
        self.run = None
        self.got_term = self.paused = False
        left = self._leftovers()
        if not left:
            self._after_cleanup()
            return
        self.leftover_pid = min(left)
        self._set_phase(Phase.CLEANUP)
        if not stopping:
            self._signal_all(self.knobs.down_signal())
            self._arm_kill_timer()
        self._schedule_poll()

    def _leftovers(self):
        """Live pids of the run: its session, its descendants, marked orphans."""
        if not self.adopting and self.run is None and \
                procs.nothing_left(self.session, self.host.known_pids()):
            return set()
        table = self.host.proc_table()
        if not table:   # no /proc: the process group is all we can see
            alive = procs.group_exists(self.session) if self.session else False
            return {self.session} if alive else set()
        mine = procs.belonging(table, self.session, self.marker, self.host.known_pids())
        if self.adopting:   # they were reparented elsewhere: search everywhere
            mine |= procs.tagged_anywhere(table, self.marker)
        return mine

    def _schedule_poll(self):
        if self._poll is not None:
            self._poll.cancel()
        self._poll = self.host.loop.call_later(self._poll_delay, self.recheck)
        self._poll_delay = min(self._poll_delay * 2, POLL_CAP_SECS)

    def recheck(self):
        """Called on a poll timer and after any child is reaped: are leftovers gone?"""
        if self.phase != Phase.CLEANUP:
            return
        left = self._leftovers()
        if left:
            if self.leftover_pid not in left:
                self.leftover_pid = min(left)
                self.publish()
            if self._poll is None or self._poll.cancelled:
                self._schedule_poll()
            return
        self.handle(Event.LEFTOVERS_GONE)

    def _after_cleanup(self):
        self._cancel_timers()
        self._poll_delay = POLL_FIRST_SECS
        self.session = 0
        self.leftover_pid = 0
        if self.adopting:
            self.adopting = False
            if self.want == Want.UP:
                self._start()
            else:
                self._go_down()
            return
        finish = os.path.join(self.path, servicedir.FINISH)
        if os.access(finish, os.X_OK):
            self._run_finish()
        else:
            self._decide()

    def _run_finish(self):
        code, signum = self.record.exit_code, self.record.exit_signal
        argv = ["./finish", str(-1 if signum else code), str(signum or 0)]
        try:
            self.finish = self.spawn_helper(argv)
        except OSError as exc:
            self.host.report(self, "warning", "unable to start ./finish: %s" % exc.strerror)
            self._decide()
            return
        self.host.track(self.finish.pid, self._on_finish_exit)
        self._set_phase(Phase.FINISHING)
        secs = self.knobs.finish_timeout_secs()
        if secs > 0:
            self._deadline = self.host.loop.call_later(
                secs, lambda: self.handle(Event.FINISH_TIMER))

    def _on_finish_exit(self, status):
        spawn.reaped(self.finish, status)
        self.handle(Event.FINISH_EXITED)

    def _kill_finish(self):
        self._deadline = None
        procs.signal_pids((), signal.SIGKILL, group=self.finish.pid)

    def _decide(self):
        """The run (and finish) are over: start again now, later, or never."""
        self._cancel_timers()
        self.finish = None
        code, signum = self.record.exit_code, self.record.exit_signal
        if self.want != Want.UP:
            self._go_down()
        elif not policy.wants_restart(self.policy, code, signum):
            self.set_want(Want.DOWN, "policy")
            self._go_down()
        else:
            self._backoff_or_fatal(policy.backoff_delay(self.record.fails), restart=True)

    def _backoff_or_fatal(self, delay, restart=False):
        if policy.gives_up(self.policy, self.record.fails):
            self.record.next_try = None
            self._set_phase(Phase.FATAL)
            self.host.report(self, "warning", "giving up after %d failed starts in a row"
                             % self.record.fails)
            self.host.unit_fatal(self)
        elif delay <= 0:
            self.record.restarts += restart
            self._start()
        else:
            self.record.restarts += restart
            self.record.next_try = time.time() + delay
            self._set_phase(Phase.BACKOFF)
            self._deadline = self.host.loop.call_later(delay,
                                                       lambda: self.handle(Event.BACKOFF_TIMER))

    def _go_down(self):
        self._cancel_timers()
        self.record.next_try = None
        self._set_phase(Phase.DOWN)

    def _cancel_timers(self):
        for timer in (self._deadline, self._poll):
            if timer is not None:
                timer.cancel()
        self._deadline = self._poll = None

    # --- records ---------------------------------------------------------
    def _set_phase(self, phase, why=None, **fields):
        old, self.phase = self.phase, phase
        self.host.record(self, old, phase, why or WHY.get(phase, phase), **fields)

    def current_pid(self):
        """The pid the status files show: run, then leftovers, then finish."""
        if self.phase in RUN_PHASES + (Phase.STOPPING,) and self.run is not None:
            return self.run.pid
        if self.phase == Phase.CLEANUP:
            return self.leftover_pid
        if self.phase == Phase.FINISHING and self.finish is not None:
            return self.finish.pid
        return 0

    def publish(self):
        """Rewrite supervise/ if what it shows changed, then notify the host."""
        pid = self.current_pid()
        state = RUNIT_STATE[self.phase]
        runit = RunitStatus(self.runit.changed_ns, pid, self.paused,
                            self.want == Want.UP, self.got_term, state)
        if (pid, state) != (self.runit.pid, self.runit.state):
            runit.changed_ns = time.time_ns()
        record = self.record
        record.state = shown(self.phase)
        if record.pid != pid:
            proc = procs.read_proc(pid) if pid else None
            record.pid_start = proc.start if proc else 0
        record.pid = pid
        record.want = self.want
        record.since = runit.changed_ns / 1e9
        line = record.to_json()
        if runit == self.runit and line == self._published:
            return
        self.runit = runit
        self._published = line
        try:
            self.sv.publish(runit, record)
        except OSError as exc:
            self.host.report(self, "warning", "unable to write %s: %s"
                             % (self.sv.path, exc.strerror))
        self.host.unit_changed(self)
