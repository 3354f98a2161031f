"""pv-log's one blocking point: input, signals and timers in a single poll.

Signals are events: each handler only records the signal number, and
``signal.set_wakeup_fd`` makes the poll return; the signal mask is never
blocked.  With a TeeSource the input is registered edge-triggered: the pipe
stays readable while it holds a partial line we have not consumed, and only
a new write should wake us.  (Linux >= 5.14 wakes edge-triggered epoll
waiters on every pipe write; on older kernels the stall timer of the pump
still commits such a line after a delay.)
"""

import errno
import os
import select
import signal

HANDLED = ("SIGHUP", "SIGALRM", "SIGTERM", "SIGINT", "SIGCHLD")


class Signals:
    """Install handlers that record signals; restore everything on close()."""

    def __init__(self):
        self.received = []
        self.rd, self.wr = os.pipe()             # not inheritable (PEP 446)
        os.set_blocking(self.rd, False)
        os.set_blocking(self.wr, False)
        self.old_fd = signal.set_wakeup_fd(self.wr)
        self.old = {}
        for name in HANDLED:
            num = getattr(signal, name)
            self.old[num] = signal.signal(num, self._record)

    def _record(self, signum, frame):
        self.received.append(signum)

    def take(self):
        """The signals received since the last call, in order."""
        try:
            while os.read(self.rd, 512):
                pass
        except BlockingIOError:
            pass
        got, self.received = self.received, []
        return got

    def close(self):
        for num, handler in self.old.items():
            signal.signal(num, handler)
        signal.set_wakeup_fd(self.old_fd)
        os.close(self.rd)
        os.close(self.wr)


class Waiter:
    """wait(timeout) -> (input_ready, input_hangup)."""

    def __init__(self, infd, edge, sigfd):
        self.infd = infd
        self.always = False
        self.ep = select.epoll() if hasattr(select, "epoll") else None
        if self.ep is None:
            self.poller = select.poll()
            self.poller.register(infd, select.POLLIN)
            self.poller.register(sigfd, select.POLLIN)
            return
        self.ep.register(sigfd, select.EPOLLIN)
        try:
            self.ep.register(infd, select.EPOLLIN | (select.EPOLLET if edge else 0))
        except OSError as exc:
            if exc.errno != errno.EPERM:
                raise
            self.always = True       # a regular file: always readable

    def wait(self, timeout):
        if self.always:
            timeout = 0
        if self.ep is not None:
            events = self.ep.poll(-1 if timeout is None else timeout)
            hup_mask, in_mask = select.EPOLLHUP | select.EPOLLERR, select.EPOLLIN
        else:
            events = self.poller.poll(None if timeout is None else timeout * 1000)
            hup_mask, in_mask = select.POLLHUP | select.POLLERR, select.POLLIN
        ready = self.always
        hangup = False
        for fd, mask in events:
            if fd == self.infd:
                ready = ready or bool(mask & (in_mask | hup_mask))
                hangup = hangup or bool(mask & hup_mask)
        return ready, hangup

    def close(self):
        if self.ep is not None:
            self.ep.close()
