"""What every part of pv-ctl shares: its name and help, the options of one
invocation (Context), and the lines that report what a verb did.
"""


import sys

from pv import diag

PROG = "pv-ctl"
ACTION_UNKNOWN = diag.EXIT_USAGE   # exit code for a NAME that matches nothing
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
  metrics                  Prometheus text (as pv-http's /metrics) for a textfile collector
  add NAME [--group G] [--down] [--log-size N] [--log-keep N] -- CMD [ARG...]
  remove [--outside] NAME  stop it, end its pv-run, delete the service directory
  import FILE [--into D] [--partial]   supervisord.conf -> a service directory per program
  import Procfile [--into D] [--env F] [--formation T=N,...] [--port-base N]
  reread [NAME...]         changed/unchanged/added/removed, and ask pv-scan to rescan
  update [NAME...]         reread, then restart (du) the changed services
  watch [NAME...] [--since SEQ|--initial] [--exec CMD]  transitions as they happen
  listen [--events LIST] [--buffer N] -- CMD  run CMD as a Supervisor event listener
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


def usage(exc):
    return diag.usage(PROG, exc.message())


def resolve_targets(ctx, words, default_all=False, unknown_code=ACTION_UNKNOWN):
    """(targets, codes): warnings printed for names that match nothing."""
    from pv.ctl import names as ctl_names
    if not words:
        if not default_all:
            raise diag.UsageError("a NAME is needed (or all)")
        words = [ctl_names.ALL]
    names = None
    if any("/" not in w for w in words):
        try:
            names = ctl_names.services(ctx.scandir)
        except OSError as exc:
            diag.warn(PROG, "unable to read %s: %s" % (ctx.scandir, diag.reason_of(exc)))
            names = []
    targets, unknown = ctl_names.resolve(ctx.scandir, words, names)
    for word in unknown:
        if word != ctl_names.ALL:
            diag.warn(PROG, "unable to control %s: no such service" % word)
    unknown = [w for w in unknown if w != ctl_names.ALL]
    return targets, [unknown_code] * len(unknown), unknown




def print_line(ctx, text):
    ctx.out.write(text + "\n")


def report_action(ctx, result, codes, show_ok):
    """Print ``ctl_ops.act``'s (done, late, failed) as sv does; add exit codes to ``codes``."""
    from pv.ctl import ops as ctl_ops
    from pv.ctl import status as ctl_status
    done, late, failed = result
    for _, exc in failed:
        diag.warn(PROG, exc.message())
        codes.append(exc.code)
    for target in late:
        print_line(ctx, ctl_ops.sv_line("timeout", ctl_status.read_row(target)))
        codes.append(diag.EXIT_NO)
    if show_ok:
        for target in done:
            print_line(ctx, ctl_ops.sv_line("ok", ctl_status.read_row(target)))
