"""The scanner: every service directory of a scan directory, in one process.

svscan and runsvdir start one supervisor process per service; pv-scan runs
one ``Service`` per entry inside its own loop, with the same supervisor core
as pv-run, so the per-service ``supervise/`` protocol is identical.

A rescan happens at start, on SIGHUP, on ``h`` written to
``D/.pv-scan/control``, and when the directory changes.  On Linux an
inotify watch on D names each entry that came, went, was replaced or
changed mode, and only those entries are looked at, at once.  Without
inotify (or past its limits) the directory's mtime is checked every
``MTIME_CHECK_SECS`` instead; with it, that timer runs only while some
entry has a problem an event on D would not announce (a link to a
directory not made yet, EMFILE): an idle pv-scan then never wakes.
"""

import errno
import fcntl
import os
import stat

from pv import diag, servicedir
from pv.supervise import instances, supknobs

SCAN_DIR = ".pv-scan"        # pv-scan's own directory inside D
SCAN_LOCK = "lock"
SCAN_CONTROL = "control"     # FIFO: h = rescan, x = take everything down and exit
SCAN_EVENTS = "events"       # the transition record (pv-events(5))
MTIME_CHECK_SECS = 5.0


def examine(path):
    """(None, identity) if ``path`` can be a service (a directory, or a link to one),
    else (why not, None).  The identity is (st_dev, st_ino) of the directory."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return ("broken symbolic link" if os.path.islink(path) else "vanished"), None
    except OSError as exc:
        return exc.strerror, None
    if not stat.S_ISDIR(st.st_mode):
        return "not a directory", None
    if not os.access(path, os.R_OK | os.X_OK):
        return "permission denied", None
    return None, (st.st_dev, st.st_ino)


def list_entries(directory):
    """Names in ``directory`` that pv-scan considers: all but those starting with '.'."""
    return sorted(name for name in os.listdir(directory) if not name.startswith("."))


class Scanner:
    def __init__(self, directory, runner):
        self.directory = os.path.abspath(directory)
        self.label = directory
        self.runner = runner
        self.loop = runner.loop
        self.services = {}          # name -> Service
        self.names = {}             # Service -> its name, while it is supervised
        self.identity = {}          # name -> (st_dev, st_ino) of what it pointed to
        self.reported = {}          # name -> the problem last reported
        self.released = set()       # names whose supervision ended with x; back on rescan
        self.leaving = {}           # real path -> Service whose entry went, still stopping
        self.control_fd = self.lock_fd = self.watch_fd = -1
        self._timer = None
        self._mtime = None
        self._new = None            # (name, path, identity) found by the scan under way
        runner.on_entry_gone = self._entry_gone

    # --- pv-scan's own files ---------------------------------------------------
    def open(self):
        """Lock ``D/.pv-scan`` and open its control FIFO; PvError if impossible."""
        own = os.path.join(self.directory, SCAN_DIR)
        try:
            os.makedirs(own, mode=0o755, exist_ok=True)
            self.lock_fd = os.open(os.path.join(own, SCAN_LOCK),
                                   os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            fcntl.flock(self.lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            reason = exc.strerror
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                reason = "another pv-scan is running"
            raise diag.TempError("lock", os.path.join(own, SCAN_LOCK), reason) from None
        control = os.path.join(own, SCAN_CONTROL)
        try:
            _make_fifo(control)
            self.control_fd = os.open(control, os.O_RDWR | os.O_NONBLOCK)
        except OSError as exc:
            raise diag.TempError("create", control, exc.strerror) from None
        self.loop.add_reader(self.control_fd, self._on_control)
        self.runner.open_journal(os.path.join(own, SCAN_EVENTS), os.path.join(self.label, ""), "")
        self._watch()

    def _watch(self):
        """Watch D with inotify before the first scan, so that no entry made
        between that scan's listing and the watch goes unnoticed."""
        from pv.supervise import inotify
        try:
            self.watch_fd = inotify.watch(self.directory)
        except inotify.Unavailable as exc:
            diag.warn(self.runner.prog, "unable to watch %s: %s; checking it every %g s"
                      % (self.label, exc.reason, MTIME_CHECK_SECS))
            return
        self.loop.add_reader(self.watch_fd, self._on_watch)

    def _unwatch(self):
        if self.watch_fd >= 0:
            self.loop.remove_reader(self.watch_fd)
            os.close(self.watch_fd)
            self.watch_fd = -1

    def _on_watch(self):
        from pv.supervise import inotify
        data = b""
        try:
            while True:      # everything queued now: one pass over the names
                chunk = os.read(self.watch_fd, 65536)
                if not chunk:
                    break
                data += chunk
        except (BlockingIOError, InterruptedError):
            pass
        names, overflow, gone = inotify.parse(data)
        if gone:
            # D itself was removed or renamed: the watch follows the inode,
            # not the path.  Back to checking the path's mtime.
            self._unwatch()
            diag.warn(self.runner.prog, "unable to watch %s: directory replaced; "
                      "checking it every %g s" % (self.label, MTIME_CHECK_SECS))
            self._mtime = None
            self.start_timer()
        if overflow or gone:
            self._mtime = None
            self.rescan()
        elif names:
            self.rescan_names(names)

    def _on_control(self):
        try:
            letters = os.read(self.control_fd, 256).decode("latin-1")
        except (BlockingIOError, InterruptedError):
            return
        if "x" in letters:
            self.runner.exit_all()
        elif "h" in letters:
            self.rescan(explicit=True)

    def close(self):
        for fd in (self.control_fd, self.lock_fd, self.watch_fd):
            if fd >= 0:
                os.close(fd)
        self.control_fd = self.lock_fd = self.watch_fd = -1

    # --- scanning ---------------------------------------------------------------
    def start_timer(self):
        """Check D's mtime in ``MTIME_CHECK_SECS``: always without a watch,
        with one only while an entry waits for a second look."""
        if self._timer is not None or self.runner.exiting:
            return
        if self.watch_fd < 0 or self.reported:
            self._timer = self.loop.call_later(MTIME_CHECK_SECS, self._check_mtime)

    def _check_mtime(self):
        self._timer = None
        if not self.runner.exiting:
            self.rescan()
            self.start_timer()

    def rescan(self, explicit=False):
        """Bring the supervised set in line with the directory's entries."""
        if self.runner.exiting:
            return
        try:
            mtime = os.stat(self.directory).st_mtime_ns
            if not explicit and mtime == self._mtime:
                return
            self._mtime = mtime
            names = list_entries(self.directory)
        except OSError as exc:
            self._report_once("", "unable to read %s: %s" % (self.label, exc.strerror))
            self.start_timer()
            return
        self.reported.pop("", None)
        for name in set(self.reported) - set(names):
            del self.reported[name]      # gone: nothing to look at again
        if explicit:
            self.released.clear()
        for name in set(self.services) - set(names):
            self._drop(name)
        self._new = []
        for name in names:
            self._consider(name)
        self._begin_new()

    def rescan_names(self, names):
        """Look again at these entries only (they came, went or changed)."""
        if self.runner.exiting:
            return
        self.reported.pop("", None)
        self._new = []
        for name in sorted(names):
            if name.startswith("."):
                continue
            if os.path.lexists(os.path.join(self.directory, name)):
                self._consider(name)
            else:
                self.reported.pop(name, None)
                self._drop(name)
        self._begin_new()

    def _begin_new(self):
        """Open and begin the entries this scan found, in ``priority`` order.

        Each begins as soon as it is open (locked): its run starts while the
        next entries are opened, on the other core.  But if one of them has
        ``needs``, or a service waits for what it needs, every entry is
        opened first, so that ``needs`` can name one that sorts after it.
        """
        # A link is followed once, now, as runsv's chdir follows it: the
        # service's files (supervise/ above all) stay reachable when the link
        # is removed, while the service is being taken down.
        new, self._new = self._new, None
        new.sort(key=lambda found: supknobs.priority_of(found[1]))    # stable: by name
        new = [(name, path, identity, os.path.realpath(path)) for name, path, identity in new]
        at_once = not self.runner.waiting_for_needs() and \
            not any(_has_needs(real) for _, _, _, real in new)
        self.runner.expect(real for _, _, _, real in new if at_once)
        opened = []
        for found in new:
            service = self._add(*found)
            if service is not None and at_once:
                self._begin(service)
            elif service is not None:
                opened.append(service)
        self.runner.expect(())
        for service in opened:
            self._begin(service)
        self.start_timer()

    def _consider(self, name):
        path = os.path.join(self.directory, name)
        problem, identity = examine(path)
        if problem is not None:
            self._report_once(name, "unable to supervise %s: %s" % (path, problem))
            if name in self.services and problem != "permission denied":
                self._drop(name)
            return
        if name in self.services:
            if self.identity.get(name) == identity:
                self.reported.pop(name, None)
                return
            # The link now names another directory: let the old one go and
            # supervise the new one now, not one rescan later.
            self._drop(name)
        if name in self.released:
            self.reported.pop(name, None)
        else:
            self._new.append((name, path, identity))

    def _add(self, name, path, identity, real):
        """Open the entry (``real``: its path, links followed) and add it to
        the runner; the Service, or None."""
        if real in self.leaving:
            return None     # the same directory, still being taken down: added once it is gone
        service = instances.make(real, os.path.join(self.label, name), self.runner)
        try:
            service.open()
        except diag.PvError as exc:
            self._report_once(name, exc.message())
            return None
        except OSError as exc:     # EMFILE and friends: try again on a later scan
            self._report_once(name, "unable to supervise %s: %s" % (path, exc.strerror))
            return None
        except Exception as exc:  # noqa: BLE001 - a bug with one entry must not end pv-scan
            self._internal_error(name, exc)
            return None
        # Forget an earlier failure only now: one that persists (another
        # supervisor holds the lock) is reported once, not at every rescan.
        self.reported.pop(name, None)
        self.services[name] = service
        self.names[service] = name
        self.identity[name] = identity
        self.runner.add(service)
        return service

    def _begin(self, service):
        try:
            service.begin()
        except Exception as exc:  # noqa: BLE001 - its units' own callbacks are guarded too
            self._internal_error(service.label, exc)

    def _internal_error(self, name, exc):
        """A bug met while adding one entry: reported with its traceback; the
        entry stays as far as it got, and every other service carries on."""
        import traceback
        traceback.print_exception(type(exc), exc, exc.__traceback__)
        diag.warn(self.runner.prog, "internal error with %s: %s" % (name, type(exc).__name__))

    def _drop(self, name):
        """The entry is gone: take its service down; it leaves when it is down."""
        service = self.services.pop(name, None)
        self.identity.pop(name, None)
        if service is not None and not service.gone:
            self.leaving[service.path] = service
            service.exit()

    def _report_once(self, name, text):
        if name:
            self._mtime = None    # look again at the next periodic check
        if self.reported.get(name) != text:
            self.reported[name] = text
            diag.warn(self.runner.prog, text)

    # --- what the runner tells the scanner ----------------------------------------
    def _entry_gone(self, service):
        """An entry's Service (or every instance of it) is down for good."""
        name = self.names.pop(service, None)
        if name is not None and self.services.get(name) is service:
            # It ended by itself (x): not again until a rescan.
            del self.services[name]
            self.identity.pop(name, None)
            self.released.add(name)
        if self.leaving.get(service.path) is service:
            # Its entry went while it ran; if the entry is back, supervise
            # it again now, from the loop, outside this service's callbacks.
            del self.leaving[service.path]
            self._mtime = None
            self.loop.call_later(0, self.rescan)


def _make_fifo(path):
    """A FIFO at ``path``, replacing a file of that name: epoll cannot watch a file."""
    try:
        if stat.S_ISFIFO(os.lstat(path).st_mode):
            return
        os.unlink(path)
    except FileNotFoundError:
        pass
    os.mkfifo(path, 0o600)



def _has_needs(path):
    return os.path.lexists(os.path.join(path, servicedir.NEEDS))
