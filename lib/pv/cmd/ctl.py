"""pv-ctl: the Supervisor-style front over a scan directory; see pv-ctl(1).

Every verb is a composition of library calls (pv.control, pv.wait through
pv.ctl_*); this module parses, prints and picks exit codes.  Imports are
lazy so that ``pv-ctl status`` starts about as fast as Python does.
"""

import sys

from pv import diag
from pv.cmd.ctl_base import PROG, SYNOPSIS, Context, parse_common, usage  # noqa: F401 (Context, parse_common: for tests)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ctx = Context()
    try:
        words = parse_common(ctx, argv)
    except diag.UsageError as exc:
        return usage(exc)
    if not words:
        return usage(diag.UsageError(SYNOPSIS))
    from pv.cmd import ctl_verbs
    return diag.guard(PROG, ctl_verbs.dispatch, ctx, words[0], words[1:])


