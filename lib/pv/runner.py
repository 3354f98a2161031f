"""The process that hosts services: one loop, one reaper, the signals.

pv-run hosts one Service; pv-scan hosts many.  Both are child subreapers
where Linux allows it, so that processes which leave their service's
process group are still reaped and attributed.
"""

from pv.signames import signal

import os

from pv import diag, procs, servicedir
from pv.loop import Loop


class Runner:
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
        self.child_nofile = None       # the soft RLIMIT_NOFILE to give services, if we raised ours
        self.loop.on_signal(signal.SIGCHLD, self._on_sigchld)
        self.notifier = None
        if os.environ.get("NOTIFY_SOCKET"):
            from pv.notify import Notifier
            self.notifier = Notifier.from_environment(self.loop)

    # --- children ---------------------------------------------------------
    def track(self, pid, callback):
        self._owners[pid] = callback

    def known_pids(self):
        return set(self._owners)

    def _on_sigchld(self, signum):
        for pid, status in procs.reap():
            callback = self._owners.pop(pid, None)
            if callback is not None:
                callback(status)
            # else: an orphan we adopted as subreaper (or PID 1) is now reaped
        for service in list(self.services):
            for unit in service.units():
                service.loop.guard(unit.recheck)()

    # --- services ---------------------------------------------------------
    def add(self, service):
        """A Service, or every member of an Instances group."""
        self.services.extend(getattr(service, "members", (service,)))

    def service_gone(self, service):
        if service in self.services:
            self.services.remove(service)
        if not self.services and (self.exiting or self.stop_when_empty):
            self.loop.stop()
        elif self.exiting:
            self._stop_what_may_stop()

    def exit_all(self, signum=None):
        """Take every service down, then stop the loop."""
        if not self.exiting and self.notifier:
            self.notifier.stopping()
        self.exiting = True
        if not self.services:
            self.loop.stop()
        self._stop_what_may_stop()

    def _stop_what_may_stop(self):
        """At shutdown, in parallel but in reverse ``needs`` order."""
        from pv import needs
        for service in list(self.services):
            if not service.stopping and needs.may_stop(service, self.services,
                                                       self._report_needs):
                service.stopping = True
                service.exit()

    def needs_met(self, service):
        from pv import needs
        return needs.may_start(service, self.services, self._report_needs)

    def _report_needs(self, service, text):
        if text not in self._said:
            self._said.add(text)
            self.report(service.main, "warning", text)

    def service_changed(self, service):
        if self.exiting:
            self._stop_what_may_stop()
            return
        if self.notifier and self.settled:
            self.notifier.update(self.services)
        for other in list(self.services):
            if other.main.phase == "waiting":
                other.loop.guard(other.main.handle)("needs-met")

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
        from pv import needs, spawn
        from pv.supervise import PRIVATE_VARS
        path = hook if os.path.isabs(hook) else os.path.join(service.path, hook)
        env = {k: v for k, v in os.environ.items() if k not in PRIVATE_VARS}
        try:
            child = spawn.spawn([path, needs.name_of(service)], service.path, env,
                                nofile=self.child_nofile)
        except OSError as exc:
            self.report(unit, "warning", "unable to run on-fatal hook %s: %s"
                        % (hook, exc.strerror))
            return
        self.track(child.pid, lambda status: spawn.reaped(child, status))

    # --- messages ---------------------------------------------------------
    def report(self, unit, level, text):
        diag.say("%s %s" % (self.prog, unit.label), level, text)

    def close(self):
        self.loop.close()
