"""pv-ctl: the Supervisor-style front over a scan directory; see pv-ctl(1).

Every verb is a composition of library calls (pv.control, pv.wait through
pv.ctl_*); this module parses, prints and picks exit codes.  Imports are
lazy so that ``pv-ctl status`` starts about as fast as Python does.
"""

import sys

from pv import diag

PROG = "pv-ctl"
VERSION = "pv-ctl (pv) 0.1"
SYNOPSIS = "pv-ctl [-d DIR] [--json] [-w SECS | --no-wait] VERB [NAME...]"
HELP = """\
usage: %s

NAME: a service in DIR, a path, GROUP:*, a glob, or all.
  status [NAME...]         one line per service (default all); 0 up, 3 not, 4 unknown
  start|stop|restart NAME  send u / d / du, wait -w SECS (7); 0 ok, 1 timed out
  once NAME                start once (o), do not restart
  signal SIG NAME          send STOP CONT HUP ALRM INT QUIT USR1 USR2 TERM KILL
  pid NAME                 the main pid (0 when down)
  tail [-f] [-n N] NAME    the service's log, stamps in local time
  check [NAME...]          Nagios/Icinga plugin: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
  add NAME [--group G] [--down] [--log-size N] [--log-keep N] -- CMD [ARG...]
  remove NAME              stop it, end its pv-run, delete the directory
  import FILE [--into D]   supervisord.conf -> a service directory per program
  reread [NAME...]         changed/unchanged/added/removed, and ask pv-scan to rescan
  update [NAME...]         reread, then restart (du) the changed services
  shell                    interactive; help VERB for details
  version
Options: -d DIR (default $PV_SCANDIR, /etc/pv/service for root,
~/.config/pv/service otherwise), --json, -w SECS, --no-wait, -h/--help.
""" % SYNOPSIS


class Context:
    """Options shared by every verb of one invocation (or one shell)."""

    def __init__(self):
        self.scandir = None
        self.json = False
        self.wait = True
        self.wait_secs = 7.0
        self.explicit_wait = False
        self.out = sys.stdout


def _float(text, what):
    try:
        value = float(text)
    except ValueError:
        value = -1
    if value < 0:
        raise diag.UsageError("%s takes a number of seconds" % what)
    return value


def parse_common(ctx, args):
    """Consume the options pv-ctl takes before (and after) VERB; return the rest."""
    args = list(args)
    rest = []
    while args:
        arg = args.pop(0)
        if arg == "--":
            rest += [arg] + args
            break
        if arg in ("-d", "-w") or arg.startswith(("-d", "-w")) and len(arg) > 2:
            value = arg[2:] or (args.pop(0) if args else None)
            if value is None:
                raise diag.UsageError("option %s needs a value" % arg)
            if arg.startswith("-d"):
                ctx.scandir = value
            else:
                ctx.wait_secs, ctx.explicit_wait = _float(value, "-w"), True
        elif arg == "--json":
            ctx.json = True
        elif arg == "--no-wait":
            ctx.wait = False
        elif arg in ("-h", "--help"):
            rest.insert(0, "help")
        elif arg == "--version":
            rest.insert(0, "version")
        else:
            rest.append(arg)
    return rest


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ctx = Context()
    try:
        words = parse_common(ctx, argv)
    except diag.UsageError as exc:
        return _usage(exc)
    if not words:
        return _usage(diag.UsageError(SYNOPSIS))
    return diag.guard(PROG, dispatch, ctx, words[0], words[1:])


def _usage(exc):
    sys.stderr.write("%s: usage: %s\n" % (PROG, exc.message()))
    return diag.EXIT_USAGE


def dispatch(ctx, verb, args):
    """Run one verb; the exit code."""
    from pv.cmd import ctl_verbs
    if ctx.scandir is None:
        from pv.ctl_names import default_scandir
        ctx.scandir = default_scandir()
    handler = ctl_verbs.VERBS.get(verb)
    if handler is None:
        return _usage(diag.UsageError("unknown verb %s (try pv-ctl help)" % verb))
    try:
        return handler(ctx, args)
    except diag.UsageError as exc:
        return _usage(exc)
    except diag.PvError as exc:
        diag.fatal(PROG, exc.message())
        return exc.code
