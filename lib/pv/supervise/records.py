"""A Unit's records: what supervise/ shows, written when it changes.

Part of ``unit.Unit`` (a mixin, split out by concern).  ``publish`` notes a
change at once (the service and the host hear of it then) and writes it at
the end of the loop's batch (``Host.write_later``), once, whatever the number of
steps the batch made: pv-scan starting or stopping 1,000 services reaches
every process first and writes after, while the processes run.  The lock is
held from before the first start, so nothing but this unit writes here.

The first write makes ``control``, ``ok`` and ``event/`` first, then the
records, in the order a supervisor always had them: a client that finds a
record finds ``control`` open.

The records are a cache of the truth (the processes): a write that fails
(ENOSPC, EROFS, EFBIG) is not taken as written, and is tried again.
"""

import time

from pv.diag import PvError
from pv.status import RunitStatus, State
from pv.supervise.states import LIVE_PHASES, RUNIT_STATE, Phase, Want, shown

RETRY_FIRST_SECS = 0.1    # records that could not be written: again after this, doubling
RETRY_CAP_SECS = 5.0
_SHOWN = tuple(name for name in State.FIELDS if name != "pid_start")   # pid_start: at write


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
        """Note what supervise/ is to show; if it changed, write it at the
        end of this batch and tell the service now."""
        pid = self.current_pid()
        state = RUNIT_STATE[self.phase]
        runit = RunitStatus(self.runit.changed_ns, pid, self.paused,
                            self.want == Want.UP, self.got_term, state)
        if (pid, state) != (self.runit.pid, self.runit.state):
            runit.changed_ns = time.time_ns()
        record = self.record
        record.state = shown(self.phase)
        record.pid = pid
        record.want = self.want
        record.since = runit.changed_ns / 1e9
        shows = (runit.paused, runit.want_up, runit.got_term) + \
            tuple(getattr(record, name) for name in _SHOWN)
        if runit == self.runit and shows == self._published:
            return
        self.runit, self._published = runit, shows
        self.wake(b"s")
        self.service.unit_changed(self)

    def wake(self, event):
        """Write the records (if they changed) at the end of this batch, then
        ``event`` to the waiters in event/ (``s``: the records changed, ``c``:
        letters were read).  Both may go at once: a waiter that sent letters
        judges only after a ``c``, since an ``s`` alone may come from a batch
        that ran before its letters were read."""
        if self._wake is None:
            self.host.write_later(self)
            self._wake = event
        elif event not in self._wake:
            self._wake += event

    def write_records(self):
        """The deferred write: the records, control and ok the first time, then
        the waiters.  Also the retry of a write that failed."""
        event, self._wake = self._wake or b"c", None
        if self.sv.lock_fd < 0:
            return      # released: another supervisor may hold the lock now
        record = self.record
        if record.pid != self._start_pid:
            # Asked here, once the batch of starts is over: /proc of a process
            # that is still in its exec is slow to read.
            run = self.run
            told = run.start if run is not None and run.pid == record.pid else None
            record.pid_start = self.host.start_of(record.pid, told) if record.pid else 0
            self._start_pid = record.pid
        failure = None
        if not self.sv.listening:
            try:
                self.service.listen(self)
            except (OSError, PvError) as exc:
                failure = exc       # the records are worth writing all the same
        try:
            self.sv.write(self.runit, record)
        except OSError as exc:
            failure = exc
        if failure is not None:
            self._write_failed(failure)
            return
        if self._retry is not None:
            self._retry.cancel()
            self._retry, self._retry_delay = None, RETRY_FIRST_SECS
        self.sv.notify(event)

    def _write_failed(self, exc):
        if self._retry is None:     # once per spell of failures, not at every retry
            text = exc.message() if isinstance(exc, PvError) else \
                "unable to write %s: %s" % (self.sv.path, exc.strerror)
            self.host.report(self, "warning", text)
        else:
            self._retry.cancel()
        self._retry = self.loop.call_later(self._retry_delay, lambda: self.wake(b"s"))
        self._retry_delay = min(self._retry_delay * 2, RETRY_CAP_SECS)

    def release(self):
        """Supervision ends: the last records are written now, while the lock
        is still held; no timer of ours may fire any more."""
        if self._wake is not None:
            self.write_records()
        self._cancel()
        if self._retry is not None:
            self._retry.cancel()
