"""Processes that carry a service's marker (PV_SERVICE=DIR) in their environment.

A run's process may leave its session and process group, even be reparented
away from us; the variable it inherited still says whose it is.  Finding
them means reading every environment in /proc, so one scan serves a whole
loop batch, for every service supervised: 1000 services stopping or adopting
together cost one scan, not 1000.
"""

import os

from pv import servicedir

ENVIRON_BUFFER = 1 << 16     # most environments fit; longer ones are read whole


class Marks:
    """The marked processes of the services ``markers()`` names, as of this batch."""

    def __init__(self, loop, markers):
        self._loop = loop
        self._markers = markers        # () -> the markers of every unit supervised
        self._index = None             # (markers, {marker: pids}) during one batch
        self._expected = set()         # markers of services about to be added (expect)

    def marked(self, marker):
        """Live pids anywhere whose environment holds ``marker`` (bytes)."""
        if self._index is None or marker not in self._index[0]:
            # Only our own services' markers are kept (another supervisor's
            # thousands of services must not cost this one memory), and only
            # until the batch is over.
            wanted = set(self._markers())
            wanted.add(marker)
            wanted.update(self._expected)
            if self._index is None:
                self._loop.call_later(0, self._forget)
            self._index = (wanted, marker_index(wanted))
        return set(self._index[1].get(marker, ()))

    def _forget(self):
        self._index = None

    def expect(self, paths):
        """Services for ``paths`` are about to be added one by one: their
        markers join the first index made, so that 1000 services begun one
        after the other cost one scan of /proc.  Called again with () after."""
        prefix = servicedir.MARKER_VAR + "="
        self._expected = {(prefix + path).encode() for path in paths}


def marker_index(wanted):
    """{marker: {pids whose environment holds it}} for each of ``wanted``
    (b"PV_SERVICE=DIR"): each environment read once, whatever the number of
    services asking, and no process table built (a zombie's is empty)."""
    prefix = (servicedir.MARKER_VAR + "=").encode()
    index = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return index
    # One buffer for all: a bytes object per process would leave pv-scan's
    # heap fragmented for good after one scan of a busy system.
    buf = bytearray(ENVIRON_BUFFER)
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % name, "rb", buffering=0) as f:
                size = f.readinto(buf)
                if buf.find(prefix, 0, size) < 0 and size < len(buf):
                    continue
                env = bytes(buf[:size]) + (f.read() if size == len(buf) else b"")
        except OSError:
            continue
        for entry in env.split(b"\0"):
            if entry in wanted:
                index.setdefault(entry, set()).add(int(name))
    return index
