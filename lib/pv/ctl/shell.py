"""``pv-ctl shell``: an interactive loop over pv-ctl's verbs.

On a terminal it uses readline: completion of verbs, service names,
``GROUP:*`` and signal names; history kept in ~/.pv_ctl_history.  When
standard input is not a terminal it reads commands line by line, without
prompts, so a script can be piped in.
"""

import os
import shlex

HISTORY = "~/.pv_ctl_history"
HISTORY_LINES = 1000
PROMPT = "pv> "

VERB_HELP = {
    "status": "status [NAME...]  state, pid, uptime and reason; exit 0 all up, 3 not, 4 unknown",
    "start": "start NAME...  send u and wait until up (-w SECS, --no-wait); exit 0, 1 timeout",
    "stop": "stop NAME...  send d and wait until down; exit 0, 1 timeout",
    "restart": "restart NAME...  send du (stop, SIGKILL after timeout-kill, start) and wait "
               "for a new pid; exit 0, 1 timeout",
    "once": "once NAME...  send o: start, and do not restart when it ends",
    "signal": "signal SIG NAME...  send STOP CONT HUP ALRM INT QUIT USR1 USR2 TERM or KILL",
    "pid": "pid NAME...  the pid of the service (0 when down)",
    "tail": "tail [-f] [-n N] NAME  the last N (10) log lines; -f follows across rotation",
    "check": "check [NAME...]  Nagios plugin line; exit 0 OK 1 WARNING 2 CRITICAL 3 UNKNOWN",
    "add": "add NAME [--group G] [--down] [--log-size N] [--log-keep N] -- CMD [ARG...]",
    "remove": "remove [--outside] NAME...  stop, end its pv-run (x), delete the service directory or symlink",
    "import": "import FILE [--into DIR] [--partial]  a service directory per [program:x] of "
              "a supervisord.conf (or per process of a Procfile); again: only what changed",
    "reread": "reread [NAME...]  changed, unchanged, added or removed; and ask pv-scan to "
              "rescan (exit 102 if it is not running)",
    "update": "update [NAME...]  reread, then restart (du) the changed services wanted up",
    "watch": "watch [NAME...] [--json] [--since SEQ | --initial] [--exec CMD]  every "
             "transition as it is recorded (pv-events(5))",
    "listen": "listen [--events LIST] [--buffer N] [--cursor FILE] -- CMD [ARG...]  run CMD "
              "as a Supervisor event listener",
    "shell": "shell  this interactive loop",
    "version": "version  print pv-ctl's version",
    "help": "help [VERB]  the verbs, or one verb in detail",
    "quit": "quit  leave the shell (also exit, or end of input)",
}
SIGNALS = ("STOP", "CONT", "HUP", "ALRM", "INT", "QUIT", "USR1", "USR2", "TERM", "KILL")


def verb_help(verb):
    return VERB_HELP.get(verb)


def candidates(scandir, words, text):
    """Completions for ``text``, the word after ``words`` on the line."""
    from pv.ctl import names as ctl_names
    if not words:
        pool = list(VERB_HELP)
    elif words[0] == "help":
        pool = list(VERB_HELP) if len(words) == 1 else []
    elif words[0] == "signal" and len(words) == 1:
        pool = list(SIGNALS)
    elif words[0] in ("version", "shell", "quit"):
        pool = []
    elif words[0] == "import":
        import glob
        pool = glob.glob(text + "*") if len(words) == 1 else []
    else:
        names = ctl_names.list_or_empty(scandir)
        pool = names + ["all"] + [g + ":*" for g in ctl_names.groups(scandir, names)]
    return sorted(p for p in pool if p.startswith(text))


class Shell:
    """Reads command lines and runs each through ``dispatch(ctx, verb, args)``."""

    def __init__(self, ctx, dispatch, parse_common, stdin, out):
        self.ctx, self.dispatch, self.parse_common = ctx, dispatch, parse_common
        self.stdin, self.out = stdin, out
        self.interactive = stdin.isatty()
        self.code = 0
        self._matches = []

    def loop(self):
        if self.interactive:
            self._setup_readline()
        try:
            while True:
                line = self._read()
                if line is None:
                    break
                if not self.run_line(line):
                    break
        finally:
            if self.interactive:
                self._save_history()
        return self.code

    def _read(self):
        if self.interactive:
            try:
                return input(PROMPT)
            except EOFError:
                self.out.write("\n")
                return None
            except KeyboardInterrupt:
                self.out.write("\n")
                return ""
        line = self.stdin.readline()
        return line if line else None

    def run_line(self, line):
        """Run one line; False when the shell should end."""
        from pv import diag
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            diag.warn("pv-ctl", "unable to parse line: %s" % exc)
            return True
        if not words:
            return True
        if words[0] in ("quit", "exit", "EOF"):
            return False
        if words[0] == "shell":
            self.out.write("already in the shell\n")
            return True
        ctx = self._context()
        try:
            rest = self.parse_common(ctx, words)
        except diag.UsageError as exc:
            diag.warn("pv-ctl", exc.message())
            return True
        if rest:
            self.code = self.dispatch(ctx, rest[0], rest[1:])
        self.out.flush()
        return True

    def _context(self):
        import copy
        ctx = copy.copy(self.ctx)
        ctx.out = self.out
        return ctx

    def _setup_readline(self):
        try:
            import readline
        except ImportError:
            return
        readline.set_completer(self._complete)
        readline.set_completer_delims(" \t")
        readline.parse_and_bind("tab: complete")
        try:
            readline.read_history_file(os.path.expanduser(HISTORY))
        except OSError:
            pass
        readline.set_history_length(HISTORY_LINES)

    def _save_history(self):
        try:
            import readline
            readline.write_history_file(os.path.expanduser(HISTORY))
        except (ImportError, OSError):
            pass

    def _complete(self, text, state):
        import readline
        if state == 0:
            line = readline.get_line_buffer()[:readline.get_begidx()]
            self._matches = candidates(self.ctx.scandir, line.split(), text)
        if state < len(self._matches):
            return self._matches[state] + " "
        return None
