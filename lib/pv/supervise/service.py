"""A service directory and its logger, joined by a pipe this object holds.

The pipe from ``S`` to ``S/log`` is made once, when supervision begins, and
both ends stay open here; so when either side restarts nothing already
written into the pipe is lost.  The service also coordinates ``x``: take the
service down, then close the pipe so the logger reads EOF, then report gone.
"""

import os

from pv import servicedir
from pv.diag import TempError
from pv.supervise.loop import Guarded
from pv.supervise.states import Event, Phase, Want
from pv.supervise.unit import Unit


class Service:
    """The Unit for ``S``, and one for ``S/log`` if that directory exists.

    ``host`` is the Runner (host.Host); ``entry`` is what the scan directory
    knows as one entry: the Service itself, or its Instances group.
    """

    def __init__(self, path, label, host, instance=None, first=None, entry=None):
        self.path, self.label, self.host = path, label, host
        self.entry = self if entry is None else entry
        self.loop = Guarded(host.loop, self._internal_error)
        self.pipe = None
        self.main = Unit(path, label, self, host, instance=instance)
        self.log = None
        # Instances share instance 0's logger: ``first`` owns the pipe, and
        # closes it only once every sibling is down -- unless ``instance-logs``
        # gives each instance a logger of its own (S/log run with PV_INSTANCE).
        self.first, self.siblings = first, []
        if first is not None:
            first.siblings.append(self)
        own = instance is not None and os.path.exists(os.path.join(path, INSTANCE_LOGS))
        if (first is None or own) and servicedir.has_log(path):
            self.log = Unit(os.path.join(path, servicedir.LOG),
                            os.path.join(label, servicedir.LOG), self, host, is_log=True,
                            instance=instance if own else None)
        # ``log-stderr/``: a second logger, fed the run's stderr through its own pipe.
        self.errlog, self.errpipe = None, None
        if first is None and servicedir.has_err_log(path):
            self.errlog = Unit(os.path.join(path, servicedir.LOG_ERR),
                               os.path.join(label, servicedir.LOG_ERR), self, host, is_log=True)
        self._closing_log = False
        self.socket = None          # (socket, sockets.Spec) of a ``socket`` knob; ``first`` owns it
        self.gone = False
        self.stopping = False       # exit() was called at shutdown

    @property
    def members(self):
        """As an Instances group has them: the services the host supervises."""
        return (self,)

    def units(self):
        return (self.main,) + self.loggers()

    def loggers(self):
        return tuple(u for u in (self.log, self.errlog) if u is not None)

    def open(self):
        """Lock supervise/ for each unit; TempError if one is already supervised.

        Only the lock comes before the first start (it is what keeps a
        second supervisor away); control, ok and event/ are made with the
        first records (``listen``), once the batch of starts is over."""
        locked = []
        try:
            for unit in self.units():
                unit.sv.acquire()
                locked.append(unit)
        except Exception:
            for unit in locked:
                unit.sv.close()
            raise
        if self.log:
            self.pipe = os.pipe()
            self.log.stdin, self.main.stdout = self.pipe
        elif self.first is not None and self.first.pipe:
            self.main.stdout = self.first.pipe[1]
        if self.errlog:
            self.errpipe = os.pipe()
            self.errlog.stdin, self.main.stderr = self.errpipe
        elif self.first is not None and self.first.errpipe:
            self.main.stderr = self.first.errpipe[1]
        self._open_socket()

    def _open_socket(self):
        """Bind the ``socket`` knob's socket once (the first instance does), and
        give it to the run as its stdin; kept across restarts, as Supervisor's
        fcgi-program sockets are."""
        if self.first is None:
            text = _read_knob(self.path, SOCKET)
            if text is None:
                return
            from pv.supervise import sockets    # socket loads enum, selectors: only if used
            try:
                spec = sockets.parse(text)
                self.socket = (sockets.bind(spec), spec)
            except (servicedir.KnobError, OSError) as exc:
                self.close_unbegun()
                raise TempError("bind the socket of", self.path,
                                getattr(exc, "strerror", None) or str(exc)) from None
        owner = self.first or self
        if owner.socket is not None:
            self.main.stdin = owner.socket[0].fileno()

    def listen(self, unit):
        """Make and open ``unit``'s control and ok, and read its letters from now on."""
        self.loop.add_reader(unit.sv.open_fifos(), self._reader(unit))

    def close_unbegun(self):
        """Undo a successful open() that will not be followed by begin()."""
        for unit in self.units():
            self._close(unit)
        self._close_pipes()
        self._close_socket()

    def _close(self, unit):
        if unit.sv.listening:
            self.loop.remove_reader(unit.sv.control_fd)
        unit.sv.close()

    def _close_pipes(self):
        for fd in (self.pipe or ()) + (self.errpipe or ()):
            os.close(fd)
        self.pipe = self.errpipe = None

    def _close_socket(self):
        if self.socket is not None:
            from pv.supervise import sockets
            sockets.release(*self.socket)
            self.socket = None

    def _reader(self, unit):
        def on_control():
            letters = unit.sv.read_control()
            for letter in letters:
                unit.command(letter)
            if letters:
                # Even when nothing changed, tell waiters the letters were read,
                # so that they judge the state after them, never before.
                unit.wake(b"c")
        return on_control

    def begin(self, want_main=None, want_log=None):
        """Start supervising: the logger first, so it is reading when the service writes."""
        for logger in self.loggers():
            logger.begin(want_log or _default_want(logger.path))
        self.main.begin(want_main or _default_want(self.path))

    def exit(self):
        """Take everything down, then report gone (SIGTERM, or its entry removed)."""
        self.main.handle(Event.SHUTDOWN)

    # --- what its units ask of the service ---------------------------------
    def _internal_error(self, exc):
        """A bug in one service's handling: report it; the others carry on."""
        import traceback
        traceback.print_exception(type(exc), exc, exc.__traceback__)
        self.host.report(self.main, "warning", "internal error: %s: %s"
                         % (type(exc).__name__, exc))

    def unit_fatal(self, unit):
        """``unit`` gave up: the host obeys the service's on-fatal."""
        self.host.unit_fatal(self, unit)

    def may_start(self, unit):
        """The logger always may; the service once what it ``needs`` is ready."""
        return unit is not self.main or self.host.needs_met(self)

    def is_up(self):
        """Up as ``needs`` and systemd understand it: ready, or running if it
        declares no readiness method."""
        phase = self.main.phase
        return phase == Phase.READY or (phase == Phase.RUNNING and not self.main.readiness.kind)

    def unit_changed(self, unit):
        """``unit`` published: tell the host; once the service is down for
        good (want exit) and its siblings are gone, close the log pipe, then
        release supervise/ when the logger is down too."""
        if self.gone:
            return
        self.host.service_changed(self)
        main_done = self.main.want == Want.EXIT and self.main.phase in _OVER
        if not main_done or not all(s.gone for s in self.siblings):
            return
        if self.loggers() and not self._closing_log:
            self._close_log()
        if all(logger.phase in _OVER for logger in self.loggers()):
            self._release()

    def _close_log(self):
        """The service is down for good: let the logger read EOF and exit by itself."""
        self._closing_log = True
        self._close_pipes()
        self.main.stdout = self.main.stderr = None
        for logger in self.loggers():
            logger.stdin = None
            # A logger that ignores EOF is stopped like any service (table.log_closed).
            logger.handle(Event.LOG_CLOSED)

    def _release(self):
        self.gone = True
        for unit in self.units():
            unit.release()
            self._close(unit)
        self._close_pipes()
        self._close_socket()
        self.host.service_gone(self)
        if self.first is not None:
            self.first.unit_changed(None)   # the owner of the log pipe may close it now


_OVER = (Phase.DOWN, Phase.FATAL)    # a unit wanted to exit is over in these
SOCKET = "socket"       # the knob of supervise/sockets.py, named here so pv-scan need not load it
INSTANCE_LOGS = "instance-logs"     # each instance gets a logger of its own


def _default_want(path):
    return Want.UP if servicedir.normally_up(path) else Want.DOWN


def _read_knob(path, name):
    """A small knob file's text, or None if there is none."""
    try:
        with open(os.path.join(path, name), encoding="utf-8", errors="replace") as f:
            return f.read(4096)
    except FileNotFoundError:
        return None
