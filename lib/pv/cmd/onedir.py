"""The command line pv-run and pv-scan share: ``PROG [-h] DIR``."""

import os
import sys

from pv import diag


def parse(argv, synopsis):
    """The directory from argv; None for help; UsageError if argv is wrong."""
    args = list(argv)
    if args and args[0] in ("-h", "--help"):
        return None
    if args and args[0] == "--":
        args.pop(0)
    if len(args) != 1 or (args[0].startswith("-") and args[0] != "-"):
        raise diag.UsageError(synopsis)
    return args[0]


def run(prog, synopsis, help_text, verb, body, argv):
    """Parse ``argv``, check the directory, then ``body(directory)`` under diag.guard."""
    try:
        directory = parse(argv, synopsis)
    except diag.UsageError as exc:
        return diag.usage(prog, exc.message())
    if directory is None:
        sys.stdout.write(help_text)
        return diag.EXIT_OK
    if not os.path.isdir(directory):
        reason = "file does not exist" if not os.path.exists(directory) else "not a directory"
        diag.fatal(prog, "unable to %s %s: %s" % (verb, directory, reason))
        return diag.EXIT_USAGE
    return diag.guard(prog, body, directory)
