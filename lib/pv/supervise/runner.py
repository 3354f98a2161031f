"""The process that hosts services: one loop, one reaper, the signals.

pv-run hosts one Service; pv-scan hosts many.  Both are child subreapers
where Linux allows it, so that processes which leave their service's
process group are still reaped and attributed.
"""

from pv.signames import signal

import os

from pv import diag, servicedir
from pv.events.hook import Recorder, exit_status_code
from pv.supervise import procs
from pv.supervise.host import Host
from pv.supervise.loop import Loop
from pv.supervise.marks import Marks
# What taking everything down needs is loaded at start: a supervisor whose
# files were removed or replaced since (an upgrade) must still stop its
# services, and an import at shutdown would fail or load other code.
from pv.supervise.needs import Needs, name_of
from pv.supervise.states import Event, Phase
from pv.supervise.supknobs import priority_of

CLOCK_CHECKS = 3     # children whose clock-told start /proc confirms before it is trusted


class Runner(Host):
    """The host (host.Host) of pv-run and of pv-scan."""

    def __init__(self, prog):
        self.prog = prog
        self.loop = Loop()
        self.services = []
        self._owners = {}         # pid -> callback(wait status)
        self.subreaper = procs.become_subreaper()
        self.exiting = False
        self.stop_when_empty = False   # pv-run: exit once its one service is gone
        self.exit_code = 0
        self.settled = True            # pv-scan: False until its first scan is done
        self._said = set()             # needs problems already reported
        self._needs = None             # the Needs graph, rebuilt when the set changes
        self._waiting = set()          # services waiting for what they need
        self._cleaning = set()         # units in Phase.CLEANUP: a reaped child may free them
        self._in_stop_pass = self._stop_again = False
        self._unstopped = None         # at shutdown: the services not told to stop yet
        self._priorities = {}          # path -> priority, read once at shutdown
        self._notify_pending = False
        self._table, self._table_iteration = {}, -1
        self.marks = Marks(self.loop, self._markers)
        self.on_entry_gone = None      # pv-scan: called with an entry once all of it is gone
        self.child_nofile = None       # the soft RLIMIT_NOFILE to give services, if we raised ours
        self._base_env = None          # base_environment(), once made
        self._to_write = []            # units whose records are due this batch (write_later)
        self._clock_checks = 0         # spawn.Child.start seen to match /proc so far; -1: it did not
        self.loop.on_signal(signal.SIGCHLD, self._on_sigchld)
        self.recorder = None           # the transition record (pv.events), once opened
        self.notifier = None
        if os.environ.get("NOTIFY_SOCKET"):
            from pv.supervise.notify import Notifier
            self.notifier = Notifier.from_environment(self.loop)

    # --- children ---------------------------------------------------------
    def track(self, pid, callback):
        self._owners[pid] = callback

    def known_pids(self):
        return self._owners.keys()      # a live view: no copy of 1000 pids per question

    def proc_table(self):
        """/proc as read once per batch of events: when 1000 services stop
        together, one scan serves them all.  A table a few ms old can only
        show too many processes (a service then looks again), never too few
        of those it cares about: a process forked since has a parent in it."""
        if self._table_iteration != self.loop.iteration:
            self._table = procs.proc_table()
            self._table_iteration = self.loop.iteration
        return self._table

    def marked(self, marker):
        return self.marks.marked(marker)

    def expect(self, paths):
        self.marks.expect(paths)

    def _markers(self):
        return {unit.marker for service in self.services for unit in service.units()}

    def _on_sigchld(self, signum):
        for pid, status in procs.reap():
            callback = self._owners.pop(pid, None)
            if callback is not None:
                callback(status)
            # else: an orphan we adopted as subreaper (or PID 1) is now reaped
        for unit in list(self._cleaning):    # the only phase recheck looks at
            unit.service.loop.guard(unit.recheck)()

    # --- services ---------------------------------------------------------
    def add(self, entry):
        """A Service, or an Instances group: each of its members."""
        self.services.extend(entry.members)
        self._needs = None
        if self.recorder is not None:
            for member in entry.members:
                self.recorder.service("added", member)

    @property
    def needs(self):
        """The needs graph of the services now supervised, built when first asked."""
        if self._needs is None:
            self._needs = Needs(self.services, self._report_needs)
        return self._needs

    def service_gone(self, service):
        if self.recorder is not None and hasattr(service, "main"):
            self.recorder.service("removed", service)
        if service in self.services:
            self.services.remove(service)
            if not self.exiting:    # at shutdown the graph only shrinks: keep it
                self._needs = None
        self._waiting.discard(service)
        self._cleaning.difference_update(service.units())
        if service.entry.gone and self.on_entry_gone is not None:
            self.on_entry_gone(service.entry)
        if not self.services and (self.exiting or self.stop_when_empty):
            self.loop.stop()
        elif self.exiting:
            self._stop_what_may_stop()

    def exit_all(self, signum=None):
        """Take every service down, then stop the loop."""
        if not self.exiting and self.notifier:
            self.notifier.stopping()
        if not self.exiting and self.recorder is not None:
            self.recorder.note("stopping", code=self.exit_code)
        self.exiting = True
        if not self.services:
            self.loop.stop()
        self._stop_what_may_stop()

    def _stop_what_may_stop(self):
        """At shutdown, in parallel but in reverse ``needs`` order.

        Only a service going frees another to stop (its level is empty, or
        what needed it is gone): a pass runs at exit_all and after each
        service gone, and looks only at those not stopping yet, so that 1000
        services going one by one cost 1000 steps, not a million.  An exit()
        that comes back here (a service already down goes at once) only asks
        for another pass: no nesting 1000 deep.
        """
        if self._in_stop_pass:
            self._stop_again = True
            return
        if self._unstopped is None:
            self._unstopped = [s for s in self.services if not s.stopping]
        self._in_stop_pass = True
        try:
            self._stop_again = True
            while self._stop_again and self._unstopped:
                self._stop_again = False
                self._stop_pass()
        finally:
            self._in_stop_pass = False

    def _stop_pass(self):
        live = {name_of(s) for s in self.services} if self.needs.needed_by else set()
        top = max((self._priority(s) for s in self.services), default=None)
        now, later = [], []
        for service in self._unstopped:
            if service.gone or service.stopping:
                continue
            go = self._priority(service) == top and self.needs.may_stop(service, live)
            (now if go else later).append(service)
        self._unstopped = later
        for service in now:
            service.stopping = True
            service.exit()

    def _priority(self, service):
        """Its ``priority`` (supknobs): the highest level stops first, and the
        next only once all of it is gone, as supervisord stops its groups."""
        if service.path not in self._priorities:
            self._priorities[service.path] = priority_of(service.path)
        return self._priorities[service.path]

    def needs_met(self, service):
        if not os.path.lexists(os.path.join(service.path, servicedir.NEEDS)):
            return True     # it needs nothing: no graph of every service to build for that
        return self.needs.may_start(service)

    def waiting_for_needs(self):
        """Whether some service waits for what it needs (pv-scan: add new entries together)."""
        return bool(self._waiting)

    def _report_needs(self, service, text):
        if text not in self._said:
            self._said.add(text)
            self.report(service.main, "warning", text)

    def service_changed(self, service):
        if self.exiting:
            return      # at shutdown only a service gone lets another stop
        if self.notifier and self.settled and not self._notify_pending:
            # Once per batch of changes, not once per change: at start-up
            # that would be N passes over N services.  Deferred after the
            # records of the batch: systemd hears READY=1 once they show it.
            self._notify_pending = True
            self.loop.defer(self._notify_now)
        if service is not None:
            if service.main.phase == Phase.WAITING:
                self._waiting.add(service)
            else:
                self._waiting.discard(service)
        for other in list(self._waiting):
            other.loop.guard(other.main.handle)(Event.NEEDS_MET)

    def _notify_now(self):
        self._notify_pending = False
        if not self.exiting:
            self.notifier.update(self.services)

    def unit_fatal(self, service, unit):
        """A unit gave up: do what its ``on-fatal`` says (down, exit, or a hook)."""
        if unit is not service.main:
            return
        action = servicedir.read_on_fatal(service.path)
        if action == "down":
            return
        if action == "exit":
            self.report(unit, "warning", "on-fatal exit: taking everything down")
            self.exit_code = diag.EXIT_FATAL_SERVICE
            self.exit_all()
            return
        self._run_hook(service, unit, action)

    def _run_hook(self, service, unit, hook):
        from pv.supervise import spawn
        from pv.supervise.knobs import PRIVATE_VARS
        path = hook if os.path.isabs(hook) else os.path.join(service.path, hook)
        env = {k: v for k, v in os.environ.items() if k not in PRIVATE_VARS}
        try:
            child = spawn.spawn([path, name_of(service)], service.path, env,
                                nofile=self.child_nofile)
        except OSError as exc:
            self.report(unit, "warning", "unable to run on-fatal hook %s: %s"
                        % (hook, exc.strerror))
            return
        self.track(child.pid, lambda status: spawn.reaped(child, status))

    # --- the transition record (pv-events(5)) and on-exit ------------------
    def open_journal(self, directory, base_label, base_name):
        """Record transitions in ``directory``; a warning, not a failure, if impossible."""
        recorder = Recorder(directory, base_label, base_name)
        try:
            recorder.open()
        except OSError as exc:
            diag.warn(self.prog, "unable to open %s: %s" % (directory, exc.strerror))
            return
        self.recorder = recorder
        recorder.note("started")

    def record(self, unit, old, event, new, effects):
        """One step of ``unit``'s table, before its effects (pv-events(5))."""
        if (old == Phase.CLEANUP) != (new == Phase.CLEANUP):
            # Kept here, the one place every step passes: each SIGCHLD then
            # looks at these units, not at every unit of 1000 services.
            (self._cleaning.add if new == Phase.CLEANUP else self._cleaning.discard)(unit)
        if self.recorder is not None:
            self.recorder.step(unit, old, event, new, effects)

    def end_all(self, unit):
        """An ``on-exit exit`` program ended: everything ends, with its status."""
        code = exit_status_code(unit.record.exit_code, unit.record.exit_signal)
        self.report(unit, "warning", "on-exit exit: ended with %d; taking everything down" % code)
        self.exit_code = code
        # Not from inside the unit's handling of its exit: from the loop, next.
        self.loop.call_later(0, self.exit_all)

    def start_of(self, pid, told):
        if told is not None and self._clock_checks >= CLOCK_CHECKS:
            return told
        proc = procs.read_proc(pid)
        start = proc.start if proc is not None else 0
        if told is not None and proc is not None and self._clock_checks >= 0:
            # Checked on the first children: a kernel (or an emulated /proc)
            # that stamps its processes otherwise keeps every record to /proc's word.
            self._clock_checks = self._clock_checks + 1 if start == told else -1
        return start

    def write_later(self, unit):
        # One deferred call and one list per batch, not 1000 short-lived
        # closures among a batch's long-lived objects (a fragmented heap).
        if not self._to_write:
            self.loop.defer(self._write_all)
        self._to_write.append(unit)

    def _write_all(self):
        units, self._to_write = self._to_write, []
        for unit in units:
            unit.service.loop.guard(unit.write_records)()

    def base_environment(self):
        # Made once: copying os.environ (decoding every variable) at each of
        # 1000 starts costs a tenth of a second; nothing in pv changes it.
        if self._base_env is None:
            from pv.supervise.knobs import base_environment
            self._base_env = base_environment()
        return self._base_env

    # --- messages ---------------------------------------------------------
    def report(self, unit, level, text):
        diag.say("%s %s" % (self.prog, unit.label), level, text)

    def close(self):
        self.loop.run_deferred()       # the last records, before the journal's last line
        if self.recorder is not None:
            self.recorder.note("stopped", code=self.exit_code)
            self.recorder.close()
            self.recorder = None
        self.loop.close()
