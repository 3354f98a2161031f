"""How a piece of input reaches every log directory and leaves the pipe.

A mixin of Pump (pump.py), which supplies the directories, the source, the
journal, the renderer and ``retry``.  One ``step`` writes one piece: cut
where a directory must rotate, rotated first where it must, named in the
journal, written, then consumed -- by a splice into the first directory's
current when it takes the input as it is ("direct", journal.py).
"""

import os


class Writer:
    def step(self, data, start, stop, close_line):
        """Write ``data[start:stop]``, or the part of it before a rotation,
        everywhere; consume it; the input bytes taken.

        A piece never makes a directory rotate inside it when that can be
        helped: it is cut where the first directory must rotate, and the
        next piece rotates that directory before its journal header, so the
        header always names one current per directory (journal.py).
        """
        piece = data if start == 0 and stop == len(data) else data[start:stop]
        fresh = not (close_line or piece.endswith(b"\n")) and self.source.full(len(piece))
        selected = self.renderer.selections()
        outs, width = self.renderer.render(self.live(), piece, close_line)
        fit = self.fit(outs, len(piece), fresh, width)
        if fit is not None and fit < len(piece):
            self.renderer.restore(selected)
            piece = piece[:fit]
            outs, width = self.renderer.render(self.live(), piece)
        for _, _, _, err in outs:
            self._to_stderr(err)
        direct = self._direct(outs, piece)
        if fit is not None:
            direct = self.journal.begin([(d, end) for d, _, end, _ in outs], len(piece),
                                        direct) and direct
        if outs and outs[0][0].spliced != direct:
            outs[0][0].spliced = direct
            outs[0][0].mark_state()
        for d, out, end, _ in outs[1:] if direct else outs:
            self._write_dir(d, out, end)
        if direct:
            self._splice_dir(outs[0][0], piece)
        else:
            self.journal.consume(self.source, len(piece))
        self.drain -= len(piece)
        for d in self.live():
            if not d.midline and d.room() == 0:
                self._rotate(d)       # full: after the consume, outside any piece
        return len(piece)

    def fit(self, outs, length, fresh, width):
        """Rotate the directories that must rotate before the piece; how much
        of its ``length`` input bytes every directory takes without rotating
        (None: a directory must rotate inside it, at a point we cannot map)."""
        best = length
        for d, out, end, _ in outs:
            if fresh and not d.midline and d.size:
                self._rotate(d)        # a line longer than the pipe starts a file
            if not end:
                continue
            stop = d.cut(out, 0, end)
            if stop is None:
                self._rotate(d, inside_line=d.midline)
                stop = d.cut(out, 0, end)
            if stop is not None and stop < end:
                stop = self.renderer.input_at(d, out, stop, width)
                if stop is not None and stop > 0:
                    best = min(best, stop)
                    continue
            if stop is None or stop <= 0:
                return None
        return best

    def _to_stderr(self, err):
        if err:
            try:
                os.write(self.errfd, err)
            except OSError:
                pass

    def _direct(self, outs, piece):
        """True if the first directory takes ``piece`` as it is, by splice:
        its write is then the consume itself (journal.py)."""
        return (self.journal.active() and bool(outs) and outs[0][1] is piece
                and outs[0][0] is self.dirs[0] and outs[0][0].cut(piece, 0, len(piece)) == len(piece))

    def _splice_dir(self, d, piece):
        """Write ``piece`` to current by moving it from stdin (the consume)."""
        was_midline, before, end = d.midline, d.size, d.size + len(piece)
        cur = d.name + "/current"
        while d.size < end:
            d.size += self.retry("write", cur, lambda: self.source.splice_to(
                d.fd, end - d.size, None), d)
        d.wrote(piece, 0, len(piece), before)
        if d.midline != was_midline:
            d.mark_state()

    def _write_dir(self, d, out, end):
        was_midline = d.midline
        view, pos = memoryview(out), 0
        while pos < end:
            stop = d.cut(out, pos, end)
            if stop is None:
                self.journal.spoil()        # current changes inside the piece
                self._rotate(d, inside_line=d.midline)
                continue
            before = d.size
            self._write_all(d, view[pos:stop])
            d.wrote(out, pos, stop, before)
            pos = stop
        if self.tee and d.midline != was_midline:
            d.mark_state()

    def _write_all(self, d, view):
        while len(view):
            done = self.retry("write", d.name + "/current", lambda v=view: d.write(v), d)
            view = view[done:]
