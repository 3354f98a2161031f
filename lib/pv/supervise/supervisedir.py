"""The supervisor's side of ``S/supervise/``: the lock, the FIFOs, the records.

Byte-compatible with runit's runsv: ``lock`` held with flock; ``control``
and ``ok`` are FIFOs (0600) that the supervisor keeps open, ``control``
read+write so reads never see EOF; ``status``/``stat``/``pid``/``state`` are
rewritten by rename on every change, and then every FIFO in ``event/`` gets a
byte so that waiters wake without polling.

``event/`` is writable by anyone (mode 1733), so nothing found there is
trusted: only FIFOs with one link are opened, never through a symlink
(O_NOFOLLOW, then fstat of the opened descriptor), everything else is
removed, and one publish looks at no more than ``MAX_EVENT_ENTRIES``.
``supervise/`` itself must be writable by us alone: a directory another
user may write to is refused, since every name in it is opened by us.
"""

import errno
import fcntl
import os
import stat
import time

from pv import status
from pv.diag import TempError, reason_of
from pv.layout import CONTROL_FIFO, EVENT_DIR, LOCK_FILE, OK_FIFO, supervise_dir

EVENT_DIR_MODE = 0o1733   # anyone may add a FIFO to wait on; only the owner lists
STALE_EVENT_SECS = 60.0   # a FIFO nobody has read for this long belongs to a dead waiter
MAX_EVENT_ENTRIES = 1000  # entries of event/ one publish looks at: planted junk costs bounded work
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _make_dir(path):
    """mkdir ``path``; if it is a dangling symlink, create what it points to."""
    try:
        os.mkdir(path, 0o755)     # the common cases first: one call for a new
        return                    # directory, one more for one that exists
    except FileExistsError:
        if os.path.isdir(path):
            return
    except OSError:
        pass                      # a missing parent, and the like: as below
    if os.path.islink(path) and not os.path.exists(path):
        os.makedirs(os.path.realpath(path), mode=0o755, exist_ok=True)
    if os.path.lexists(path) and not os.path.isdir(path):
        raise TempError("create", path, "it exists and is not a directory")
    os.makedirs(path, mode=0o755, exist_ok=True)


def check_owner(path):
    """TempError unless only we (or root) may write to the directory ``path``.

    Every file pv keeps in supervise/ is opened or replaced by name: a user
    who may write there could swap one for a symlink and make a root
    supervisor write through it.
    """
    info = os.stat(path)
    if info.st_uid not in (os.geteuid(), 0) or info.st_mode & 0o022:
        raise TempError("supervise", path, "writable by another user")


def _open_fifo(path, flags):
    """Open the FIFO ``path`` (made if absent, a non-FIFO replaced) without
    following a symlink; mode 0600 set on the descriptor, not the name."""
    try:
        if not stat.S_ISFIFO(os.lstat(path).st_mode):
            os.unlink(path)
            raise FileNotFoundError
    except FileNotFoundError:
        os.mkfifo(path, 0o600)
    fd = os.open(path, flags | NOFOLLOW)
    try:
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            raise OSError(errno.EEXIST, "replaced while being opened", path)
        os.fchmod(fd, 0o600)
    except OSError:
        os.close(fd)
        raise
    return fd


def _make_event_dir(path):
    """``event/`` as a real directory of mode 1733 (a symlink there is replaced)."""
    try:
        os.mkdir(path)
    except FileExistsError:
        if os.path.islink(path) or not os.path.isdir(path):
            os.unlink(path)
            os.mkdir(path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | NOFOLLOW)
    try:
        os.fchmod(fd, EVENT_DIR_MODE)
    finally:
        os.close(fd)


class SuperviseDir:
    """``service/supervise`` as owned by its one supervisor."""

    def __init__(self, service):
        self.service = service
        self.path = supervise_dir(service)
        self.lock_fd = self.control_fd = self.ok_fd = -1
        self._written = {}      # file name -> the bytes last written there

    def acquire(self):
        """Take the lock; TempError if another supervisor holds it."""
        try:
            _make_dir(self.path)
            check_owner(self.path)
            self.lock_fd = os.open(os.path.join(self.path, LOCK_FILE),
                                   os.O_WRONLY | os.O_CREAT | os.O_APPEND | NOFOLLOW, 0o600)
        except OSError as exc:
            raise TempError("create", os.path.join(self.path, LOCK_FILE), reason_of(exc))
        try:
            fcntl.flock(self.lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(self.lock_fd)
            self.lock_fd = -1
            reason = reason_of(exc)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                reason = "another supervisor is running"
            raise TempError("lock", os.path.join(self.path, LOCK_FILE), reason) from None

    def open_fifos(self):
        """Create and open control and ok; return the fd to watch for commands."""
        control = os.path.join(self.path, CONTROL_FIFO)
        ok = os.path.join(self.path, OK_FIFO)
        try:
            # Read+write in one fd (Linux and the BSDs allow it on a FIFO): we
            # are always a writer, so reads never see EOF, and pv-scan spends
            # one descriptor less per service.
            self.control_fd = _open_fifo(control, os.O_RDWR | os.O_NONBLOCK)
            self.ok_fd = _open_fifo(ok, os.O_RDONLY | os.O_NONBLOCK)
            _make_event_dir(os.path.join(self.path, EVENT_DIR))
        except OSError as exc:
            # All or nothing: ``listening`` stays false, so the next write tries again.
            for name in ("ok_fd", "control_fd"):
                if getattr(self, name) >= 0:
                    os.close(getattr(self, name))
                    setattr(self, name, -1)
            raise TempError("create", self.path + "/" + CONTROL_FIFO, reason_of(exc)) from None
        return self.control_fd

    def read_control(self):
        """The letters written to ``control`` since the last read ('' if none)."""
        try:
            return os.read(self.control_fd, 1024).decode("latin-1")
        except (BlockingIOError, InterruptedError):
            return ""

    def write(self, runit, state):
        """Write every record that changed.

        status, stat, pid, state in this order, the state last (see
        ``status.write_all``), each by ``fill_spare`` and ``swap_in``: every new
        content is written first, then all are renamed in, so that the
        four names change within microseconds of each other (making a
        spare, the first times, takes milliseconds on a busy machine).
        """
        changed = [(name, data) for name, data in status.records(runit, state).items()
                   if self._written.get(name) != data]
        for name, data in changed:
            fill_spare(self.path, name, data)
        for name, data in changed:
            swap_in(self.path, name)
            self._written[name] = data

    @property
    def listening(self):
        """Whether control and ok are open (``open_fifos`` has been done)."""
        return self.control_fd >= 0

    def notify(self, event):
        """Write ``event`` to the waiters' FIFOs in ``event/``; remove what is
        not a waiter's FIFO, and FIFOs of dead waiters."""
        try:
            with os.scandir(os.path.join(self.path, EVENT_DIR)) as entries:
                for count, entry in enumerate(entries):
                    if count >= MAX_EVENT_ENTRIES:
                        break
                    _poke(entry, event)
        except OSError:
            return

    def close(self):
        """Close every fd, the lock last: from then on svok says 'not running'."""
        for name in ("ok_fd", "control_fd", "lock_fd"):
            fd = getattr(self, name)
            if fd >= 0:
                os.close(fd)
                setattr(self, name, -1)


def fill_spare(directory, name, data):
    """Write ``data`` into NAME.new, made only if no earlier replace left one.

    Records are replaced by rename, as ``status.write_atomic`` does, but
    into an inode kept from the last replace instead of a new one: creating
    a file (and freeing the one a rename replaces) is what costs here, about
    0.25 ms on ext4 against 0.05 ms for this, and pv-scan bringing 1,000
    services up writes 8,000 records.  So ``swap_in`` keeps the inode its
    rename replaces (linked as NAME.old first) as the next NAME.new,
    rewritten in place, with no block to allocate either.  NAME is always a
    whole file, old or new.  (A reader that opened NAME and has not read it
    two replaces later may see it change under it.)
    """
    spare = os.path.join(directory, name) + ".new"
    try:
        fd = os.open(spare, os.O_WRONLY)
    except FileNotFoundError:
        fd = os.open(spare, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        done = 0
        while done < len(data):
            done += os.pwrite(fd, data[done:], done)
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


def swap_in(directory, name):
    """NAME.new becomes NAME; the inode NAME had becomes NAME.new."""
    path = os.path.join(directory, name)
    spare, old = path + ".new", path + ".old"
    try:
        os.link(path, old)
    except FileExistsError:     # left by a supervisor killed in between
        os.unlink(old)
        os.link(path, old)
    except FileNotFoundError:   # the first record of this name
        old = None
    os.replace(spare, path)
    if old is not None:
        os.replace(old, spare)


def _poke(entry, event):
    """One byte to the FIFO ``entry`` (an os.DirEntry), if it is a waiter's."""
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError:
        return
    if not stat.S_ISFIFO(info.st_mode) or info.st_nlink != 1:
        # A waiter makes a FIFO with mkfifo: anything else (a symlink, a
        # file, a hard link to some other FIFO) was planted.
        _remove(entry.path)
        return
    try:
        fd = os.open(entry.path, os.O_WRONLY | os.O_NONBLOCK | NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ENXIO and time.time() - info.st_mtime > STALE_EVENT_SECS:
            _remove(entry.path)   # nobody reads it: a leftover from a waiter that died
        return
    try:
        opened = os.fstat(fd)
        # The name may have been replaced since the lstat: write only to what we checked.
        if (opened.st_dev, opened.st_ino) == (info.st_dev, info.st_ino):
            os.write(fd, event)
    except OSError:
        pass  # a waiter that does not read is slow, not our problem
    finally:
        os.close(fd)


def _remove(path):
    try:
        os.unlink(path)
    except IsADirectoryError:
        try:
            os.rmdir(path)
        except OSError:
            pass
    except OSError:
        pass
