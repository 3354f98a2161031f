"""Control letters and the client side of ``supervise/control``.

The letters are runit's set.  ``send`` is what pv-svc and pv-ctl use; the
supervisor's side of the FIFOs lives in ``pv.supervise.supervisedir``.
"""

import errno
import posix        # not os, nor stat: pv-svc loads neither before sending (pv.layout)

from pv.diag import NotSupervised, TempError, reason_of
from pv.layout import CONTROL_FIFO, OK_FIFO, join, supervise_dir

_S_IFMT, _S_IFIFO = 0o170000, 0o010000      # stat.S_ISFIFO's test, the same on every Unix

# Letters that only deliver a signal to the service's main process, by name
# (numbers from pv.signames, loaded by letter_signal: pv-svc never needs them).
SIGNAL_LETTERS = {
    "p": "SIGSTOP",
    "c": "SIGCONT",
    "h": "SIGHUP",
    "a": "SIGALRM",
    "i": "SIGINT",
    "q": "SIGQUIT",
    "1": "SIGUSR1",
    "2": "SIGUSR2",
    "t": "SIGTERM",
    "k": "SIGKILL",
}
UP, DOWN, ONCE, EXIT = "u", "d", "o", "x"
STATE_LETTERS = UP + DOWN + ONCE + EXIT
LETTERS = STATE_LETTERS + "".join(SIGNAL_LETTERS)
# pv-scan's own FIFO, D/.pv-scan/control, takes two letters.
SCAN_RESCAN, SCAN_EXIT = "h", EXIT
SIGNAL_BY_NAME = {name[3:]: letter for letter, name in SIGNAL_LETTERS.items()}   # HUP -> h


def letter_signal(letter):
    """The signal number a signal letter delivers."""
    from pv.signames import signal
    return getattr(signal, SIGNAL_LETTERS[letter])


def open_reader_fifo(path, obj, verb="control", absent="supervisor not running"):
    """Open the FIFO ``path`` for writing without blocking.

    NotSupervised(obj, absent) when nobody reads it (ENXIO) or it does not
    exist; NotSupervised(obj, "... is not a FIFO") when something else is
    in its place (a regular file would take the letters and report
    success); TempError(verb, obj) otherwise.
    """
    try:
        fd = posix.open(path, posix.O_WRONLY | posix.O_NONBLOCK | getattr(posix, "O_NOFOLLOW", 0))
    except OSError as exc:
        # ENXIO: a FIFO nobody reads, i.e. no supervisor; ENOENT: never supervised.
        if exc.errno in (errno.ENXIO, errno.ENOENT, errno.ENOTDIR):
            raise NotSupervised(obj, absent) from None
        if exc.errno == errno.ELOOP:
            raise NotSupervised(obj, _not_a_fifo(path)) from None
        raise TempError(verb, obj, reason_of(exc)) from None
    try:
        is_fifo = posix.fstat(fd).st_mode & _S_IFMT == _S_IFIFO
    except OSError:
        is_fifo = False
    if not is_fifo:
        posix.close(fd)
        raise NotSupervised(obj, _not_a_fifo(path))
    return fd


def _not_a_fifo(path):
    return "%s is not a FIFO" % "/".join(path.split("/")[-2:])


def write_letters(path, letters, obj, verb="control", absent="supervisor not running"):
    """Write ``letters`` to the FIFO ``path`` in one write (see open_reader_fifo)."""
    fd = open_reader_fifo(path, obj, verb, absent)
    try:
        posix.write(fd, letters.encode("ascii"))
    except OSError as exc:
        # EAGAIN: the reader is alive but not reading (hung); say so.
        raise TempError(verb, obj, reason_of(exc)) from None
    finally:
        posix.close(fd)


def _open_nonblocking_writer(service, name):
    return open_reader_fifo(join(supervise_dir(service), name), service)


def is_supervised(service):
    """True iff a supervisor holds ``service/supervise/ok`` open (svok(8))."""
    try:
        fd = _open_nonblocking_writer(service, OK_FIFO)
    except NotSupervised:
        return False
    posix.close(fd)
    return True


def send(service, letters):
    """Write ``letters`` to the supervisor of ``service``.

    Raises NotSupervised when nobody supervises it, TempError otherwise.
    """
    write_letters(join(supervise_dir(service), CONTROL_FIFO), letters, service)
