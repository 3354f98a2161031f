"""pv-run: supervise one service directory in the foreground (runsv)."""

import os
from pv.signames import signal
import sys

from pv import diag

PROG = "pv-run"
SYNOPSIS = "pv-run [-h] DIR"
HELP = """\
usage: pv-run [-h] DIR

Supervise the service directory DIR (and DIR/log, if present) until told to
exit with 'x' on DIR/supervise/control or SIGTERM.  See pv-run(1).

  -h, --help   show this help and exit
"""


def parse(argv):
    """The service directory from argv; UsageError if argv is wrong."""
    args = list(argv)
    if args and args[0] in ("-h", "--help"):
        return None
    if args and args[0] == "--":
        args.pop(0)
    if len(args) != 1 or (args[0].startswith("-") and args[0] != "-"):
        raise diag.UsageError(SYNOPSIS)
    return args[0]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        directory = parse(argv)
    except diag.UsageError as exc:
        sys.stderr.write("%s: usage: %s\n" % (PROG, exc.message()))
        return diag.EXIT_USAGE
    if directory is None:
        sys.stdout.write(HELP)
        return diag.EXIT_OK
    if not os.path.isdir(directory):
        reason = "file does not exist" if not os.path.exists(directory) else "not a directory"
        diag.fatal(PROG, "unable to supervise %s: %s" % (directory, reason))
        return diag.EXIT_USAGE
    return diag.guard(PROG, supervise, directory)


def supervise(directory):
    from pv.runner import Runner
    from pv.service import Service

    runner = Runner(PROG)
    runner.stop_when_empty = True
    service = Service(os.path.abspath(directory), directory, runner)
    try:
        service.open()
    except diag.PvError as exc:
        diag.fatal("%s %s" % (PROG, directory), exc.message())
        runner.close()
        return exc.code
    runner.add(service)
    for signum in (signal.SIGTERM, signal.SIGINT):
        runner.loop.on_signal(signum, runner.exit_all)
    runner.loop.on_signal(signal.SIGHUP, lambda signum: None)
    service.begin()
    try:
        runner.loop.run()
    finally:
        runner.close()
    return diag.EXIT_OK
