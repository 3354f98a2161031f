"""What each log directory gets of a piece of input, and the way back.

A Renderer turns a piece (whole lines, maybe ending in a partial one) into
the bytes each directory writes: -r/-R replacement, the stamp, and for a
directory whose config selects or prefixes lines, its Selector (match.py).
``input_at`` maps a point of one directory's output back to the input, so
the pump can end a piece where a directory has to rotate (journal.py).
"""

from pv import timefmt
from pv.log import match as logmatch


def input_offset(out, stop, width, midline):
    """Where ``out[:stop]`` ends in the input, ``out`` being it with a stamp
    of ``width`` bytes before each line it starts (None: inside a stamp)."""
    if not width:
        return stop
    nl = out.rfind(b"\n", 0, stop - 1)
    begun = nl + 1 if nl >= 0 or not midline else None    # the last stamp before stop
    if begun is not None and stop < begun + width:
        return None
    stamps = out.count(b"\n", 0, stop - 1) + (0 if midline else 1)
    return stop - width * stamps


class Renderer:
    def __init__(self, stamp, table, linemax):
        self.stamper = timefmt.Stamper(stamp)
        self.table = table
        self.linemax = linemax
        self.selectors = {}

    def render(self, dirs, piece, close_line=False):
        """([(dir, out, end, stderr copies)], stamp width) for ``piece``."""
        if close_line and not piece.endswith(b"\n"):
            piece += b"\n"
        if self.table is not None:
            piece = piece.translate(self.table)
        stamp = self.stamper.stamp()
        plain, outs = {}, []
        for d in dirs:
            if d.config.plain():
                if d.midline not in plain:
                    plain[d.midline] = timefmt.stamp_chunk(piece, stamp, d.midline)
                out, end = plain[d.midline]
                outs.append((d, out, end, b""))
            else:
                out, err = self.selector(d).render(piece, stamp, d.midline)
                outs.append((d, out, len(out), err))
        return outs, len(stamp)

    def selections(self):
        """The selectors' state, to render a piece again (``restore``)."""
        return {name: sel.selected for name, sel in self.selectors.items()}

    def restore(self, saved):
        for name, sel in self.selectors.items():
            sel.selected = saved.get(name, True)

    def input_at(self, d, out, stop, width):
        """The input offset where ``out[:stop]`` of ``d`` ends (None: not at one)."""
        if d.config.plain():
            return input_offset(out, stop, width, d.midline)
        ends = self.selector(d).ends
        count = out.count(b"\n", 0, stop)
        if out[stop - 1] != 0x0A or not 0 < count <= len(ends):
            return None
        return ends[count - 1]

    def selector(self, d):
        sel = self.selectors.get(d.name)
        if sel is None or sel.config is not d.config:
            sel = self.selectors[d.name] = logmatch.Selector(d.config, self.linemax)
        return sel
