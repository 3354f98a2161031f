"""The ``socket`` knob: a listening socket the supervisor binds once and gives
every run (and every instance) as its standard input -- Supervisor's
[fcgi-program:x], useful to any service that accepts on fd 0 (inetd style,
FastCGI, gunicorn's ``--bind fd://0``).

The file's first line is the address, ``tcp://HOST:PORT`` (HOST a name or an
address, ``[v6]`` for IPv6; PORT 0 picks a free one) or ``unix:///PATH``;
later lines are ``owner USER[:GROUP]`` and ``mode OCTAL`` (a unix socket
only; default 0700, as Supervisor's socket_mode) and ``backlog N`` (default
SOMAXCONN).  ``parse`` is pure; ``bind`` makes the socket and returns it
(close-on-exec: the spawn dup2s it to fd 0).  A socket is kept across
restarts of its runs, as Supervisor keeps it, and closed (a unix path
removed) when the service is no longer supervised.
"""

import os
import socket
import stat

from pv.servicedir import KnobError

SOCKET = "socket"
DEFAULT_MODE = 0o700


class Spec:
    """What to bind: family, address, and for a unix socket the owner and mode."""

    __slots__ = ("url", "family", "address", "owner", "mode", "backlog")

    def __init__(self, url, family, address):
        self.url, self.family, self.address = url, family, address
        self.owner = None
        self.mode = DEFAULT_MODE
        self.backlog = socket.SOMAXCONN


def parse(text):
    """The Spec of a ``socket`` file's text; KnobError if malformed."""
    lines = [line.split("#", 1)[0].strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        raise KnobError("socket: empty")
    spec = _address(lines[0])
    for line in lines[1:]:
        key, _, value = line.partition(" ")
        value = value.strip()
        if key == "owner" and value and spec.family == socket.AF_UNIX:
            spec.owner = value
        elif key == "mode" and spec.family == socket.AF_UNIX:
            try:
                spec.mode = int(value, 8)
            except ValueError:
                raise KnobError("socket: mode: not an octal number: %r" % value) from None
        elif key == "backlog" and value.isdigit() and int(value) > 0:
            spec.backlog = int(value)
        else:
            raise KnobError("socket: not an option here: %r" % line)
    return spec


def _address(url):
    if url.startswith("unix://"):
        path = url[len("unix://"):]
        if not path.startswith("/"):
            raise KnobError("socket: unix:// needs an absolute path: %r" % url)
        return Spec(url, socket.AF_UNIX, path)
    if not url.startswith("tcp://"):
        raise KnobError("socket: not tcp://HOST:PORT or unix:///PATH: %r" % url)
    host, sep, port = url[len("tcp://"):].rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535 or not host:
        raise KnobError("socket: not tcp://HOST:PORT: %r" % url)
    if host.startswith("[") and host.endswith("]"):
        return Spec(url, socket.AF_INET6, (host[1:-1], int(port)))
    return Spec(url, socket.AF_INET, (host, int(port)))


def bind(spec):
    """A listening socket.socket for ``spec``; OSError (or KnobError for an unknown owner)."""
    sock = socket.socket(spec.family, socket.SOCK_STREAM)
    try:
        if spec.family == socket.AF_UNIX:
            _bind_unix(sock, spec)
        else:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(_resolve(spec))
        sock.listen(spec.backlog)
    except BaseException:
        sock.close()
        raise
    return sock


def _resolve(spec):
    host, port = spec.address
    infos = socket.getaddrinfo(host, port, spec.family, socket.SOCK_STREAM)
    return infos[0][4]


def _bind_unix(sock, spec):
    try:
        os.unlink(spec.address)        # a socket file left by an earlier run
    except FileNotFoundError:
        pass
    sock.bind(spec.address)
    os.chmod(spec.address, spec.mode)
    if spec.owner:
        from pv.supervise.execknobs import Exec, resolve_user
        owner = Exec()
        resolve_user(owner, spec.owner)
        os.chown(spec.address, owner.uid, owner.gid)


def release(sock, spec):
    """Close ``sock``; remove a unix socket's path if a socket is still there."""
    try:
        if spec.family == socket.AF_UNIX:
            try:
                if stat.S_ISSOCK(os.lstat(spec.address).st_mode):
                    os.unlink(spec.address)
            except OSError:
                pass
    finally:
        sock.close()
