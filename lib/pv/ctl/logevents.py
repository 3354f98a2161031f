"""PROCESS_LOG_STDOUT / PROCESS_LOG_STDERR for pv-ctl listen: the new lines of
the logs of the services that ask for them (the ``log-events`` knob).

A service's output goes through a pipe to its logger, never through pv-ctl;
so the events are made from the log directory instead: ``log/main/current``
(per instance where each has its own, as pv-ctl tail finds it) for stdout,
``log-stderr/main/current`` for stderr.  Each source starts at the end of
its log (supervisord only sends output made while it runs), and the lines
of one read become one event, without pv-log's stamp, so that the data is
what the program wrote.

Waking: each log directory gets an inotify watch (the events package's
Waker), so pv-ctl listen sleeps until a logger writes.  A directory that
does not exist yet (the logger has not started) or cannot be watched is
polled with a back-off (POLL_FIRST_SECS doubling to POLL_MAX_SECS, reset by
output), and only while PROCESS_LOG is subscribed: a listener that does not
want log events costs nothing here.
"""

import os
import re

from pv.ctl import names, tail
from pv.ctl.add import LOG_SUBDIR
from pv.events.reader import Waker
from pv.log.logdir import CURRENT
from pv.servicedir import (LOG_ERR, LOG_EVENTS, KnobError, SCAN_DIR, has_err_log,
                           instance_dir, read_instances, read_text)

CHANNELS = ("stdout", "stderr")
EVENT_NAMES = {"stdout": "PROCESS_LOG_STDOUT", "stderr": "PROCESS_LOG_STDERR"}
CHUNK_CHARS = 65536          # one event's data at most: a long burst becomes several
POLL_FIRST_SECS, POLL_MAX_SECS = 0.05, 1.0
# pv-log -t (TAI64N), -tt (UTC, '_') and -ttt (ISO, 'T'): 25 characters and a space.
_STAMP = re.compile(r"(?:@[0-9a-f]{24}|[0-9]{4}-[0-9]{2}-[0-9]{2}[_T]"
                    r"[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{5}) ")


def strip_stamp(line):
    """``line`` without a leading pv-log stamp."""
    match = _STAMP.match(line)
    return line[match.end():] if match else line


def payload(process, group, pid, channel, data):
    """The payload supervisord sends: a header line, then the data as written."""
    return "processname:%s groupname:%s pid:%d channel:%s\n%s" % (
        process, group, pid, channel, data)


def chunks(lines):
    """The data of complete ``lines`` (stamps stripped), in pieces of about CHUNK_CHARS."""
    out, piece, size = [], [], 0
    for line in lines:
        text = strip_stamp(line) + "\n"
        if piece and size + len(text) > CHUNK_CHARS:
            out.append("".join(piece))
            piece, size = [], 0
        piece.append(text)
        size += len(text)
    if piece:
        out.append("".join(piece))
    return out


def read_channels(service):
    """The channels ``log-events`` asks for; an empty file: stdout; absent: none."""
    try:
        text = read_text(os.path.join(service, LOG_EVENTS), 4096)
    except OSError:
        return ()
    if text is None:
        return ()
    words = text.split() or ["stdout"]
    return tuple(c for c in CHANNELS if c in words)


def _err_dir(service):
    err = os.path.join(service, LOG_ERR)
    main = os.path.join(err, LOG_SUBDIR)
    if os.path.isdir(main) or not os.path.exists(os.path.join(err, CURRENT)):
        return main
    return err


def sources_of(service, channels):
    """[(directory, channel, key)] for one service; key is (service name, instance)
    -- instance None where the log is the whole service's."""
    name = os.path.basename(service)
    out = []
    if "stdout" in channels:
        try:
            count = read_instances(service)
        except (KnobError, OSError):
            count = None
        shared = tail.log_dir(service)
        for k in range(count or 0):
            own = tail.log_dir(instance_dir(service, k))
            if own != shared:
                out.append((own, "stdout", (name, k)))
        if len(out) < (count or 1):       # some process writes to the service's log
            out.append((shared, "stdout", (name, None)))
    if "stderr" in channels and has_err_log(service):
        out.append((_err_dir(service), "stderr", (name, None)))
    return out


class Source:
    __slots__ = ("directory", "channel", "key", "follower", "waker")

    def __init__(self, directory, channel, key):
        self.directory, self.channel, self.key = directory, channel, key
        self.follower = tail.Follower(directory, from_end=True)
        self.waker = None
        self.watch()

    def watch(self):
        """Watch the directory once it exists (a logger makes it when it starts)."""
        if self.waker is not None and not os.path.isdir(self.directory):
            self.waker.close()      # removed: its watch is gone with it
            self.waker = None
        if self.waker is None and os.path.isdir(self.directory):
            waker = Waker(self.directory)
            if waker.fd >= 0:
                self.waker = waker

    def close(self):
        self.follower.close()
        if self.waker is not None:
            self.waker.close()


class LogEvents:
    """The sources of the services of a scan directory (or of the one service of a
    pv-run), kept in step with their knobs by ``refresh()``."""

    def __init__(self, journal):
        top = os.path.dirname(os.path.dirname(os.path.abspath(journal)))
        scan = os.path.basename(os.path.dirname(os.path.abspath(journal))) == SCAN_DIR
        self.scandir, self.service = (top, None) if scan else (None, top)
        self.sources = {}
        self.delay = POLL_FIRST_SECS
        self.refresh()

    def _services(self):
        if self.service is not None:
            return [self.service]
        try:
            return [os.path.join(self.scandir, n) for n in names.services(self.scandir)]
        except OSError:
            return []

    def refresh(self):
        """Follow the logs the knobs ask for now; stop following the others."""
        wanted = {}
        for service in self._services():
            for directory, channel, key in sources_of(service, read_channels(service)):
                wanted[(directory, channel)] = key
        for where in [w for w in self.sources if self.sources[w].key != wanted.get(w)]:
            self.sources.pop(where).close()
        for where, key in wanted.items():
            if where in self.sources:
                self.sources[where].watch()
            else:
                self.sources[where] = Source(where[0], where[1], key)

    def fds(self):
        return [s.waker.fd for s in self.sources.values() if s.waker is not None]

    def timeout(self):
        """Seconds to the next poll; None while every source is watched."""
        if all(s.waker is not None for s in self.sources.values()):
            return None
        return self.delay

    def events(self, pid_of):
        """[(event name, payload)] of the new lines; ``pid_of(key)`` the pid to name."""
        out = []
        for source in self.sources.values():
            if source.waker is not None:
                source.waker.wait(0)     # drain it: the read below takes everything
            else:
                source.watch()
            lines = source.follower.poll()
            if not lines:
                continue
            service, instance = source.key
            process = service if instance is None else "%s_%d" % (service, instance)
            for data in chunks(lines):
                out.append((EVENT_NAMES[source.channel],
                            payload(process, service, pid_of(source.key), source.channel,
                                    data)))
        self.delay = POLL_FIRST_SECS if out else min(self.delay * 2, POLL_MAX_SECS)
        return out

    def close(self):
        for source in self.sources.values():
            source.close()
        self.sources.clear()
