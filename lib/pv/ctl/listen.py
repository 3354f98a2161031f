"""pv-ctl listen: run a Supervisor event listener over pv's transition record.

The journal is read with a cursor; each record becomes Supervisor events
(pv.events.supervisor) kept in a buffer of ``buffer`` events, the oldest
dropped when full (as supervisord's buffer_size).  One event at a time goes
to the listener once it said READY; FAIL (or a garbled result) puts it back
at the head of the buffer; a listener that dies is started again, after a
back-off if it died young, and gets the event it was handling again.  With a
cursor file, the sequence number of every record fully acknowledged is kept
there, so a restarted ``pv-ctl listen`` goes on where it stopped.  When
PROCESS_LOG is subscribed, the logs of the services with a ``log-events``
knob are followed too (pv.ctl.logevents); their events are not in the
record, so a cursor does not bring them back.
"""

import collections
import os
import select
import subprocess
import time

from pv.ctl.logevents import EVENT_NAMES, LogEvents
from pv.events import protocol, supervisor
from pv.events.reader import Reader, Waker
from pv.events.record import parse

RESTART_FIRST_SECS = 0.1
RESTART_CAP_SECS = 5.0
YOUNG_SECS = 1.0         # a listener that dies sooner is restarted after a back-off


class Stop(Exception):
    """Raised by pv-ctl's SIGTERM handler: end the listener and return."""


class Event:
    __slots__ = ("seq", "name", "payload", "serial")

    def __init__(self, seq, name, payload, serial):
        self.seq, self.name, self.payload, self.serial = seq, name, payload, serial


class Listener:
    def __init__(self, directory, command, wanted, buffer, pool, env, warn,
                 cursor_file=None):
        self.command, self.wanted, self.size = command, wanted, buffer
        self.pool, self.env, self.warn = pool, env, warn
        self.cursor_file = cursor_file
        self.reader = Reader(directory, _read_cursor(cursor_file))
        self.waker = Waker(directory)
        self.mapper = supervisor.Mapper()
        self._replay(directory, self.reader.cursor)
        self.queue = collections.deque()
        self.busy = None            # the Event being handled by the listener
        self.child = self.parser = None
        self.ready = False
        self.serial = -1            # as supervisord: the first event is serial 0
        self.poolserial = -1
        self.started = 0.0
        self.restart_at = 0.0
        self.delay = RESTART_FIRST_SECS
        self.saved = None
        now = time.time()
        self.ticks = {p: (int(now) // p + 1) * p for p in supervisor.TICKS
                      if supervisor.subscribed("TICK_%d" % p, wanted)}
        self.stopping = False
        self.logs = None
        if any(supervisor.subscribed(n, wanted) for n in EVENT_NAMES.values()):
            self.logs = LogEvents(directory)

    def _replay(self, directory, upto):
        """Learn each process's last state from the records kept before the start,
        sending nothing, so that the first ``from_state`` is right."""
        reader = Reader(directory, 0)
        try:
            for seq, line in reader.read():
                if seq > upto:
                    break
                try:
                    self.mapper.events(parse(line))
                except ValueError:
                    continue
        finally:
            reader.close()

    # --- the listener process --------------------------------------------------
    def start(self):
        self.child = subprocess.Popen(self.command, stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, env=self.env, bufsize=0)
        os.set_blocking(self.child.stdout.fileno(), False)
        self.parser = protocol.Parser()
        self.ready = False
        self.started = time.monotonic()

    def _child_ended(self):
        """The listener died (or closed its output: then it is killed); its event
        goes back to the head of the buffer."""
        if self.child.poll() is None:
            self.child.kill()
        code = self.child.wait()
        self.child.stdin.close()
        self.child.stdout.close()
        self.child = None
        if self.busy is not None:
            self.queue.appendleft(self.busy)
            self.busy = None
        young = time.monotonic() - self.started < YOUNG_SECS
        self.warn("listener %s ended (%s); starting it again" % (self.command[0], _how(code)))
        self.restart_at = time.monotonic() + (self.delay if young else 0.0)
        self.delay = min(self.delay * 2, RESTART_CAP_SECS) if young else RESTART_FIRST_SECS

    def stop(self):
        if self.child is not None:
            self.child.terminate()
            try:
                self.child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.wait()
        self.waker.close()
        self.reader.close()
        if self.logs is not None:
            self.logs.close()

    # --- events -------------------------------------------------------------------
    def _pull(self):
        records = self.reader.read()
        if records and self.logs is not None:
            self.logs.refresh()     # a service added or started may have the knob now
        for seq, line in records:
            try:
                record = parse(line)
            except ValueError:
                continue
            for name, payload in self.mapper.events(record):
                self._offer(seq, name, payload)
        for first, last in self.reader.gaps:
            self.warn("records %d to %d were rotated away before they were read" % (first, last))
        del self.reader.gaps[:]

    def _pull_logs(self):
        for name, payload in self.logs.events(self.mapper.pid):
            self._offer(self.reader.cursor, name, payload)

    def _offer(self, seq, name, payload):
        if not supervisor.subscribed(name, self.wanted):
            return
        self.serial += 1
        self.queue.append(Event(seq, name, payload, self.serial))
        if len(self.queue) > self.size:
            lost = self.queue.popleft()
            self.warn("event buffer overflowed (buffer %d): discarded event %d (%s)"
                      % (self.size, lost.serial, lost.name))

    def _tick(self, now):
        for period, due in list(self.ticks.items()):
            if now >= due:
                self.ticks[period] = (int(now) // period + 1) * period
                self._offer(self.reader.cursor, "TICK_%d" % period,
                            supervisor.tick_payload(int(now) // period * period))

    def _send(self):
        if not (self.ready and self.queue and self.child is not None):
            return
        event = self.queue.popleft()
        self.poolserial += 1
        data = supervisor.envelope(event.name, event.payload, event.serial, self.pool,
                                   self.poolserial)
        self.busy, self.ready = event, False
        self.parser.sent()
        try:
            self.child.stdin.write(data)
        except OSError:
            pass        # it died; its stdout's end of file says so

    def _on_output(self):
        try:
            data = os.read(self.child.stdout.fileno(), 65536)
        except BlockingIOError:
            return
        if not data:
            self._child_ended()
            return
        for item in self.parser.feed(data):
            if item[0] == "ready":
                self.ready = True
            elif item[0] == "noise":
                self.warn("listener output: %s" % item[1].decode("utf-8", "replace").rstrip())
            else:
                self._result(item[1])

    def _result(self, body):
        event, self.busy = self.busy, None
        if event is None:
            return
        if body != b"OK":
            self.warn("listener answered %s to event %d (%s): sending it again"
                      % (body.decode("utf-8", "replace"), event.serial, event.name))
            self.queue.appendleft(event)
            return
        self._save_cursor()

    def _save_cursor(self):
        """Every record before the oldest unacknowledged event is done."""
        if self.cursor_file is None:
            return
        pending = [e.seq for e in self.queue] + ([self.busy.seq] if self.busy else [])
        done = min(pending) - 1 if pending else self.reader.cursor
        if done != self.saved:
            _write_cursor(self.cursor_file, done)
            self.saved = done

    # --- the loop ---------------------------------------------------------------------
    def run(self):
        """Until ``Stop`` (raised by a signal handler) or ``stopping``."""
        self.start()
        self._pull()
        while not self.stopping:
            now = time.monotonic()
            if self.child is None and now >= self.restart_at:
                self.start()
            self._tick(time.time())
            self._send()
            self._wait()

    def _wait(self):
        poller = select.poll()
        if self.waker.fd >= 0:
            poller.register(self.waker.fd, select.POLLIN)
        if self.child is not None:
            poller.register(self.child.stdout.fileno(), select.POLLIN)
        log_fds = self.logs.fds() if self.logs is not None else []
        for fd in log_fds:
            poller.register(fd, select.POLLIN)
        timeout = self._timeout()
        ready = poller.poll(None if timeout is None else max(0, timeout) * 1000)
        for fd, _ in ready:
            if fd == self.waker.fd:
                self.waker.wait(0)
                self._pull()
            elif self.child is not None and fd == self.child.stdout.fileno():
                self._on_output()
        if self.waker.fd < 0:
            self._pull()
        if self.logs is not None and (self.logs.timeout() is not None
                                      or any(fd in log_fds for fd, _ in ready)):
            self._pull_logs()

    def _timeout(self):
        """Seconds to the next tick, restart or poll; None: nothing but events."""
        candidates = [due - time.time() for due in self.ticks.values()]
        if self.child is None:
            candidates.append(self.restart_at - time.monotonic())
        if self.waker.fd < 0:
            candidates.append(0.25)
        if self.logs is not None and self.logs.timeout() is not None:
            candidates.append(self.logs.timeout())
        return min(candidates) if candidates else None


def _how(code):
    return "signal %d" % -code if code < 0 else "exit %d" % code


def _read_cursor(path):
    if path is None:
        return None
    try:
        with open(path) as f:
            text = f.read(64).strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def _write_cursor(path, seq):
    temp = path + ".new"
    with open(temp, "w") as f:
        f.write("%d\n" % seq)
    os.replace(temp, path)
