"""The process that hosts services: one loop, one reaper, the signals.

pv-run hosts one Service; pv-scan hosts many.  Both are child subreapers
where Linux allows it, so that processes which leave their service's
process group are still reaped and attributed.
"""

from pv.signames import signal

from pv import diag, procs
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
        self.child_nofile = None       # the soft RLIMIT_NOFILE to give services, if we raised ours
        self.loop.on_signal(signal.SIGCHLD, self._on_sigchld)

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
        self.services.append(service)

    def service_gone(self, service):
        if service in self.services:
            self.services.remove(service)
        if not self.services and (self.exiting or self.stop_when_empty):
            self.loop.stop()

    def exit_all(self, signum=None):
        """Take every service down, then stop the loop."""
        self.exiting = True
        if not self.services:
            self.loop.stop()
        for service in list(self.services):
            service.exit()

    def unit_fatal(self, service, unit):
        """A unit gave up; pv-run leaves it down (pv-scan may do more)."""

    # --- messages ---------------------------------------------------------
    def report(self, unit, level, text):
        diag.say("%s %s" % (self.prog, unit.label), level, text)

    def close(self):
        self.loop.close()
