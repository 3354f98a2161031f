"""pv-ctl watch: the transition record of a scan directory as a stream.

Where the record is (``D/.pv-scan/events``, or ``S/supervise/events`` for a
lone pv-run), the records after a cursor as they come, and the current
state of each service for ``--initial``.  Nothing here prints.
"""

import os
import time

from pv import diag
from pv.events.reader import Reader, Waker
from pv.events.record import matches, parse

SCAN_EVENTS = os.path.join(".pv-scan", "events")
RUN_EVENTS = os.path.join("supervise", "events")


def journal_dir(directory):
    """The events directory of a scan directory or of a service directory."""
    for sub in (SCAN_EVENTS, RUN_EVENTS):
        path = os.path.join(directory, sub)
        if os.path.isdir(path):
            return path
    raise diag.TempError("watch", directory, "no transition record (not supervised?)")


def stream(directory, after, names=(), out_fd=None, idle_secs=None):
    """Yield (record, line) after sequence number ``after`` (None: from now),
    ("gap", (first, last)) for records rotated away unread, and ("idle", None)
    after ``idle_secs`` without a record (None: never); stop when ``out_fd``'s
    reader goes away."""
    reader = Reader(directory, after)
    waker = Waker(directory)
    try:
        while True:
            for seq, line in reader.read():
                try:
                    record = parse(line)
                except ValueError:
                    continue
                if matches(record, names):
                    yield record, line
            while reader.gaps:
                yield "gap", reader.gaps.pop(0)
            why = waker.wait(idle_secs, out_fd)
            if why == "closed":
                return
            if why == "timeout":
                yield "idle", None
    finally:
        waker.close()
        reader.close()


def last_seq(directory):
    """The sequence number of the newest record (0 if none)."""
    reader = Reader(directory)
    reader.close()
    return reader.cursor


def initial_records(rows, seq):
    """One ``state`` record per service, stamped with the cursor they follow."""
    now = time.time()
    out = []
    for row in rows:
        name, _, instance = row.name.partition(":")
        record = {"seq": seq, "time": now, "event": "state", "service": name,
                  "pid": row.pid or 0, "from": "", "to": row.state, "want": row.want}
        if instance.isdigit():
            record["instance"] = int(instance)
        out.append(record)
    return out
