"""The line stamps of pv-log -t, -tt and -ttt, as svlogd writes them.

    -t    @4000000065a1b2c3075bcd15    TAI64N label (TAI = UTC + 10 s)
    -tt   2024-01-12_17:04:03.12345    UTC, svlogd's fmt_ptime
    -ttt  2024-01-12T17:04:03.12345    UTC, ISO 8601 (svlogd's fmt_ptime_iso8601)

Each stamp ends with one space.  A Stamper caches the part that only changes
once a second, so stamping a chunk costs one dict-free comparison and a
small format of the sub-second digits.
"""

import time

NONE, TAI64N, UTC, ISO8601 = 0, 1, 2, 3
TAI_OFFSET = (1 << 62) + 10
STAMP_LEN = {NONE: 0, TAI64N: 26, UTC: 26, ISO8601: 26}


def _second_part(kind, secs):
    """The text that is the same for a whole second."""
    if kind == TAI64N:
        return "@%016x" % (TAI_OFFSET + secs)
    tm = time.gmtime(secs)
    sep = "_" if kind == UTC else "T"
    return "%04d-%02d-%02d%s%02d:%02d:%02d." % (
        tm.tm_year, tm.tm_mon, tm.tm_mday, sep, tm.tm_hour, tm.tm_min, tm.tm_sec)


def _fraction(kind, nanos):
    if kind == TAI64N:
        return "%08x " % nanos
    return "%05d " % (nanos // 10000)


class Stamper:
    """stamp(time_ns) -> the bytes to put before a line (b"" for NONE)."""

    def __init__(self, kind):
        self.kind = kind
        self._secs = None
        self._prefix = ""

    def stamp(self, time_ns=None):
        if self.kind == NONE:
            return b""
        if time_ns is None:
            time_ns = time.time_ns()
        secs, nanos = divmod(time_ns, 1_000_000_000)
        if secs != self._secs:
            self._secs = secs
            self._prefix = _second_part(self.kind, secs)
        return (self._prefix + _fraction(self.kind, nanos)).encode("ascii")


def stamp_chunk(piece, stamp, midline):
    """(buffer, length): ``piece`` with ``stamp`` before each line it starts."""
    if not stamp:
        return piece, len(piece)
    body = piece.replace(b"\n", b"\n" + stamp)
    if not midline:
        body = stamp + body
    end = len(body) - len(stamp) if piece.endswith(b"\n") else len(body)
    return body, end


def parse_utc(text):
    """(unix_seconds, nanoseconds) from a -tt or -ttt stamp (for tests/tools)."""
    import calendar
    date, clock = text[:10], text[11:19]
    if text[10] not in "_T" or text[19] != ".":
        raise ValueError("not a pv-log stamp: %r" % (text,))
    tm = time.strptime(date + " " + clock, "%Y-%m-%d %H:%M:%S")
    return calendar.timegm(tm), int(text[20:25]) * 10000
