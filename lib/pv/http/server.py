"""Listening sockets and connections: a thread per connection, deadlines kept here.

Why threads and not one selector loop: a connection blocked on a wait
(``start`` with its wait, ``tail -f``, a slow client) must not hold up the
others, and a thread blocked in recv() costs no CPU and a few tens of KiB
of memory; the number of connections is capped (``max_conns``).  Reading a
request is bounded in time by a deadline per connection; the accepting loop
sleeps in select() until the nearest deadline, and with no connection at
all it sleeps with no timeout: no wake-ups when idle.  An expired
connection is shut down, which ends the blocked recv() of its thread.
"""

import errno
import os
import selectors
import socket
import stat
import threading
import time

from pv.diag import PermanentError, TempError, reason_of

BACKLOG = 128


class Listener:
    """One listening socket: ``kind`` is "unix" or "tcp"."""

    def __init__(self, sock, kind, where):
        self.sock, self.kind, self.where = sock, kind, where


def _remove_stale(path):
    """Remove a socket file nobody listens on; PermanentError if someone does."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise PermanentError("listen on", path, "exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)
        return
    finally:
        probe.close()
    raise PermanentError("listen on", path, "another server is listening there")


def open_unix(path, mode=0o600, gid=None):
    """A unix socket at ``path`` created with ``mode`` (no window with a wider one)."""
    _remove_stale(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o777)   # born unreachable; opened up below
    try:
        sock.bind(path)
    except OSError as exc:
        sock.close()
        raise TempError("listen on", path, reason_of(exc)) from None
    finally:
        os.umask(old)
    try:
        if gid is not None:
            os.chown(path, -1, gid)
        os.chmod(path, mode)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise TempError("listen on", path, reason_of(exc)) from None
    return Listener(sock, "unix", path)


def open_tcp(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise TempError("listen on", "%s:%d" % (host, port), reason_of(exc)) from None
    return Listener(sock, "tcp", "%s:%d" % sock.getsockname()[:2])


class Server:
    """Accepts on every listener; runs ``serve_connection(sock, listener, server)`` in a thread."""

    def __init__(self, listeners, serve_connection, max_conns=256):
        self.listeners = listeners
        self.serve_connection = serve_connection
        self.max_conns = max_conns
        self.lock = threading.Lock()
        self.open = 0
        self.deadlines = {}            # socket -> monotonic deadline
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)

    # --- deadlines, called from connection threads -------------------------------
    def arm(self, sock, secs):
        with self.lock:
            self.deadlines[sock] = time.monotonic() + secs
        try:
            self.wake_w.send(b"!")
        except OSError:
            pass            # the pipe is full: the loop is awake anyway

    def disarm(self, sock):
        with self.lock:
            self.deadlines.pop(sock, None)

    def _expire(self):
        """Shut down connections past their deadline; the seconds to the next one."""
        now = time.monotonic()
        with self.lock:
            late = [s for s, d in self.deadlines.items() if d <= now]
            for sock in late:
                del self.deadlines[sock]
            nearest = min(self.deadlines.values(), default=None)
        for sock in late:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return None if nearest is None else max(0.0, nearest - now)

    # --- the loop --------------------------------------------------------------------
    def serve(self):
        """Accept until an exception (SIGTERM's handler raises one) ends it."""
        sel = selectors.DefaultSelector()
        for listener in self.listeners:
            listener.sock.setblocking(False)
            sel.register(listener.sock, selectors.EVENT_READ, listener)
        sel.register(self.wake_r, selectors.EVENT_READ, None)
        try:
            while True:
                timeout = self._expire()
                for key, _ in sel.select(timeout):
                    if key.data is None:
                        self._drain()
                    else:
                        self._accept(key.data)
        finally:
            sel.close()

    def _drain(self):
        try:
            while self.wake_r.recv(512):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def _accept(self, listener):
        try:
            sock, _ = listener.sock.accept()
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EINTR):
                return
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                return      # the next accept is tried when a descriptor frees
            raise
        sock.setblocking(True)
        with self.lock:
            full = self.open >= self.max_conns
            if not full:
                self.open += 1
        if full:
            sock.close()
            return
        thread = threading.Thread(target=self._run, args=(sock, listener), daemon=True)
        thread.start()

    def _run(self, sock, listener):
        try:
            self.serve_connection(sock, listener, self)
        except Exception:   # noqa: BLE001 - one connection's failure must not end pv-http
            pass
        finally:
            self.disarm(sock)
            try:
                sock.close()
            except OSError:
                pass
            with self.lock:
                self.open -= 1

    def close(self):
        close_listeners(self.listeners)
        self.wake_r.close()
        self.wake_w.close()


def close_listeners(listeners):
    """Close each listener; remove the file of each unix socket."""
    for listener in listeners:
        listener.sock.close()
        if listener.kind == "unix":
            try:
                os.unlink(listener.where)
            except OSError:
                pass
