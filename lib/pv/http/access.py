"""Who is asking, and what they may do.

Three levels: ``read`` (everyone who may connect), ``control`` of one
service (start, stop, restart, signal, clear its log), and ``admin``
(everything, including add/remove/update).

- On the unix socket the caller is known from SO_PEERCRED: root and the
  user pv-http runs as are admins; a user named in a service's ``access``
  knob, or in a group named there, controls that service; everyone else
  reads.
- On loopback TCP without credentials the caller's uid is found in
  /proc/net/tcp (the kernel records the owner of the client's socket) and
  the same rules apply; a caller not found there only reads.
- With a credentials file, every TCP request must carry HTTP Basic
  credentials that match it, and then is an admin (supervisorctl -u/-p).
"""

import binascii
import grp
import hashlib
import hmac
import ipaddress
import os
import pwd
import socket
import struct

from pv.servicedir import service_of

ACCESS_KNOB = "access"
MAX_KNOB_BYTES = 65536


class Caller:
    """The identity of one connection and the level it was granted."""

    __slots__ = ("uid", "gid", "admin", "label", "_groups")

    def __init__(self, uid=None, gid=None, admin=False, label=""):
        self.uid, self.gid, self.admin, self.label = uid, gid, admin, label
        self._groups = None

    def group_ids(self):
        """The caller's primary and supplementary group ids (cached)."""
        if self._groups is None:
            self._groups = set()
            if self.gid is not None:
                self._groups.add(self.gid)
            name = user_name(self.uid)
            if name is not None and self.gid is not None:
                try:
                    self._groups.update(os.getgrouplist(name, self.gid))
                except OSError:
                    pass
        return self._groups

    def may_control(self, service_path):
        if self.admin:
            return True
        if self.uid is None:
            return False
        return allowed_by_knob(read_access(service_path), self.uid, self.group_ids())


def user_name(uid):
    if uid is None:
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def for_uid(uid, gid, how):
    """A Caller for a known uid: root and pv-http's own user are admins."""
    admin = uid == 0 or uid == os.geteuid()
    return Caller(uid, gid, admin, "%s uid %d" % (how, uid))


def peer_of_unix(sock):
    """Caller from SO_PEERCRED (pid, uid, gid) of a unix stream socket."""
    fmt = "3i"
    data = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize(fmt))
    _, uid, gid = struct.unpack(fmt, data)
    return for_uid(uid, gid, "unix")


def read_access(service_path):
    """The words of ``S/access`` (users, ``%group``), [] if none; instances share S's."""
    path = os.path.join(service_of(service_path), ACCESS_KNOB)
    try:
        with open(path, "rb") as f:
            text = f.read(MAX_KNOB_BYTES).decode("utf-8", "replace")
    except OSError:
        return []
    words = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.extend(line.split())
    return words


def _gid(word):
    if word.isdigit():
        return int(word)
    try:
        return grp.getgrnam(word).gr_gid
    except KeyError:
        return None


def _uid(word):
    if word.isdigit():
        return int(word)
    try:
        return pwd.getpwnam(word).pw_uid
    except KeyError:
        return None


def allowed_by_knob(words, uid, gids):
    """Whether ``uid`` (in groups ``gids``) is named by the knob's ``words``."""
    for word in words:
        if word.startswith("%"):
            gid = _gid(word[1:])
            if gid is not None and gid in gids:
                return True
        elif _uid(word) == uid:
            return True
    return False


# --- loopback TCP: the client socket's owner, from /proc/net/tcp ---------------

def _hex_addr(host, port):
    """An address as /proc/net/tcp{,6} spells it (each 32-bit word in host order)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    packed = socket.inet_pton(family, host)
    words = struct.unpack("=%dI" % (len(packed) // 4), packed)
    text = "".join("%08X" % w for w in words)
    return "%s:%04X" % (text, port)


def loopback_owner(client, server, proc="/proc"):
    """The uid owning the client end of a loopback TCP connection, or None."""
    want_local, want_remote = _hex_addr(*client[:2]), _hex_addr(*server[:2])
    for name in ("tcp6", "tcp") if ":" in client[0] else ("tcp",):
        try:
            with open(os.path.join(proc, "net", name)) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 7 and cols[1] == want_local and cols[2] == want_remote:
                return int(cols[7])
    return None


def is_loopback(host):
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


# --- HTTP Basic ---------------------------------------------------------------

def read_credentials(path):
    """(user, password) from the first line ``USER:PASSWORD`` of ``path``.

    PASSWORD may be ``{SHA}`` and the hex SHA-1 of the password, as in
    supervisord.conf.  OSError if unreadable, ValueError if malformed.
    """
    with open(path, "rb") as f:
        line = f.read(4096).decode("utf-8").splitlines()
    if not line or ":" not in line[0]:
        raise ValueError("not USER:PASSWORD")
    user, _, password = line[0].partition(":")
    if not user or not password:
        raise ValueError("not USER:PASSWORD")
    return user, password


def check_basic(header, credentials):
    """Whether an ``Authorization`` header value matches ``credentials``."""
    if not header or not header.startswith("Basic "):
        return False
    try:
        text = binascii.a2b_base64(header[6:].strip()).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, _, password = text.partition(":")
    want_user, want = credentials
    if want.startswith("{SHA}"):
        password = "{SHA}" + hashlib.sha1(password.encode("utf-8")).hexdigest()
        want = want[:5] + want[5:].lower()
    return hmac.compare_digest(user.encode(), want_user.encode()) & \
        hmac.compare_digest(password.encode(), want.encode())
