"""Where pv-log's input comes from: a pipe read without consuming, or read().

TeeSource (Linux, stdin a pipe): ``tee(2)`` copies what the pipe holds into a
private pipe, from which it is read; nothing leaves stdin until ``consume(n)``
splices exactly ``n`` bytes into /dev/null.  The pump consumes only bytes it
has written, so a SIGKILL between the two can only make whole lines come
twice; bytes read but not yet written stay in the pipe for the next pv-log.

ReadSource (anything else: a file, a tty, a socket, a pipe without tee):
plain ``read(2)``.  Bytes read are gone from the input, so a SIGKILL loses
what was read and not yet written.

TeeSource.splice_to() consumes into a file instead of /dev/null: the journal
(journal.py) keeps that file as a receipt of what was consumed.

Both offer the same four calls: ``peek()`` -> the unconsumed bytes available
now (b"" if none yet, None at end of input), ``fill()`` after the fd polled
readable, ``consume(n)`` and ``full(n)`` (no room for more: a line this long
must be written in pieces).
"""

import ctypes
import errno
import fcntl
import os
import stat
import sys

SPLICE_F_NONBLOCK = 2
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)
PIPE_SIZE = 1 << 20      # what we ask the kernel for (its pipe-max-size default)
CHUNK = 256 << 10        # the most we take at once: bounds our memory, not the pipe


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.tee.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_uint]
    libc.tee.restype = ctypes.c_ssize_t
    libc.splice.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p,
                            ctypes.c_size_t, ctypes.c_uint]
    libc.splice.restype = ctypes.c_ssize_t
    return libc


def _grow_pipe(fd, size):
    """Ask for a ``size`` byte pipe buffer; return what the pipe really has."""
    try:
        fcntl.fcntl(fd, F_SETPIPE_SZ, size)
    except OSError:
        pass        # EPERM above pipe-max-size, EBUSY: keep what there is
    return fcntl.fcntl(fd, F_GETPIPE_SZ)


class TeeSource:
    edge = True     # a pipe with unconsumed bytes polls readable: wait for edges

    def __init__(self, fd, size=PIPE_SIZE, chunk=CHUNK):
        if not sys.platform.startswith("linux") or not stat.S_ISFIFO(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "standard input is not a pipe")
        self.libc = _libc()
        self.fd = fd
        pipe = _grow_pipe(fd, size)
        self.rd, self.wr = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self.cap = min(pipe, _grow_pipe(self.wr, pipe), chunk)
        # A pipe can fill before holding its size in bytes (small writes do
        # not share pages), so half of it full of one line counts as full.
        self.full_at = min(self.cap, pipe // 2)
        self.null = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)

    def _tee(self):
        """Bytes copied into the private pipe; 0 at end of input; None: none yet."""
        done = self.libc.tee(self.fd, self.wr, self.cap, SPLICE_F_NONBLOCK)
        if done < 0:
            err = ctypes.get_errno()
            if err in (errno.EAGAIN, errno.EINTR):
                return None
            raise OSError(err, os.strerror(err))
        return done

    def peek(self):
        count = self._tee()
        if count is None:
            return b""
        if count == 0:
            return None
        parts = []
        while count > 0:
            part = os.read(self.rd, count)
            parts.append(part)
            count -= len(part)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def fill(self):
        pass

    def consume(self, count):
        while count > 0:
            done = self.libc.splice(self.fd, None, self.null, None, count, 0)
            if done < 0:
                err = ctypes.get_errno()
                if err == errno.EINTR:
                    continue
                done = len(os.read(self.fd, count))   # splice refused: read it away
            count -= done

    def splice_to(self, fd, count, offset):
        """Move up to ``count`` bytes from stdin into file ``fd`` at ``offset``
        (None: at and advancing its file position).

        One splice(2): what it returns is exactly what left the pipe and
        landed in the file, even when a signal cuts it short (the kernel
        takes from the pipe only what the file took).  0 on EINTR.
        """
        off = None if offset is None else ctypes.byref(ctypes.c_longlong(offset))
        done = self.libc.splice(self.fd, None, fd, off, count, 0)
        if done < 0:
            err = ctypes.get_errno()
            if err == errno.EINTR:
                return 0
            raise OSError(err, os.strerror(err))
        if done == 0:
            raise OSError(errno.EIO, "end of input inside a written piece")
        return done

    def full(self, count):
        return count >= self.full_at

    def pending(self):
        """Bytes in the pipe now (FIONREAD), for SIGTERM's bounded drain."""
        import termios
        buf = fcntl.ioctl(self.fd, termios.FIONREAD, b"\0\0\0\0")
        return int.from_bytes(buf, sys.byteorder)

    def close(self):
        for fd in (self.rd, self.wr, self.null):
            os.close(fd)


class ReadSource:
    edge = False

    def __init__(self, fd, size=65536, limit=CHUNK):
        self.fd = fd
        self.size = max(size, 65536)
        self.limit = limit
        self.buf = b""
        self.eof = False

    def peek(self):
        if self.eof and not self.buf:
            return None
        return self.buf

    def fill(self):
        try:
            data = os.read(self.fd, self.size)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno != errno.EIO:     # a tty that went away: end of input
                raise
            data = b""
        if not data:
            self.eof = True
        self.buf = self.buf + data if self.buf else data

    def consume(self, count):
        self.buf = self.buf[count:]

    def full(self, count):
        return count >= self.limit or (self.eof and count > 0)

    def pending(self):
        return 0

    def close(self):
        pass


def open_source(fd, bufsize, want_tee=True):
    """TeeSource when the platform and ``fd`` allow it, else ReadSource."""
    if want_tee:
        try:
            return TeeSource(fd)
        except (OSError, AttributeError):
            pass
    return ReadSource(fd, bufsize)
