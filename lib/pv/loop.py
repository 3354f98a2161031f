"""One selector loop: file descriptors, timers, and signals as events.

Signals reach the loop through ``signal.set_wakeup_fd``: the C handler
writes the signal number to a pipe the selector watches, so a signal wakes
``select`` and is handled in ordinary code, never inside a handler.  With no
timer pending, ``select`` blocks with no timeout: an idle loop never wakes.
"""

import heapq
import itertools
import os
import selectors
import signal
import time


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


class Loop:
    def __init__(self):
        self._selector = selectors.DefaultSelector()
        self._timers = []
        self._sequence = itertools.count()
        self._signal_callbacks = {}
        self._saved_handlers = {}
        self._wakeup_r, self._wakeup_w = os.pipe()
        os.set_blocking(self._wakeup_r, False)
        os.set_blocking(self._wakeup_w, False)
        self._saved_wakeup = None
        self._selector.register(self._wakeup_r, selectors.EVENT_READ, self._read_signals)
        self.stopped = False

    # file descriptors
    def add_reader(self, fd, callback):
        """Call ``callback()`` whenever ``fd`` is readable."""
        self._selector.register(fd, selectors.EVENT_READ, callback)

    def remove_reader(self, fd):
        try:
            self._selector.unregister(fd)
        except (KeyError, ValueError):
            pass

    # timers
    def call_later(self, delay, callback):
        return self.call_at(time.monotonic() + max(0.0, delay), callback)

    def call_at(self, when, callback):
        timer = Timer(when, callback)
        heapq.heappush(self._timers, (when, next(self._sequence), timer))
        return timer

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
        for key, _ in self._selector.select(self._next_timeout()):
            key.data()
        self._run_due_timers()

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
