"""TAI64N labels (cr.yp.to/libtai/tai64.html) as daemontools and runit use them.

Like daemontools, we take TAI = UTC + 10 s and ignore leap seconds, so that
``tai64nlocal`` decodes our stamps exactly as it decodes theirs.
"""

TAI_OFFSET = (1 << 62) + 10


def pack(unix_seconds, nanoseconds):
    """The 12 binary bytes of a TAI64N label."""
    # int.to_bytes, not struct: pv-svc's wait reads status records without
    # loading struct (bench/README, "pv-svc -t -w up, step by step").
    return (TAI_OFFSET + int(unix_seconds)).to_bytes(8, "big") + int(nanoseconds).to_bytes(4, "big")


def unpack(data):
    """(unix_seconds, nanoseconds) from 12 binary bytes; ValueError if fewer."""
    if len(data) < 12:
        raise ValueError("a TAI64N label is 12 bytes, not %d" % len(data))
    return int.from_bytes(data[:8], "big") - TAI_OFFSET, int.from_bytes(data[8:12], "big")


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
