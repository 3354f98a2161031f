"""Supervisor's "main log" for pv: the transition record, one human line a record.

``supervisorctl maintail`` reads it (readLog) and ``maintail -f`` follows it
(/mainlogtail), as supervisord's own log shows processes spawned, exiting
and given up.  The lines are pv-ctl watch's (pv.events.record.human).
Without a record (pv-scan not running) it is pv-http's own action log.
"""

from pv.ctl import watch
from pv.diag import PvError
from pv.events.reader import Reader, Waker
from pv.events.record import human, parse
from pv.http import logs

KEEP_RECORDS = 1000         # readLog renders at most the last this many records
HEARTBEAT_SECS = 30.0


def directory_of(scandir):
    try:
        return watch.journal_dir(scandir)
    except PvError:
        return None


def lines(pairs):
    out = []
    for _, line in pairs:
        try:
            out.append((human(parse(line)) + "\n").encode("utf-8", "replace"))
        except ValueError:
            continue
    return b"".join(out)


def text(scandir, journal):
    """The log as bytes: the last KEEP_RECORDS records, else the action log."""
    directory = directory_of(scandir)
    if directory is None:
        return journal.read(0, 0)
    after = max(0, watch.last_seq(directory) - KEEP_RECORDS)
    reader = Reader(directory, after)
    try:
        return lines(reader.read())
    finally:
        reader.close()


def read(scandir, journal, offset, length):
    """Supervisor's readLog over ``text``: offset < 0 is the last -offset bytes."""
    data = text(scandir, journal)
    if offset < 0:
        return data[offset:]
    return data[offset:offset + length] if length else data[offset:]


def follow(scandir, journal, sock, backlog=logs.FIRST_TAIL):
    """The last ``backlog`` bytes, then each new record's line, until the client goes."""
    directory = directory_of(scandir)
    if directory is None:
        yield from _follow_journal(journal, sock, backlog)
        return
    yield text(scandir, journal)[-backlog:]
    reader, waker = Reader(directory, None), Waker(directory)
    try:
        while True:
            yield lines(reader.read())
            why = waker.wait(HEARTBEAT_SECS, sock.fileno())
            if why == "closed" or (why == "timeout" and logs.gone(sock)):
                return
    finally:
        waker.close()
        reader.close()


def _follow_journal(journal, sock, backlog):
    yield journal.read(-backlog, 0)
    offset = journal.end()
    while True:
        data, offset = journal.wait_after(offset, logs.POLL_MAX_SECS * 5)
        if data:
            yield data
        elif logs.gone(sock):
            return
