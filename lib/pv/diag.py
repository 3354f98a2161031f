"""The message grammar and exit codes shared by every pv command.

The library raises; only pv.cmd.* prints and exits.  Messages follow the
daemontools grammar: ``PROG: fatal: unable to VERB OBJECT: REASON``.
"""

import sys
from posix import strerror     # not os: pv-svc sends its letters without it (pv.layout)

EXIT_OK = 0
EXIT_NO = 1            # a check that answered "no"
EXIT_TIMEOUT = 99      # a wait timed out
EXIT_USAGE = 100       # usage or permanent error
EXIT_INTERNAL = 101    # a bug: the traceback is printed
EXIT_NOT_SUPERVISED = 102
EXIT_TEMP = 111        # temporary or system failure
EXIT_FATAL_SERVICE = 3  # on-fatal exit: a service gave up (LSB "not running")


class PvError(Exception):
    """An error with a daemontools-style message and an exit code.

    ``verb`` and ``obj`` build "unable to VERB OBJECT"; ``reason`` is a
    fixed phrase or an ``OSError.strerror``, never ``str(exc)``.
    """

    code = EXIT_TEMP

    def __init__(self, verb, obj, reason):
        super().__init__(verb, obj, reason)
        self.verb = verb
        self.obj = obj
        self.reason = reason

    def message(self):
        return "unable to %s %s: %s" % (self.verb, self.obj, self.reason)


class UsageError(PvError):
    code = EXIT_USAGE

    def __init__(self, text):
        super().__init__("", "", text)

    def message(self):
        return self.reason


class PermanentError(PvError):
    code = EXIT_USAGE


class TempError(PvError):
    code = EXIT_TEMP


class NotSupervised(PvError):
    code = EXIT_NOT_SUPERVISED

    def __init__(self, obj, reason="supervisor not running"):
        super().__init__("control", obj, reason)


def reason_of(exc):
    """The REASON part for an OSError: its strerror, never str(exc)."""
    return exc.strerror or strerror(exc.errno or 0) or "unknown error"


def printable(text):
    """``text`` with control characters (newline, CR, ESC, NUL...) escaped as
    Python does, so that a name can neither forge a line nor drive a terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def say(prog, level, text, stream=None):
    """Print one diagnostic line: ``PROG: LEVEL: TEXT`` (a name in it escaped)."""
    stream = stream or sys.stderr
    try:
        stream.write("%s: %s: %s\n" % (printable(prog), level, printable(text)))
        stream.flush()
    except (OSError, ValueError):
        pass  # a closed stderr must not take a supervisor down


def warn(prog, text):
    say(prog, "warning", text)


def fatal(prog, text):
    say(prog, "fatal", text)


def usage(prog, synopsis):
    """Print ``PROG: usage: SYNOPSIS`` and return the usage exit code (every command's one way)."""
    try:
        sys.stderr.write("%s: usage: %s\n" % (prog, synopsis))
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    return EXIT_USAGE


def worst(codes):
    """The exit code a multi-target command ends with: the largest one."""
    return max(codes, default=EXIT_OK)


def guard(prog, function, *args):
    """Run a command's body; a bug prints its traceback and exits 101."""
    try:
        return function(*args)
    except KeyboardInterrupt:
        return EXIT_TEMP
    except Exception:  # noqa: BLE001 - the one place a bug becomes an exit code
        import traceback
        traceback.print_exc()
        fatal(prog, "internal error: please report this bug")
        return EXIT_INTERNAL
