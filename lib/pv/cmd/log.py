"""pv-log [-ttt] [-v] [-r c] [-R abc] [-l len] [-b buflen] [-s size] [-n num] dir...

svlogd-compatible logger; see pv-log(1) and pv-logdir(5).
"""

import getopt
import sys
import traceback

from pv import diag, timefmt
from pv.log import config as logconfig
from pv.log import match as logmatch
from pv.log.pump import Options, Pump

PROG = "pv-log"
SYNOPSIS = "pv-log [-ttt] [-v] [-r c] [-R abc] [-l len] [-b buflen] [-s size] [-n num] dir ..."
HELP = """\
usage: %s

Read lines on standard input and append them to the log directories, rotating
current into @TAI64N.s files (svlogd-compatible; see pv-log(1), pv-logdir(5)).

  -t          prefix each line with a TAI64N stamp (@4000...)
  -tt         prefix each line with a UTC stamp YYYY-MM-DD_HH:MM:SS.xxxxx
  -ttt        prefix each line with an ISO 8601 stamp YYYY-MM-DDTHH:MM:SS.xxxxx
  -r c        replace non-printable bytes in messages with c
  -R abc      replace these bytes too (with c, default _)
  -l len      pattern matching and stderr copies use the first len bytes (1000)
  -b buflen   read size when standard input is not a pipe (1024; > len)
  -s size     default for the config line s (1000000; k and m suffixes)
  -n num      default for the config line n (10)
  -v          verbose messages on standard error
  -h, --help  this text
""" % SYNOPSIS


def _number(text, what, units=None):
    value = logconfig._number(text, units or {})
    if not text or not text[0].isdigit():
        raise diag.UsageError("%s: %s must be a number" % (PROG, what))
    return value


def parse_args(argv):
    """(Options, dirs) from argv[1:]; UsageError on bad usage; None for --help."""
    try:
        opts, dirs = getopt.getopt(argv, "R:r:l:b:s:n:tvVh", ["help", "version"])
    except getopt.GetoptError as exc:
        raise diag.UsageError("%s: %s" % (PROG, exc.msg)) from None
    o = Options()
    repl, extra, stamps = None, b"", 0
    for flag, arg in opts:
        if flag in ("-h", "--help"):
            return None, None
        if flag in ("-V", "--version"):
            return "version", None
        if flag == "-t":
            stamps = min(stamps + 1, 3)
        elif flag == "-v":
            o.verbose += 1
        elif flag == "-r":
            if len(arg.encode()) != 1:
                raise diag.UsageError("%s: -r takes one character" % PROG)
            repl = arg.encode()[0]
        elif flag == "-R":
            extra = arg.encode()
            repl = 0x5F if repl is None else repl
        elif flag == "-l":
            o.linemax = _number(arg, "len") or 1000
        elif flag == "-b":
            o.bufsize = _number(arg, "buflen") or 1024
        elif flag == "-s":
            o.size = _number(arg, "size", {"k": 1024, "m": 1 << 20})
        elif flag == "-n":
            o.num = _number(arg, "num")
    o.stamp = (timefmt.NONE, timefmt.TAI64N, timefmt.UTC, timefmt.ISO8601)[stamps]
    o.replace = logmatch.replace_table(repl, extra)
    if not dirs:
        raise diag.UsageError("%s: no log directory given" % PROG)
    if o.bufsize <= o.linemax:
        raise diag.UsageError("%s: buflen must be greater than len" % PROG)
    return o, dirs


def report(level, text):
    diag.say(PROG, level, text)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts, dirs = parse_args(argv)
    except diag.UsageError as exc:
        sys.stderr.write(exc.message() + "\n")
        return diag.usage(PROG, SYNOPSIS)
    if opts is None:
        sys.stdout.write(HELP)
        return diag.EXIT_OK
    if opts == "version":
        sys.stdout.write("pv-log 0.1.0\n")
        return diag.EXIT_OK
    try:
        Pump(dirs, opts, report).run()
    except diag.PvError as exc:
        diag.fatal(PROG, exc.message())
        return exc.code
    except KeyboardInterrupt:
        return diag.EXIT_TEMP
    except Exception:
        traceback.print_exc()
        return diag.EXIT_INTERNAL
    return diag.EXIT_OK
