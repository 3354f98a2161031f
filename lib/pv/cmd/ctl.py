"""pv-ctl: the Supervisor-style front over a scan directory; see pv-ctl(1).

Every verb is a composition of library calls (pv.control, pv.wait through
pv.ctl_*); this module parses, prints and picks exit codes.  Imports are
lazy so that ``pv-ctl status`` starts about as fast as Python does.
"""

import os
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
    return diag.guard(PROG, _quiet_on_epipe, ctx, words)


def _quiet_on_epipe(ctx, words):
    """Run the verb; a reader that went away (``pv-ctl status | head``) ends it quietly.

    The exit is 111 (the output was cut short), without a message: the reader
    left on purpose.  stdout is pointed at /dev/null so that the interpreter's
    own flush at exit does not fail again and print a traceback.
    """
    from pv.cmd import ctl_verbs
    try:
        code = ctl_verbs.dispatch(ctx, words[0], words[1:])
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return diag.EXIT_TEMP


