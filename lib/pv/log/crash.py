"""What a killed pv-log left at the end of current, and how the next one goes on.

The lock file carries one word about the writer that holds it (MARK_*),
rewritten whenever what a torn tail of current would mean changes: still in
the pipe (drop it), consumed (keep it), inside a long line (continue it).
``mend`` acts on it when the journal (journal.py) had nothing exact to say;
``settle`` when it had.  A mixin of LogDir: it uses its fd, size, lockfd,
mark, midline, line_start and spliced.
"""

import os

# All of one length, so that a new mark overwrites the old in place and
# needs no new disk block: on a full disk the mark can still change.
MARK_PLAIN = b"pv-log plain    \n"   # input was read(): a torn tail was consumed
MARK_TEE = b"pv-log tee      \n"     # tee mode: a torn tail is still in the pipe
MARK_LINE = b"pv-log tee line \n"    # tee mode, current ends inside a long line
MARK_SPLICE = b"pv-log splice   \n"  # tee mode, current written by splice: a torn tail was consumed


class CrashTail:
    def mend(self, tee):
        """The tail as the lock's word says (the journal had nothing exact)."""
        mark = self.mark
        if self.size and os.pread(self.fd, 1, self.size - 1) != b"\n":
            self._mend_tail(mark, tee)
        elif not self.size and tee and mark.rstrip() == MARK_LINE.rstrip():
            self.midline = True     # killed just after a rotation inside a long line
        self.set_mark(self.word() if tee else MARK_PLAIN)

    def _mend_tail(self, mark, tee):
        """current ends without a newline: the last writer died mid-line.

        After pv-log in tee mode the torn bytes were never taken from the pipe:
        drop them, they come again whole.  Inside a long line (MARK_LINE) the
        rest of that line is what the pipe holds next: continue it.  After any
        other writer the torn bytes were consumed: keep them, end the line.
        """
        if self.midline:
            return      # reopened (HUP) inside a long line: go on with it
        mark = mark.rstrip()
        if tee and mark in (MARK_LINE.rstrip(), MARK_SPLICE.rstrip()):
            self.midline = True
        elif tee and mark == MARK_TEE.rstrip():
            self.size = self._last_newline() + 1
            os.ftruncate(self.fd, self.size)
            os.lseek(self.fd, self.size, os.SEEK_SET)
        else:
            self.size += os.write(self.fd, b"\n")

    def _last_newline(self):
        end = self.size
        while end > 0:
            start = max(0, end - 65536)
            found = os.pread(self.fd, end - start, start).rfind(b"\n")
            if found >= 0:
                return start + found
            end = start
        return -1

    def ident(self):
        """What the journal records to know this directory and its current again."""
        return self.dirid + (self.inode,)

    def settle(self, size, midline):
        """The journal says current up to ``size`` holds each line once: cut
        it back there; the line state from its last byte (empty: ``midline``)."""
        if size != self.size:
            os.ftruncate(self.fd, size)
        self.size = os.lseek(self.fd, size, os.SEEK_SET)
        self.midline = midline
        if self.size:
            self.midline = os.pread(self.fd, 1, self.size - 1) != b"\n"
        self.line_start = self._last_newline() + 1 if self.midline and self.size else 0
        self.set_mark(self.word())

    def word(self):
        """The lock's word for the state now (tee mode)."""
        return MARK_LINE if self.midline else (MARK_SPLICE if self.spliced else MARK_TEE)

    def mark_state(self):
        self.set_mark(self.word())

    def set_mark(self, mark):
        """Record the writer's state in ``lock``; if even that fails, say nothing.

        An empty lock reads as "another writer": the next pv-log then keeps a
        torn tail and ends it with a newline, which loses nothing.
        """
        try:
            os.pwrite(self.lockfd, mark, 0)
        except OSError:
            try:
                os.ftruncate(self.lockfd, 0)
            except OSError:
                pass
