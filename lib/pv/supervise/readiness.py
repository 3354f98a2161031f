"""How a run says it is ready: three sources, one event.

- ``notification-fd`` (s6): the service writes a newline on fd N.
- ``sd-notify`` (systemd's protocol, pv's knob): the service gets its own
  ``NOTIFY_SOCKET``, a datagram socket ``supervise/notify``, and sends
  ``READY=1``; ``STATUS=`` and ``MAINPID=`` are understood too.
- ``check`` (runit): an executable polled with back-off until it exits 0.

A ``Watcher`` lives for one run: made before the spawn (it may add a file
descriptor or variable to the child), started after it, closed when the run
ends.  It calls ``unit.handle(Event.READY)`` at most once.
"""

import os

from pv import servicedir
from pv.supervise.states import Event

CHECK_FIRST_SECS = 0.02    # first poll of ./check; doubling to
CHECK_CAP_SECS = 2.0
NOTIFY_SOCKET_NAME = "notify"
SUN_PATH_MAX = 107         # longer paths go to the abstract namespace


def method(service):
    """The readiness method a service declares ('' if none), and its argument."""
    fd_text = servicedir.read_first_line(os.path.join(service, servicedir.NOTIFICATION_FD))
    if fd_text:
        if not fd_text.isdigit() or int(fd_text) < 3:
            raise servicedir.KnobError("notification-fd: must be a number of at least 3")
        return "notification-fd", int(fd_text)
    if os.path.exists(os.path.join(service, servicedir.SD_NOTIFY)):
        return "sd-notify", None
    if os.access(os.path.join(service, servicedir.CHECK), os.X_OK):
        return "check", None
    return "", None


class Watcher:
    """Readiness of one run of ``unit`` by ``kind`` ('' for none)."""

    def __init__(self, unit, kind, arg):
        self.unit, self.kind, self.arg = unit, kind, arg
        self.fds = {}          # child fd -> our fd, to pass to the spawn
        self.env = {}          # variables to add to the run's environment
        self._read_fd = -1
        self._sock = None
        self._timer = None
        self._delay = CHECK_FIRST_SECS
        self._check = None
        self.fired = False
        getattr(self, "_prepare_" + kind.replace("-", "_"), lambda: None)()

    # --- notification-fd --------------------------------------------------------
    def _prepare_notification_fd(self):
        self._read_fd, write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        self.fds[self.arg] = write_fd

    def _on_pipe(self):
        try:
            data = os.read(self._read_fd, 512)
        except (BlockingIOError, InterruptedError):
            return
        if b"\n" in data:
            self._fire()
        if not data or b"\n" in data:     # EOF or done: nothing more to hear
            self._close_pipe()

    def _close_pipe(self):
        if self._read_fd >= 0:
            self.unit.loop.remove_reader(self._read_fd)
            os.close(self._read_fd)
            self._read_fd = -1

    # --- sd-notify --------------------------------------------------------------
    def _prepare_sd_notify(self):
        import _socket  # the C module: socket.py would bring enum in
        path = os.path.join(self.unit.sv.path, NOTIFY_SOCKET_NAME)
        address = path if len(path.encode()) <= SUN_PATH_MAX else \
            "\0pv-notify-%d-%d" % (os.getpid(), id(self))
        if address == path and os.path.exists(path):
            os.unlink(path)
        self._sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self._sock.bind(address)
        spec = self.unit.exec_spec
        if address == path and spec.uid is not None:
            os.chown(path, spec.uid, spec.gid)   # the run, as its user, must be able to send
        self.env["NOTIFY_SOCKET"] = "@" + address[1:] if address[0] == "\0" else address

    def _on_datagram(self):
        try:
            data = self._sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        for line in data.decode("utf-8", "replace").split("\n"):
            name, _, value = line.partition("=")
            if name == "READY" and value == "1":
                self._fire()
            elif name == "STATUS":
                self.unit.note_status(value)
            elif name == "MAINPID" and value.isdigit():
                self.unit.note_main_pid(int(value))

    # --- check ------------------------------------------------------------------
    def _poll_check(self):
        self._timer = None
        if self.fired or self._check is not None:
            return
        try:
            self._check = self.unit.spawn_helper(["./check"])
        except OSError:
            self._schedule_check()
            return
        self.unit.track(self._check.pid, self._on_check_exit)

    def _on_check_exit(self, status):
        self._check = None
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            self._fire()
        elif not self.fired and self.kind:
            self._schedule_check()

    def _schedule_check(self):
        self._timer = self.unit.loop.call_later(self._delay, self._poll_check)
        self._delay = min(self._delay * 2, CHECK_CAP_SECS)

    # --- common -------------------------------------------------------------------
    def start(self):
        """The run has started: listen (our copies of the child's fds are closed)."""
        for fd in self.fds.values():
            os.close(fd)
        self.fds = {}
        loop = self.unit.loop
        if self._read_fd >= 0:
            loop.add_reader(self._read_fd, self._on_pipe)
        if self._sock is not None:
            loop.add_reader(self._sock.fileno(), self._on_datagram)
        if self.kind == "check":
            self._poll_check()

    def _fire(self):
        if not self.fired:
            self.fired = True
            self.unit.handle(Event.READY)

    def close(self):
        """The run ended: stop listening and polling."""
        for fd in self.fds.values():
            os.close(fd)
        self.fds = {}
        self._close_pipe()
        if self._sock is not None:
            self.unit.loop.remove_reader(self._sock.fileno())
            name = self._sock.getsockname()
            self._sock.close()
            self._sock = None
            if isinstance(name, str) and name.startswith("/"):
                try:
                    os.unlink(name)
                except OSError:
                    pass
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.kind = ""      # a check still running is reaped but ignored
