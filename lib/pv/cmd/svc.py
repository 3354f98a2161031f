"""pv-svc: send control letters to supervised services, optionally wait for a state."""

import sys
import time

from pv import diag

PROG = "pv-svc"
SYNOPSIS = "pv-svc [-udopchaiq12tkx] [-w up|ready|down|finished] [-T ms] DIR..."
HELP = """\
usage: pv-svc [-udopchaiq12tkx] [-w up|ready|down|finished] [-T ms] DIR...

Write control letters to DIR/supervise/control, then optionally wait.
  -u up        -d down      -o once      -x exit supervisor when down
  -p STOP      -c CONT      -h HUP       -a ALRM    -i INT    -q QUIT
  -1 USR1      -2 USR2      -t TERM      -k KILL
  -w STATE     wait until every DIR is up, ready, down or finished
  -T MS        give up waiting after MS milliseconds (exit 99); 0: never
  --help       show this help (-h alone, with no DIR, also shows it)
Exit: 0 ok, 99 wait timed out, 100 usage, 102 not supervised, 111 failure.
"""
# Letters after which "up" means "up with a new pid": they end the current run.
RESTART_LETTERS = "tk"


def parse(argv):
    """(letters, condition, timeout_ms, dirs); None for help; UsageError if wrong."""
    from pv.control import LETTERS
    from pv.wait import CONDITIONS
    letters, condition, timeout_ms, args = "", None, 0, list(argv)
    while args and args[0].startswith("-") and args[0] != "-":
        arg = args.pop(0)
        if arg == "--":
            break
        if arg == "--help":
            return None
        chars = arg[1:]
        while chars:
            ch, chars = chars[0], chars[1:]
            if arg.startswith("--"):
                raise diag.UsageError("unknown option %s" % arg)
            if ch in "wT":
                value = chars or (args.pop(0) if args else None)
                chars = ""
                if value is None:
                    raise diag.UsageError("option -%s needs a value" % ch)
                if ch == "w":
                    if value not in CONDITIONS:
                        raise diag.UsageError("-w takes up, ready, down or finished")
                    condition = value
                elif not value.isdigit():
                    raise diag.UsageError("-T takes a number of milliseconds")
                else:
                    timeout_ms = int(value)
            elif ch in LETTERS:
                letters += ch
            else:
                raise diag.UsageError("unknown option -%s" % ch)
    if not args:
        if letters == "h" and condition is None:
            return None   # plain "-h": help, since there is nothing to send HUP to
        raise diag.UsageError(SYNOPSIS)
    return letters, condition, timeout_ms, args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        parsed = parse(argv)
    except diag.UsageError as exc:
        return diag.usage(PROG, exc.message())
    if parsed is None:
        sys.stdout.write(HELP)
        return diag.EXIT_OK
    letters, condition, timeout_ms, dirs = parsed
    return diag.guard(PROG, run, letters, condition, timeout_ms, dirs)


def _complain(dirs, exc):
    level = "fatal" if len(dirs) == 1 else "warning"
    diag.say(PROG, level, exc.message())


def run(letters, condition, timeout_ms, dirs):
    from pv import wait
    deadline = time.monotonic() + timeout_ms / 1000.0 if timeout_ms else None
    replace = any(ch in RESTART_LETTERS for ch in letters)
    codes = []
    for directory, exc in wait.command(dirs, letters, condition, deadline, replace):
        if exc is None:
            diag.say(PROG, "warning" if len(dirs) > 1 else "fatal",
                     "unable to wait for %s to be %s: timed out" % (directory, condition))
            codes.append(diag.EXIT_TIMEOUT)
        else:
            _complain(dirs, exc)
            codes.append(exc.code)
    return diag.worst(codes)
