"""The supervisor of one directory: carries out what the table decides.

A ``Unit`` holds what one service directory (a service, or its logger) has:
its run, its finish, its timers and its records.  Everything that happens
to it becomes an event for ``table.step``, whose effects it then carries
out in order; it decides nothing itself.  It never blocks: every wait is a
timer or a child's exit, delivered through the host (pv-run's or pv-scan's
``Runner``, see host.py).
"""

import os
import time

from pv import servicedir, status
from pv.control import letter_signal     # at start: a stop must not need an import (runner.py)
from pv.signames import signal
from pv.supervise import execknobs, policy, procs, readiness, spawn, table
from pv.supervise.facts import UnitFacts
from pv.supervise.knobs import Knobs
from pv.supervise.leftovers import POLL_FIRST_SECS, Leftovers
from pv.supervise.records import RETRY_FIRST_SECS, Records
from pv.supervise.states import RUN_PHASES, Event, Phase, Want
from pv.status import RunitStatus, State
from pv.supervise.supervisedir import SuperviseDir


class Unit(Leftovers, Records):
    """One service directory under supervision (a service, or its logger)."""

    def __init__(self, path, label, service, host, is_log=False, instance=None):
        self.path = path              # absolute
        self.label = label            # as the user named it, for messages
        self.service, self.host = service, host
        self.is_log = is_log
        self.stdin = self.stdout = self.stderr = None
        self.instance = instance      # None, or k of an ``instances`` directory
        # An instance keeps its records in S/instance/k/supervise and is marked
        # with that directory, so that each is a service of its own to sv.
        own = path if instance is None else servicedir.instance_dir(path, instance)
        self.sv = SuperviseDir(own)
        self.marker = ("%s=%s" % (servicedir.MARKER_VAR, own)).encode()
        self.knobs = Knobs(path, lambda text: self.host.report(self, "warning", text))
        self.phase = Phase.DOWN
        self.want = Want.UP
        self.run = self.finish = None     # spawn.Child objects
        self.session = 0                  # the run's session and process group id
        self.started = self.uptime = 0.0  # monotonic start of the run; how long it lived
        self.got_term = self.paused = self.stop_asked = self.adopting = False
        self.record = State(supervisor=os.getpid())
        self.runit = RunitStatus(time.time_ns(), 0, False, True, False, 0)
        self.leftover_pid = 0
        self.policy = policy.Policy()
        self.failure = ""             # why the last spawn failed
        self._deadline = self._poll = self._retry = None   # Timers
        self._poll_delay, self._retry_delay = POLL_FIRST_SECS, RETRY_FIRST_SECS
        self._last_warning = None
        self._published = None      # what the records are to show (records.publish)
        self._wake = None           # the event for the waiters, while a write is due
        self._start_pid = 0         # the pid whose start time record.pid_start holds
        self.readiness = readiness.Watcher(self, "", None)
        self.exec_spec = execknobs.Exec()
        self.main_pid_hint = 0

    # pv-scan holds 1000s of units: what can be a class attribute is one.
    loop = property(lambda self: self.service.loop,
                    doc="The service's guarded loop: an error here never stops the others.")

    # --- events in, effects out --------------------------------------------------
    def handle(self, event):
        """Apply ``event`` (and the events its effects lead to); publish."""
        while event is not None:
            old = self.phase
            self.phase, effects, why = table.step(old, event, UnitFacts(self))
            # The one place a transition happens: (old, event) -> self.phase, why.
            self.host.record(self, old, event, self.phase, effects)
            event = None
            for effect in effects:
                event = EFFECTS[effect[0]](self, *effect[1:]) or event
        self.publish()

    def command(self, letter):
        """One control letter, as written to ``supervise/control``; others are ignored."""
        if letter in Event.LETTERS:
            self.handle(letter)

    def begin(self, want):
        """Start supervising with ``want``, unless the record of a supervisor
        restarted since boot says otherwise; first take down whatever of this
        service still runs, whatever that record says (the marker is the truth)."""
        try:
            old = status.read_state(self.sv.path)
        except (OSError, ValueError):
            old = None
        if old is not None and old.since >= procs.boot_time() and old.want in (Want.UP, Want.DOWN):
            want = old.want
        self.want = want
        proc = procs.read_proc(old.pid) if old is not None and old.pid else None
        if proc is not None and proc.start == old.pid_start:
            self.session = old.pid
        self.adopting = True
        self.handle(Event.BEGIN)

    # --- effects ------------------------------------------------------------------
    def _set(self, name, value):
        setattr(self, name, value)

    def _warn(self, text):
        if text != self._last_warning:     # a start failing again says it once
            self.host.report(self, "warning", text)
            self._last_warning = text

    def _next_try(self, delay):
        self.record.next_try = None if delay is None else time.time() + delay

    def _spawn(self):
        """Start ./run; the event saying how that went."""
        present = self.knobs.listed()     # one listing for every knob of this start
        try:
            return self._spawn_listed(present)
        finally:
            self.knobs.unlisted()

    def _spawn_listed(self, present):
        self.policy = self.knobs.policy()
        digest = servicedir.config_digest(self.path, present)
        if self.record.config and digest != self.record.config:
            self.host.record(self, self.phase, "config", self.phase, ())
        self.record.config = digest
        try:
            self.exec_spec = execknobs.read_exec(self.path, present)
            self.readiness = readiness.Watcher(self, *self.knobs.readiness_method())
            env = self._environment()
            env.update(self.readiness.env)
            self.run = spawn.spawn(["./run"], self.path, env, stdin=self.stdin,
                                   stdout=self.stdout, fds=self.readiness.fds,
                                   spec=self.exec_spec, nofile=self.host.child_nofile,
                                   stderr=self.stderr)
        except (servicedir.KnobError, OSError) as exc:
            self.readiness.close()
            self.failure = "unable to start ./run: %s" % (getattr(exc, "strerror", 0) or exc)
            return Event.SPAWN_FAILED
        self.readiness.start()
        self.record.readiness = self.readiness.kind
        self.record.status = ""
        self.main_pid_hint = 0
        self._last_warning = None
        self.track(self.run.pid, self._on_run_exit)
        self.session = self.run.pid
        self.started = time.monotonic()
        return Event.SPAWNED

    def _spawn_finish(self):
        code, signum = self.record.exit_code, self.record.exit_signal
        try:
            self.finish = self.spawn_helper(["./finish", str(-1 if signum else code),
                                             str(signum or 0)])
        except OSError as exc:
            self.failure = exc.strerror or str(exc)
            return Event.FINISH_FAILED
        self.track(self.finish.pid, self._on_finish_exit)
        return None

    def _signal_run(self, letter):
        try:
            os.kill(self.run.pid, letter_signal(letter))
        except OSError:
            pass  # it has exited; its SIGCHLD is on the way

    def _kill_finish(self):
        if self.finish is not None:
            procs.signal_pids((), signal.SIGKILL, group=self.finish.pid)

    def _arm(self, event, secs):
        self._disarm()
        if secs > 0:
            self._deadline = self.loop.call_later(secs, lambda: self.handle(event))

    def _disarm(self):
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _later(self, event, secs):
        self.loop.call_later(secs, lambda: self.handle(event))

    def _cancel(self):
        self._disarm()
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None

    def track(self, pid, callback):
        """Have ``callback(status)`` called, guarded, once ``pid`` is reaped."""
        self.host.track(pid, self.loop.guard(callback))

    def _on_run_exit(self, wait_status):
        spawn.reaped(self.run, wait_status)
        if self._follow_main_pid():
            return
        self.record.exit_code, self.record.exit_signal = procs.wait_status_text(wait_status)
        self.readiness.close()
        self.uptime = time.monotonic() - self.started
        self.run = None
        self.handle(Event.RUN_EXITED)

    def _follow_main_pid(self):
        """run exited, but told us (MAINPID=) of the process that is the service."""
        pid, self.main_pid_hint = self.main_pid_hint, 0
        proc = procs.read_proc(pid) if pid and pid != self.run.pid else None
        # Checked again: the pid named may have been reused since MAINPID= came.
        if proc is None or proc.zombie or proc.ppid != os.getpid() or \
                self.phase not in RUN_PHASES or not self.readiness.owns(pid):
            return False
        self.run = spawn.Child(pid)
        self.track(pid, self._on_run_exit)
        self.publish()
        return True

    def _on_finish_exit(self, wait_status):
        spawn.reaped(self.finish, wait_status)
        self.finish = None
        self.handle(Event.FINISH_EXITED)

    def note_status(self, text):
        """STATUS= from the service (sd-notify): shown in supervise/state."""
        self.record.status = text[:200]
        self.publish()

    def note_main_pid(self, pid):
        """MAINPID= from the service: the process to follow if run exits first."""
        self.main_pid_hint = pid

    def _environment(self):
        return self.knobs.environment(self.exec_spec, self.marker, self.instance,
                                      self.host.base_environment())

    def kill_timeout_secs(self):
        return self.knobs.kill_timeout_secs()

    def spawn_helper(self, argv):
        """Start a helper of the service (./check, ./finish) like its run, minus readiness."""
        return spawn.spawn(argv, self.path, self._environment(), stdin=self.stdin,
                           stdout=self.stdout, spec=self.exec_spec,
                           nofile=self.host.child_nofile, stderr=self.stderr)

def _setter(name):
    return lambda unit, value: unit._set(name, value)


def _add_restart(unit):
    unit.record.restarts += 1


EFFECTS = {
    "want": _setter("want"), "paused": _setter("paused"), "got_term": _setter("got_term"),
    "stop_asked": _setter("stop_asked"),
    "fails": lambda unit, n: setattr(unit.record, "fails", n),
    "restarts": _add_restart,
    "reason": lambda unit, text: setattr(unit.record, "reason", text),
    "warn": Unit._warn, "next_try": Unit._next_try,
    "ready_since": lambda unit, on: setattr(unit.record, "ready_since",
                                            time.time() if on else None),
    "spawn": Unit._spawn, "finish": Unit._spawn_finish,
    "signal_run": Unit._signal_run, "signal_all": Leftovers._signal_all,
    "kill_finish": Unit._kill_finish,
    "arm": Unit._arm, "disarm": Unit._disarm, "later": Unit._later, "cancel": Unit._cancel,
    "poll": Leftovers._schedule_poll, "forget_session": Leftovers._forget_session,
    "fatal": lambda unit: unit.service.unit_fatal(unit),
    "end_all": lambda unit: unit.host.end_all(unit),
}
"""Effect name -> how a Unit carries it out: a fixed table, never a getattr by name."""
