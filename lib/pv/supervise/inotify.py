"""Linux inotify on one directory: pv-scan hears an entry come or go at once.

The standard library has no inotify, so the two calls that set a watch up
go through ctypes -- and only those two.  As ``procs.become_subreaper``
does for prctl, ctypes is imported for the call and its modules dropped
again at once: a long-lived pv-scan keeps no ctypes (0.5 MB), only the
descriptor.  Reading events needs nothing but ``os.read`` and the parser
below, so the watch costs no memory and no wakeups beyond the events.

Where inotify is missing (not Linux, a C library without it) or a limit
is hit (``fs.inotify.max_user_watches`` / ``max_user_instances``),
``watch`` raises ``Unavailable`` with a fixed phrase, and the caller keeps
polling the directory's mtime as before.
"""

import errno
import os
import sys

IN_ATTRIB = 0x00000004        # chmod of an entry: "permission denied" may be over
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080      # ln -sfn: a link retargeted by rename over the old one
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_Q_OVERFLOW = 0x00004000    # events were lost: look at every entry
IN_IGNORED = 0x00008000       # the watch is gone (the directory was removed)
IN_ONLYDIR = 0x01000000
IN_DONT_FOLLOW = 0x02000000
IN_CLOEXEC = 0o2000000        # = O_CLOEXEC on every Linux architecture pv runs on
IN_NONBLOCK = 0o4000          # = O_NONBLOCK (not so on alpha/sparc/parisc/mips)

ENTRY_EVENTS = IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
SELF_EVENTS = IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED
HEADER = 16                   # struct inotify_event: int wd; u32 mask, cookie, len

REASONS = {
    errno.ENOSPC: "inotify watch limit reached",
    errno.EMFILE: "inotify instance limit reached",
    errno.ENOSYS: "inotify not supported",
}


class Unavailable(Exception):
    """No watch: ``reason`` is a fixed phrase or an ``OSError.strerror``."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def watch(directory):
    """A non-blocking inotify descriptor watching ``directory``'s entries."""
    if not os.path.exists("/proc/self"):   # not Linux: no inotify to look for
        raise Unavailable(REASONS[errno.ENOSYS])
    before = set(sys.modules)
    try:
        return _watch(directory)
    finally:
        # Two calls are all we need of ctypes: give its modules back.
        for name in set(sys.modules) - before:
            del sys.modules[name]
        import gc
        gc.collect()


def _watch(directory):
    import ctypes
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        init1, add_watch = libc.inotify_init1, libc.inotify_add_watch
    except (OSError, AttributeError):
        raise Unavailable(REASONS[errno.ENOSYS]) from None
    add_watch.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32)
    fd = init1(IN_NONBLOCK | IN_CLOEXEC)
    if fd < 0:
        raise Unavailable(_reason(ctypes.get_errno()))
    mask = ENTRY_EVENTS | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR
    if add_watch(fd, os.fsencode(directory), mask) < 0:
        number = ctypes.get_errno()
        os.close(fd)
        raise Unavailable(_reason(number))
    return fd


def _reason(number):
    return REASONS.get(number) or os.strerror(number)


def parse(data):
    """(names, overflow, gone) from a read of an inotify descriptor.

    ``names``: the entries (str, as os.listdir gives them) that came, went,
    were replaced or changed mode.  ``overflow``: events were lost, look at
    everything.  ``gone``: the watched directory itself was removed or
    moved, so the watch no longer follows the path.
    """
    names, overflow, gone = set(), False, False
    offset, end = 0, len(data)
    while offset + HEADER <= end:
        mask = int.from_bytes(data[offset + 4:offset + 8], sys.byteorder)
        length = int.from_bytes(data[offset + 12:offset + 16], sys.byteorder)
        raw = data[offset + HEADER:offset + HEADER + length].rstrip(b"\0")
        offset += HEADER + length
        if mask & IN_Q_OVERFLOW:
            overflow = True
        if mask & SELF_EVENTS:
            gone = True
        if raw and mask & ENTRY_EVENTS:
            names.add(os.fsdecode(raw))
    return names, overflow, gone
