"""pv-run: supervise one service directory in the foreground (runsv)."""

import os
from pv.signames import signal
import sys

from pv import diag

PROG = "pv-run"
SYNOPSIS = "pv-run [-h] DIR | pv-run --init [--] CMD [ARG...]"
HELP = """\
usage: pv-run [-h] DIR
       pv-run --init [--] CMD [ARG...]

Supervise the service directory DIR (and DIR/log, if present) until told to
exit with 'x' on DIR/supervise/control or SIGTERM.  With --init, run CMD as a
container's init instead: forward signals to it, reap every zombie, and exit
as CMD did.  See pv-run(1).

  -h, --help   show this help and exit
  --init       init mode: run CMD, no service directory
"""


def parse_init(args):
    """The command after ``--init [--]``; UsageError if there is none."""
    args = list(args)
    if args and args[0] == "--":
        args.pop(0)
    if not args or not args[0]:
        raise diag.UsageError(SYNOPSIS)
    return args


def main(argv=None):
    from pv.cmd import onedir
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--init":
        try:
            command = parse_init(argv[1:])
        except diag.UsageError as exc:
            return diag.usage(PROG, exc.message())
        return diag.guard(PROG, init, command)
    return onedir.run(PROG, SYNOPSIS, HELP, "supervise", supervise, argv)


def supervise(directory):
    from pv.supervise.runner import Runner
    from pv.supervise import instances

    runner = Runner(PROG)
    runner.stop_when_empty = True
    service = instances.make(os.path.abspath(directory), directory, runner)
    try:
        service.open()
    except diag.PvError as exc:
        diag.fatal("%s %s" % (PROG, directory), exc.message())
        runner.close()
        return exc.code
    runner.open_journal(os.path.join(directory, "supervise", "events"),
                        directory.rstrip("/") or directory,
                        os.path.basename(os.path.abspath(directory)))
    runner.add(service)
    for signum in (signal.SIGTERM, signal.SIGINT):
        runner.loop.on_signal(signum, runner.exit_all)
    runner.loop.on_signal(signal.SIGHUP, lambda signum: None)
    service.begin()
    try:
        runner.loop.run()
    finally:
        runner.close()
    return runner.exit_code


def init(command):
    """--init: run ``command`` as init; exit as it did (pv-run(1), INIT MODE)."""
    from pv.supervise import init as initmode

    grace = initmode.DEFAULT_GRACE
    text = os.environ.get("PV_INIT_GRACE_MS")
    if text is not None:
        try:
            grace = initmode.grace_from(text)
        except ValueError:
            diag.warn(PROG, "bad PV_INIT_GRACE_MS: not a number of ms: %r" % text)
    runner = initmode.Init(command, grace)
    try:
        status = runner.run()
    except initmode.StartError as exc:
        diag.fatal(PROG, "unable to start %s: %s" % (exc.command, exc.reason))
        return exc.code
    finally:
        runner.close()
    return exit_as(status)


def exit_as(status):
    """Die of the command's signal (not possible as process 1: 128+N), else its code."""
    from pv.supervise import init as initmode

    if os.WIFSIGNALED(status) and os.getpid() != 1:
        signum = os.WTERMSIG(status)
        import resource
        sys.stdout.flush()
        sys.stderr.flush()
        # The command's core, if any, is dumped already; ours would be noise.
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        # still here: a signal whose default is to ignore (SIGWINCH, SIGCONT, ...)
    return initmode.exit_code(status)
