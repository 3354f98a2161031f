"""pv-http's own log: one line per action, kept in memory (the last 64 KiB).

It is what ``supervisorctl maintail`` reads (readLog) and what
``/mainlogtail`` streams: who did what, when.  pv-http writes no file.
"""

import threading
import time

KEEP_BYTES = 65536


class Journal:
    def __init__(self, keep=KEEP_BYTES):
        self.keep = keep
        self.data = b""
        self.total = 0          # bytes ever written; data ends at this offset
        self.cond = threading.Condition()

    def add(self, text):
        line = ("%s %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"), text)).encode("utf-8", "replace")
        with self.cond:
            self.data = (self.data + line)[-self.keep:]
            self.total += len(line)
            self.cond.notify_all()

    def read(self, offset, length):
        """Supervisor's readLog: offset < 0 is the last -offset bytes."""
        with self.cond:
            data, start = self.data, self.total - len(self.data)
        if offset < 0:
            return data[offset:] if -offset < len(data) else data
        begin = max(0, offset - start)
        return data[begin:begin + length] if length else data[begin:]

    def clear(self):
        with self.cond:
            self.data = b""

    def wait_after(self, offset, secs):
        """(new bytes after absolute ``offset``, new offset); waits up to ``secs``."""
        with self.cond:
            if self.total <= offset:
                self.cond.wait(secs)
            start = self.total - len(self.data)
            begin = max(0, offset - start)
            return self.data[begin:], self.total

    def end(self):
        with self.cond:
            return self.total
