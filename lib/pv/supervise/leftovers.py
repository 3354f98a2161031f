"""A Unit's leftovers: what of a run is still alive after it, and taking it down.

Part of ``unit.Unit`` (a mixin, split out by concern): the processes of a
run are its session, its descendants, and orphans that carry its marker;
after a supervisor that died, marked processes anywhere on the system.
"""

from pv.signames import signal
from pv.supervise import procs
from pv.supervise.states import Event, Phase

POLL_FIRST_SECS = 0.005   # leftovers that are not our children: poll, backing off
POLL_CAP_SECS = 0.25


class Leftovers:
    """The leftovers half of ``unit.Unit``."""

    def _leftovers(self):
        """Live pids of the run: its session, its descendants, marked orphans;
        when adopting, also marked processes anywhere (reparented elsewhere)."""
        marked = ()
        if self.adopting:     # cheap when nothing carries the marker: no table
            marked = self.host.marked(self.marker)
            if not marked and not (self.session and procs.group_exists(self.session)):
                return set()
        elif self.run is None and procs.nothing_left(self.session, self.host.known_pids()):
            return set()
        table = self.host.proc_table()
        if not table:   # no /proc: the process group is all we can see
            alive = procs.group_exists(self.session) if self.session else False
            return {self.session} if alive else set()
        mine = procs.belonging(table, self.session, self.marker, self.host.known_pids())
        # The main process followed after MAINPID= may have left the session
        # (a daemon that called setsid): it is the run's all the same.
        found = procs.with_descendants(table, list(marked) + (
            [self.run.pid] if self.run is not None else []))
        return mine | {pid for pid in found if pid in table and not table[pid].zombie}

    def look_for_leftovers(self):
        """The leftovers now, remembering the pid the records show for them."""
        left = self._leftovers()
        self.leftover_pid = min(left) if left else 0
        return left

    def recheck(self):
        """Called on a poll timer and after any child is reaped: are leftovers gone?"""
        if self.phase != Phase.CLEANUP:
            return      # cheap: pv-scan asks every unit after every reaped child
        left = self._leftovers()
        if not left:
            self.handle(Event.LEFTOVERS_GONE)
            return
        if self.leftover_pid not in left:
            self.leftover_pid = min(left)
            self.publish()
        if self._poll is None or self._poll.cancelled:
            self._schedule_poll()

    def _signal_all(self, signum):
        """Send ``signum`` (then CONT, so stopped processes see it) to everything of the run."""
        # The group gets one killpg; only those that left it are signalled one
        # by one (a shell that traps TERM must not see it twice).
        pids = procs.outside_group(self._leftovers(), self.session)
        procs.signal_pids(pids, signum, group=self.session)
        if signum not in (signal.SIGKILL, signal.SIGCONT):
            procs.signal_pids(pids, signal.SIGCONT, group=self.session)

    def _schedule_poll(self):
        if self._poll is not None:
            self._poll.cancel()
        self._poll = self.loop.call_later(self._poll_delay, self.recheck)
        self._poll_delay = min(self._poll_delay * 2, POLL_CAP_SECS)

    def _forget_session(self):
        self._poll_delay = POLL_FIRST_SECS
        self.session = self.leftover_pid = 0
        self.adopting = False

    # --- what the children and helpers tell us -------------------------------------
