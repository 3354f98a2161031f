"""One selector loop: file descriptors, timers, and signals as events.

Signals reach the loop through ``signal.set_wakeup_fd``: the C handler
writes the signal number to a pipe the selector watches, so a signal wakes
``select`` and is handled in ordinary code, never inside a handler.  With no
timer pending, ``select`` blocks with no timeout: an idle loop never wakes.

``defer`` queues work for the end of the batch under way: it runs once
every ready descriptor and due timer of this turn has been handled, before
the loop waits again.  pv-scan writes its records there, so that a batch
of 1,000 starts or stops reaches every process first, and each service's
records are written once for the batch, not once per step.
"""

import heapq
import itertools
import os
import select
from pv.signames import signal
import time

# The longest one poll(2)/epoll_wait may block (their timeout is an int of
# ms: 2^31 ms is 24.8 days).  A timer further away is simply waited for in
# several turns; it is never an error.
MAX_WAIT_SECS = 3600.0

class Timer:
    """A pending call; ``cancel()`` it to drop it."""

    __slots__ = ("when", "callback", "cancelled")

    def __init__(self, when, callback):
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


def _ignore_signal(signum, frame):
    """The Python-level handler: the work happens when the loop reads the wakeup fd."""


class _Poller:
    """epoll where there is one, else poll(2): a selector without the selectors
    module, whose import would cost pv-scan memory for nothing it needs."""

    def __init__(self):
        epoll = getattr(select, "epoll", None)
        self._poll = epoll() if epoll else select.poll()
        self._readable = select.EPOLLIN if epoll else select.POLLIN
        self._scale = 1.0 if epoll else 1000.0   # epoll takes seconds, poll milliseconds
        self.callbacks = {}

    def register(self, fd, callback):
        if fd in self.callbacks:
            raise ValueError("fd %d is already registered" % fd)
        self._poll.register(fd, self._readable)
        self.callbacks[fd] = callback

    def unregister(self, fd):
        del self.callbacks[fd]
        self._poll.unregister(fd)

    def ready(self, timeout):
        """The readable fds, waiting at most ``timeout`` s (None: forever)."""
        if timeout is not None:
            timeout = min(timeout, MAX_WAIT_SECS) * self._scale
        elif self._scale != 1.0:
            timeout = -1
        return [fd for fd, _ in self._poll.poll(-1 if timeout is None else timeout)]

    def close(self):
        if hasattr(self._poll, "close"):
            self._poll.close()


class Loop:
    def __init__(self):
        self._selector = _Poller()
        self._timers = []
        self._sequence = itertools.count()
        self._signal_callbacks = {}
        self._saved_handlers = {}
        self._wakeup_r, self._wakeup_w = os.pipe()
        os.set_blocking(self._wakeup_r, False)
        os.set_blocking(self._wakeup_w, False)
        self._saved_wakeup = None
        self._selector.register(self._wakeup_r, self._read_signals)
        self.stopped = False
        self.iteration = 0          # counts batches, for caches valid within one
        self._deferred = []         # callbacks for the end of this batch

    # file descriptors
    def add_reader(self, fd, callback):
        """Call ``callback()`` whenever ``fd`` is readable."""
        self._selector.register(fd, callback)

    def remove_reader(self, fd):
        try:
            self._selector.unregister(fd)
        except (KeyError, ValueError):
            pass

    # timers
    def call_later(self, delay, callback):
        if not delay > 0.0:       # negative, or NaN from a hostile value
            delay = 0.0
        return self.call_at(time.monotonic() + delay, callback)

    def call_at(self, when, callback):
        timer = Timer(when, callback)
        heapq.heappush(self._timers, (when, next(self._sequence), timer))
        return timer

    def defer(self, callback):
        """Call ``callback()`` at the end of this batch, before the loop waits again
        (or, outside ``run``, at the start of the next batch); in the order deferred."""
        self._deferred.append(callback)

    def run_deferred(self):
        """Run what ``defer`` queued, including what those callbacks defer in turn."""
        while self._deferred:
            batch, self._deferred = self._deferred, []
            for callback in batch:
                callback()

    # signals
    def on_signal(self, signum, callback):
        """Call ``callback(signum)`` from the loop when ``signum`` arrives."""
        if self._saved_wakeup is None:
            self._saved_wakeup = signal.set_wakeup_fd(self._wakeup_w, warn_on_full_buffer=False)
        if signum not in self._saved_handlers:
            self._saved_handlers[signum] = signal.signal(signum, _ignore_signal)
        self._signal_callbacks[signum] = callback

    def _read_signals(self):
        try:
            data = os.read(self._wakeup_r, 4096)
        except BlockingIOError:
            return
        # Several deliveries of one signal collapse into one event: callbacks
        # such as the SIGCHLD reaper loop until there is nothing left to do.
        for signum in dict.fromkeys(data):
            callback = self._signal_callbacks.get(signum)
            if callback is not None:
                callback(signum)

    # running
    def _next_timeout(self):
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        if not self._timers:
            return None
        return max(0.0, self._timers[0][0] - time.monotonic())

    def _run_due_timers(self):
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            timer = heapq.heappop(self._timers)[2]
            if not timer.cancelled:
                timer.cancelled = True
                timer.callback()

    def run_once(self):
        """Wait for one batch of events and handle them."""
        self.run_deferred()     # what was queued before the loop ran
        self.iteration += 1
        for fd in self._selector.ready(self._next_timeout()):
            # Looked up now, not before: an earlier callback of this batch
            # may have closed the fd (a run's exit closes its readiness pipe).
            callback = self._selector.callbacks.get(fd)
            if callback is not None:
                callback()
        self._run_due_timers()
        self.run_deferred()

    def run(self):
        """Run until ``stop()`` is called."""
        while not self.stopped:
            self.run_once()

    def stop(self):
        self.stopped = True

    def close(self):
        """Restore the signal handlers and wakeup fd this loop replaced."""
        for signum, handler in self._saved_handlers.items():
            signal.signal(signum, handler)
        self._saved_handlers.clear()
        if self._saved_wakeup is not None:
            signal.set_wakeup_fd(self._saved_wakeup)
            self._saved_wakeup = None
        self._selector.close()
        os.close(self._wakeup_r)
        os.close(self._wakeup_w)


class Guarded:
    """The loop as one service sees it: its callbacks run under ``on_error``.

    An exception in one service's callback is reported by ``on_error`` and
    never reaches the loop, so it cannot stop the other services.
    """

    def __init__(self, loop, on_error):
        self._loop = loop
        self._on_error = on_error

    def guard(self, callback):
        def guarded(*args):
            try:
                return callback(*args)
            except Exception as exc:  # noqa: BLE001 - isolation is the point
                self._on_error(exc)
        return guarded

    def call_later(self, delay, callback):
        return self._loop.call_later(delay, self.guard(callback))

    def call_at(self, when, callback):
        return self._loop.call_at(when, self.guard(callback))

    def defer(self, callback):
        self._loop.defer(self.guard(callback))

    def add_reader(self, fd, callback):
        self._loop.add_reader(fd, self.guard(callback))

    def remove_reader(self, fd):
        self._loop.remove_reader(fd)
