"""How a run says it is ready: three sources, one event.

- ``notification-fd`` (s6): the service writes a newline on fd N.
- ``sd-notify`` (systemd's protocol, pv's knob): the service gets its own
  ``NOTIFY_SOCKET``, a datagram socket ``supervise/notify``, and sends
  ``READY=1``; ``STATUS=`` and ``MAINPID=`` are understood too.  As with
  systemd's NotifyAccess=all, only a process of the run (its session or
  group, or a descendant of its first process; the kernel names the
  sender, SO_PASSCRED) is heard, and MAINPID= must name such a process:
  the socket may be reachable by others (chowned to ``user``, or the
  abstract ``@pv-notify-PID-N`` when the path would be too long).
- ``check`` (runit): an executable polled with back-off until it exits 0.

A ``Watcher`` lives for one run: made before the spawn (it may add a file
descriptor or variable to the child), started after it, closed when the run
ends.  It calls ``unit.handle(Event.READY)`` at most once.
"""

import os
import sys

from pv import servicedir
from pv.supervise import procs
from pv.supervise.states import Event

CHECK_FIRST_SECS = 0.02    # first poll of ./check; doubling to
CHECK_CAP_SECS = 2.0
NOTIFY_SOCKET_NAME = "notify"
SUN_PATH_MAX = 107         # longer paths go to the abstract namespace
MAX_NOTIFICATION_FD = 65535   # dup2 takes an int; a run's files are limited far below this


def method(service):
    """The readiness method a service declares ('' if none), and its argument."""
    fd_text = servicedir.read_first_line(os.path.join(service, servicedir.NOTIFICATION_FD))
    if fd_text:
        if not (fd_text.isascii() and fd_text.isdigit()) or len(fd_text) > 5 or \
                not 3 <= int(fd_text) <= MAX_NOTIFICATION_FD:
            raise servicedir.KnobError("notification-fd: must be a number from 3 to %d"
                                       % MAX_NOTIFICATION_FD)
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
        self._warned = False
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
        if hasattr(_socket, "SO_PASSCRED"):   # the kernel attaches each sender's pid
            self._sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_PASSCRED, 1)
        self._sock.bind(address)
        spec = self.unit.exec_spec
        if address == path and spec.uid is not None:
            # The run, as its user, must be able to send; lchown, so that a
            # link swapped in for the socket is never followed.
            os.chown(path, spec.uid, spec.gid, follow_symlinks=False)
        self.env["NOTIFY_SOCKET"] = "@" + address[1:] if address[0] == "\0" else address

    def _receive(self):
        """(data, (sender pid, uid)): (0, -1) where the kernel named no
        sender, None where it cannot (no SCM_CREDENTIALS outside Linux)."""
        import _socket
        if not hasattr(_socket, "SCM_CREDENTIALS"):
            return self._sock.recv(4096), None
        data, ancillary, _, _ = self._sock.recvmsg(4096, _socket.CMSG_SPACE(12))
        for level, kind, cdata in ancillary:
            if level == _socket.SOL_SOCKET and kind == _socket.SCM_CREDENTIALS and \
                    len(cdata) >= 8:
                return data, (int.from_bytes(cdata[:4], sys.byteorder, signed=True),
                              int.from_bytes(cdata[4:8], sys.byteorder))
        return data, (0, -1)

    def owns(self, pid):
        """Whether ``pid`` may be the run's main process (MAINPID=): a process
        of the run, or one carrying its marker -- a daemon that forked twice
        and called setsid has left the session, but not its environment.
        The sender is already known to be the run's: the marker only says
        which of its processes is meant, it admits no sender."""
        return procs.in_run(pid, self.unit.session) or (
            pid > 1 and procs.has_marker(pid, self.unit.marker))

    def _sender_of_run(self, sender):
        """Whether the datagram's sender is a process of the run.

        Traced by the run's session, group and descent; one that has left
        them (a daemon that called setsid, and whose parent is gone) must
        run as the run's user and carry its marker.  A sender that has
        already exited (``systemd-notify --ready`` does so at once) can no
        longer be traced: its user alone must be the run's.  No process of
        another user can pass; one of the same user could ptrace the run
        anyway.
        """
        pid, uid = sender
        run_uid = self.unit.exec_spec.uid
        same_user = uid == (os.geteuid() if run_uid is None else run_uid)
        if pid > 0 and procs.read_proc(pid) is None:
            return same_user
        return procs.in_run(pid, self.unit.session, zombie_ok=True) or (
            same_user and procs.has_marker(pid, self.unit.marker))

    def _on_datagram(self):
        try:
            data, sender = self._receive()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._warn_once("unable to read the notify socket: %s" % exc.strerror)
            return
        if sender is not None and not self._sender_of_run(sender):
            self._warn_once("ignored a notification from pid %d: not a process of this run"
                            % sender[0])
            return
        for line in data.decode("utf-8", "replace").split("\n"):
            name, _, value = line.partition("=")
            if name == "READY" and value == "1":
                self._fire()
            elif name == "STATUS":
                self.unit.note_status(value)
            elif name == "MAINPID" and value.isascii() and value.isdigit() and len(value) < 11:
                if self.owns(int(value)):
                    self.unit.note_main_pid(int(value))
                else:
                    self._warn_once("ignored MAINPID=%s: not a process of this run" % value)

    def _warn_once(self, text):
        """One warning per run: a sender that repeats itself must not flood the log."""
        if not self._warned:
            self._warned = True
            self.unit.host.report(self.unit, "warning", text)

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
