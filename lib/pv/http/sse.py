"""GET /v1/events: the transition record of the scan directory as server-sent events.

Each record is one message event (no ``event:`` field, so EventSource's
``onmessage`` sees them all): ``id`` its sequence number, ``data`` its line
as the journal holds it (pv-events(5)), whose ``event`` field says what
happened.  Records rotated away before they were sent are one message
``{"event": "gap", "first": SEQ, "last": SEQ}``.  A client that
reconnects with ``Last-Event-ID`` (EventSource does) or asks ``?since=SEQ``
gets every record after it still kept, so none is lost or repeated.  The
stream is woken by the record's directory changing (inotify), and sends a
comment every HEARTBEAT_SECS so that a client gone away is noticed.
"""

from urllib.parse import parse_qs

from pv.ctl import watch
from pv.diag import PvError
from pv.http import jsonapi, logs

HEARTBEAT_SECS = 30.0


def cursor(headers, query):
    """The sequence number to start after, or None for "from now"."""
    text = headers.get("Last-Event-ID") or (query.get("since") or [""])[0]
    return int(text) if text.strip().isdigit() else None


def frame(seq, line):
    return b"id: %d\ndata: %s\n\n" % (seq, line.replace(b"\n", b" ").replace(b"\r", b" "))


def chunks(directory, after, names, sock):
    """Yield the stream's bytes until the client goes away."""
    yield b"retry: 2000\n\n"
    for record, line in watch.stream(directory, after, names, sock.fileno(), HEARTBEAT_SECS):
        if record == "gap":
            yield b'data: {"event": "gap", "first": %d, "last": %d}\n\n' % line
        elif record == "idle":
            if logs.gone(sock):
                return
            yield b": still here\n\n"
        else:
            yield frame(record["seq"], line)


def events(req, rest, query, body):
    query = parse_qs(query)
    try:
        directory = watch.journal_dir(req.app.scandir)
    except PvError as exc:
        return jsonapi.error(req, 503, exc.reason)
    after = cursor(req.headers, query)
    req.stream("text/event-stream; charset=utf-8",
               chunks(directory, after, query.get("name", []), req.connection))
