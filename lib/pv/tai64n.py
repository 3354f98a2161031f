"""TAI64N labels (cr.yp.to/libtai/tai64.html) as daemontools and runit use them.

Like daemontools, we take TAI = UTC + 10 s and ignore leap seconds, so that
``tai64nlocal`` decodes our stamps exactly as it decodes theirs.
"""

import struct

TAI_OFFSET = (1 << 62) + 10
_PACK = struct.Struct(">QL")


def pack(unix_seconds, nanoseconds):
    """The 12 binary bytes of a TAI64N label."""
    return _PACK.pack(TAI_OFFSET + int(unix_seconds), int(nanoseconds))


def unpack(data):
    """(unix_seconds, nanoseconds) from 12 binary bytes."""
    secs, nano = _PACK.unpack(data[:12])
    return secs - TAI_OFFSET, nano


def from_time_ns(time_ns):
    """Binary label for a ``time.time_ns()`` value."""
    secs, nano = divmod(time_ns, 1_000_000_000)
    return pack(secs, nano)


def label(time_ns):
    """The external form: ``@`` and 24 lower-case hex digits."""
    return "@" + from_time_ns(time_ns).hex()


def parse_label(text):
    """(unix_seconds, nanoseconds) from ``@4000...`` text; ValueError if bad."""
    if len(text) != 25 or text[0] != "@":
        raise ValueError("not a TAI64N label: %r" % (text,))
    return unpack(bytes.fromhex(text[1:]))
