"""pv-scan: supervise every service directory in a scan directory, in one process."""

import resource
from pv.signames import signal
import sys

from pv import diag

PROG = "pv-scan"
SYNOPSIS = "pv-scan [-h] DIR"
HELP = """\
usage: pv-scan [-h] DIR

Supervise every entry of DIR that is a directory or a symbolic link to one and
whose name does not start with '.', each like pv-run, all in this one process.
Rescan on SIGHUP, on 'h' written to DIR/.pv-scan/control, and when DIR changes.
SIGTERM or SIGINT (or 'x' on DIR/.pv-scan/control) takes every service down,
then exits 0.  See pv-scan(1).

  -h, --help   show this help and exit
"""


def main(argv=None):
    from pv.cmd import onedir
    argv = sys.argv[1:] if argv is None else argv
    return onedir.run(PROG, SYNOPSIS, HELP, "scan", scan, argv)


def raise_fd_limit():
    """Each service holds a few descriptors: allow as many as the hard limit lets us."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass
    return soft


def scan(directory):
    from pv.supervise.runner import Runner
    from pv.supervise.scan import Scanner

    runner = Runner(PROG)
    runner.child_nofile = raise_fd_limit()
    scanner = Scanner(directory, runner)
    try:
        scanner.open()
    except diag.PvError as exc:
        diag.fatal(PROG, exc.message())
        runner.close()
        return exc.code
    for signum in (signal.SIGTERM, signal.SIGINT):
        runner.loop.on_signal(signum, runner.exit_all)
    runner.loop.on_signal(signal.SIGHUP, lambda signum: scanner.rescan(explicit=True))
    runner.settled = False      # tell systemd nothing until every entry has been seen
    scanner.rescan(explicit=True)
    runner.settled = True
    runner.service_changed(None)
    scanner.start_timer()
    try:
        runner.loop.run()
    finally:
        scanner.close()
        runner.close()
    return runner.exit_code
