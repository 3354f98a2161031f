"""Line selection as svlogd does it: its pattern language, -r/-R, ``+ - e E`` lines.

A pattern is not a regular expression (see pv-logdir(5)): a ``*`` before the
end matches any run of bytes that does not contain the next pattern byte, a
``*`` at the end matches anything, ``+X`` matches one or more ``X``, every
other byte matches itself.  The whole message must be consumed.
"""

STAR, PLUS = 0x2A, 0x2B


def pmatch(pattern, line):
    """True if bytes ``line`` matches svlogd pattern ``pattern``."""
    p, s, plen, slen = 0, 0, len(pattern), len(line)
    while True:
        if p == plen:
            return s == slen
        c = pattern[p]
        p += 1
        if c == STAR:
            if p == plen:
                return True
            nxt = line.find(pattern[p:p + 1], s)
            if nxt < 0:
                return False
            s = nxt
        elif c == PLUS:
            want = pattern[p] if p < plen else None
            p += 1
            if s == slen or line[s] != want:
                return False
            while s < slen and line[s] == want:
                s += 1
            if s == slen:
                return True   # svlogd's quirk: a run reaching the end matches
        else:
            if s == slen or line[s] != c:
                return False
            s += 1


def replace_table(char, extra):
    """The bytes.translate table for -r CHAR -R EXTRA (None: no replacing).

    Non-printable bytes (below 32 or above 126) and every byte of ``extra``
    become ``char``; the newline is kept, it is the line separator.
    """
    if char is None:
        return None
    table = bytearray(range(256))
    for byte in list(range(32)) + list(range(127, 256)) + list(extra):
        table[byte] = char
    table[0x0A] = 0x0A
    return bytes(table)


def decide(patterns, message):
    """(to_log, to_stderr) for one message, applying the lines in order."""
    log, err = True, False
    for op, pattern in patterns:
        if op in (b"+", b"-"):
            if pmatch(pattern, message):
                log = op == b"+"
        elif pmatch(pattern, message):
            err = op == b"e"
    return log, err


class Selector:
    """Per-directory rendering of complete or partial lines (the slow path).

    ``render(data, stamp, cont)`` returns (bytes for the log file, bytes for
    stderr).  ``cont`` says the first line of ``data`` continues a line begun
    in an earlier chunk: its selection is remembered in ``self.selected``.
    ``self.ends`` lists, for each whole line of the last output, where its
    line ended in ``data`` (so the pump can cut the input where the output
    must be cut).
    """

    def __init__(self, config, linemax):
        self.config = config
        self.patterns = config.patterns
        self.prefix = config.prefix
        self.linemax = linemax
        self.selected = True
        self.ends = []

    def render(self, data, stamp, cont):
        out, err, ends, at = [], [], [], 0
        lines = data.split(b"\n")
        last = len(lines) - 1
        for i, line in enumerate(lines):
            if i == last and not line:
                break      # data ended with a newline
            nl = b"\n" if i < last else b""
            at += len(line) + len(nl)
            if i == 0 and cont:
                if self.selected:
                    out.append(line + nl)
                    ends.append(at)
                continue
            msg = line[:self.linemax]
            self.selected, to_err = decide(self.patterns, msg)
            if to_err:
                dots = b"..." if len(line) >= self.linemax else b""
                err.append(stamp + self.prefix + msg + dots + b"\n")
            if self.selected:
                out.append(stamp + self.prefix + line + nl)
                ends.append(at)
        self.ends = ends
        return b"".join(out), b"".join(err)
