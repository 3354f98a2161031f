"""What an event listener writes on its stdout, parsed (Supervisor's protocol).

A listener writes ``READY\\n`` when it wants an event; after an event it
writes ``RESULT <n>\\n`` and n bytes, ``OK`` or ``FAIL``; then READY again.
Anything else it writes while not busy is noise, passed on to the log.
``Parser.feed`` turns bytes into ("ready",), ("result", body) and ("noise",
line) items; it never blocks and keeps partial tokens for the next feed.
"""

READY = b"READY\n"
RESULT = b"RESULT "
MAX_RESULT = 65536        # a longer result is a broken listener, not a result


class Parser:
    def __init__(self):
        self.buffer = b""
        self.busy = False         # an event was sent; a RESULT is expected
        self.need = None          # bytes of the result body still to come

    def sent(self):
        """An event was written to the listener."""
        self.busy = True

    def feed(self, data):
        self.buffer += data
        out = []
        while self.buffer:
            item = self._result() if self.busy else self._idle()
            if item is None:
                break
            out.append(item)
        return out

    def _idle(self):
        if self.buffer.startswith(READY):
            self.buffer = self.buffer[len(READY):]
            return ("ready",)
        if READY.startswith(self.buffer):
            return None                       # the start of READY: wait for the rest
        end = self.buffer.find(b"\n")
        if end < 0:
            if len(self.buffer) < MAX_RESULT:
                return None
            end = len(self.buffer) - 1
        line, self.buffer = self.buffer[:end + 1], self.buffer[end + 1:]
        return ("noise", line)

    def _result(self):
        if self.need is None:
            end = self.buffer.find(b"\n")
            if end < 0:
                return None if len(self.buffer) < 64 else self._bad()
            line = self.buffer[:end]
            digits = line[len(RESULT):]
            if not line.startswith(RESULT) or not digits.isdigit() or \
                    int(digits) > MAX_RESULT:
                return self._bad()
            self.buffer, self.need = self.buffer[end + 1:], int(digits)
        if len(self.buffer) < self.need:
            return None
        body, self.buffer = self.buffer[:self.need], self.buffer[self.need:]
        self.need, self.busy = None, False
        return ("result", body)

    def _bad(self):
        """Not a RESULT line: the event is rejected (as supervisord does), like a FAIL."""
        end = self.buffer.find(b"\n")
        line = self.buffer if end < 0 else self.buffer[:end + 1]
        self.buffer = self.buffer[len(line):]
        self.need, self.busy = None, False
        return ("result", b"BAD " + line.strip())
