"""A Unit's records: what supervise/ shows, written when it changes.

Part of ``unit.Unit`` (a mixin, split out by concern).  The records are a
cache of the truth (the processes): a write that fails (ENOSPC, EROFS,
EFBIG) is not taken as written, and is tried again.
"""

import time

from pv.status import RunitStatus
from pv.supervise import procs
from pv.supervise.states import LIVE_PHASES, RUNIT_STATE, Phase, Want, shown

RETRY_FIRST_SECS = 0.1    # records that could not be written: again after this, doubling
RETRY_CAP_SECS = 5.0


class Records:
    """The records half of ``unit.Unit``."""

    def current_pid(self):
        """The pid the status files show: run, then leftovers, then finish."""
        if self.phase in LIVE_PHASES and self.run is not None:
            return self.run.pid
        if self.phase == Phase.CLEANUP:
            return self.leftover_pid
        if self.phase == Phase.FINISHING and self.finish is not None:
            return self.finish.pid
        return 0

    def publish(self):
        """Rewrite supervise/ if what it shows changed, then tell the service.

        A write that fails (ENOSPC, EROFS) is not taken as written: it is
        tried again at the next change and on a timer backing off to 5 s."""
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
        try:
            self.sv.publish(runit, record)
        except OSError as exc:
            self._published = None
            self._write_failed(exc)
        else:
            self._published = line
            if self._retry is not None:
                self._retry.cancel()
                self._retry, self._retry_delay = None, RETRY_FIRST_SECS
        self.service.unit_changed(self)

    def _write_failed(self, exc):
        if self._retry is None:     # once per spell of failures, not at every retry
            self.host.report(self, "warning", "unable to write %s: %s"
                             % (self.sv.path, exc.strerror))
        else:
            self._retry.cancel()
        self._retry = self.loop.call_later(self._retry_delay, self._retry_publish)
        self._retry_delay = min(self._retry_delay * 2, RETRY_CAP_SECS)

    def _retry_publish(self):
        if self._published is None:
            self.publish()

    def release(self):
        """Supervision ends: no timer of ours may fire any more."""
        self._cancel()
        if self._retry is not None:
            self._retry.cancel()
