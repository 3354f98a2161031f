"""The service-directory contract: file names, knob files, and their parsing.

Every on-disk name pv uses lives here, so pv-servicedir(5) can be checked
against one place -- but for the files inside supervise/, which are
pv.layout's (what a client opens, loaded without this module).  Knob
readers raise ``KnobError`` for bad content; the supervisor reports it and
falls back to the default.
"""

import errno
import os
import stat

from pv.diag import printable  # noqa: F401 - knob messages escape what they quote

RUN = "run"
FINISH = "finish"
DOWN = "down"
LOG = "log"
LOG_ERR = "log-stderr"
ENVDIR = "env"
CHECK = "check"
# The names inside supervise/ are pv.layout's.

# pv-scan's own entries in a scan directory D (dot names: never a service).
SCAN_DIR = ".pv-scan"        # D/.pv-scan/
SCAN_LOCK = "lock"           # held by the one pv-scan of D
SCAN_CONTROL = "control"     # FIFO: control.SCAN_RESCAN, control.SCAN_EXIT

TIMEOUT_KILL = "timeout-kill"
TIMEOUT_FINISH = "timeout-finish"
DOWN_SIGNAL = "down-signal"
START_SECS = "start-secs"
MAX_RETRIES = "max-retries"
RESTART = "restart"
EXIT_CODES = "exit-codes"
GROUP = "group"
NOTIFICATION_FD = "notification-fd"
SD_NOTIFY = "sd-notify"
START_TIMEOUT = "start-timeout"
ON_FATAL = "on-fatal"
ON_EXIT = "on-exit"             # exit: pv-scan/pv-run end when this run ends (pv-events(5))
NEEDS = "needs"
LOG_EVENTS = "log-events"       # stdout/stderr: pv-ctl listen sends PROCESS_LOG_* events

# Every file whose content shapes how run is started or treated: a change to
# any of them (or to env/) is what ``pv-ctl update`` restarts a service for.
CONFIG_FILES = (RUN, FINISH, TIMEOUT_KILL, TIMEOUT_FINISH, DOWN_SIGNAL, START_SECS, MAX_RETRIES,
                RESTART, EXIT_CODES, "notification-fd", "sd-notify", "check", "start-timeout", "user",
                "umask", "environment", "limits", "needs", "instances", "on-fatal", "user-env",
                "retry-delay", "priority", "socket")

DEFAULT_TIMEOUT_KILL_MS = 10000
DEFAULT_TIMEOUT_FINISH_MS = 5000
# The largest value a number knob may hold: 2^31-1 ms is 24.8 days, and no
# timer pv arms may be further away than poll(2)'s int of milliseconds.
MAX_KNOB_MS = 2 ** 31 - 1
MAX_KNOB_SECS = MAX_KNOB_MS // 1000
MAX_KNOB_COUNT = 2 ** 31 - 1

# The environment variable every process of a service inherits, so that
# descendants that leave the process group can still be attributed to it.
MARKER_VAR = "PV_SERVICE"
INSTANCE_VAR = "PV_INSTANCE"      # 0, 1, ... for the instances of an ``instances`` dir
INSTANCES = "instances"
INSTANCE_DIR = "instance"


class KnobError(ValueError):
    """A knob file exists but its content is not valid."""


def read_regular(path, limit=1 << 20):
    """At most ``limit`` bytes of ``path``, if it is a regular file.

    Opened without blocking and checked on the descriptor: a FIFO put in
    place of a knob would otherwise block the supervisor (and every service
    of pv-scan) in open(2) until someone writes to it.  OSError, with the
    reason "not a regular file" for anything else.  No file object: the
    supervisor reads ``run`` and its knobs at every start, and a buffered
    reader costs as much as the reads (here one of fstat's size, and the
    one that finds the end).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        parts, size, ask = [], 0, min(limit, info.st_size) or 1
        while size < limit:
            part = os.read(fd, min(ask, limit - size))
            if not part:
                break
            parts.append(part)
            size += len(part)
            ask = 1 << 16
        return b"".join(parts)
    finally:
        os.close(fd)


def read_text(path, limit=1 << 20):
    """At most ``limit`` bytes of the regular file ``path`` as text; None if absent."""
    try:
        return read_regular(path, limit).decode("utf-8", "replace")
    except FileNotFoundError:
        return None


def read_first_line(path):
    """The first line of ``path`` without surrounding white space, or None if absent."""
    try:
        line = read_regular(path, 4096).split(b"\n", 1)[0]
    except FileNotFoundError:
        return None
    return line.decode("utf-8", "replace").strip()


def read_int(service, name, default, minimum=0, maximum=MAX_KNOB_COUNT):
    """An integer knob file, or ``default`` when the file is absent or empty."""
    text = read_first_line(os.path.join(service, name))
    if not text:
        return default
    # ASCII digits only: int() would also take "1_000" and Arabic-Indic
    # digits, and raise a ValueError of its own for 5,000 digits.
    digits = text[1:] if text[:1] == "-" else text
    if not (digits.isascii() and digits.isdigit()):
        raise KnobError("%s: not a number: '%s'" % (name, printable(text[:40])))
    if len(digits) <= 18:
        value = int(text)
    else:
        value = minimum - 1 if text[0] == "-" else maximum + 1
    if value < minimum:
        raise KnobError("%s: must be at least %d" % (name, minimum))
    if value > maximum:
        raise KnobError("%s: must be at most %d" % (name, maximum))
    return value


def parse_signal(text):
    """A signal number from ``TERM``, ``SIGTERM`` or ``15``; ValueError if unknown."""
    from pv import signames
    return signames.number(text)


def read_signal(service, name, default):
    text = read_first_line(os.path.join(service, name))
    if not text:
        return default
    try:
        return parse_signal(text)
    except ValueError as exc:
        raise KnobError("%s: %s" % (name, exc)) from None


def read_envdir(path):
    """envdir(8) semantics: {NAME: value or None (unset)} from the files in ``path``.

    The value is the first line with trailing spaces and tabs removed and
    NUL bytes turned into newlines; an empty file unsets the variable.
    """
    changes = {}
    try:
        names = sorted(os.listdir(path))
    except FileNotFoundError:
        return changes
    for name in names:
        if name.startswith(".") or "=" in name:
            continue
        data = read_regular(os.path.join(path, name), 65536)
        if not data:
            changes[name] = None
            continue
        first = data.split(b"\n", 1)[0].rstrip(b" \t").replace(b"\0", b"\n")
        changes[name] = os.fsdecode(first)
    return changes


def apply_env(base, changes):
    """A new environment: ``base`` with ``changes`` (None = unset) applied."""
    env = dict(base)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def read_exit_codes(service):
    """The set of exit codes that count as success (``exit-codes``; default {0})."""
    text = read_text(os.path.join(service, EXIT_CODES))
    if text is None:
        return frozenset([0])
    words = text.replace(",", " ").split()
    if not all(word.isascii() and word.isdigit() and len(word) <= 3 and int(word) <= 255
               for word in words):
        raise KnobError("%s: not a list of numbers from 0 to 255" % EXIT_CODES)
    return frozenset(int(word) for word in words)


def read_restart(service):
    """``always`` (default), ``on-failure`` or ``never``."""
    text = read_first_line(os.path.join(service, RESTART)) or "always"
    if text not in ("always", "on-failure", "never"):
        raise KnobError("%s: must be always, on-failure or never" % RESTART)
    return text


def has_log(service):
    return os.path.isdir(os.path.join(service, LOG))


def has_err_log(service):
    """``log-stderr/``: a second logger, for the run's stderr alone."""
    return os.path.isdir(os.path.join(service, LOG_ERR))


def normally_up(service):
    return not os.path.exists(os.path.join(service, DOWN))


def config_digest(service, present=None):
    """A short digest of the service's configuration files and env/, as hex.

    The supervisor records it in ``state`` at each start, so that a client can
    tell which services run with a configuration that has changed since.
    ``present``: the names in ``service``, when the caller has listed it;
    a file not among them is not looked for (the digest is the same).
    """
    import zlib
    digest = 0
    names = list(CONFIG_FILES)
    try:
        if present is None or ENVDIR in present:
            names += sorted(os.path.join(ENVDIR, n)
                            for n in os.listdir(os.path.join(service, ENVDIR)))
    except OSError:
        pass
    for name in names:
        data = b"\0absent"
        if present is None or name in present or name.startswith(ENVDIR + "/"):
            try:
                data = read_regular(os.path.join(service, name))
            except OSError:
                pass
        digest = zlib.crc32(name.encode() + b"\0" + data + b"\0", digest)
    return "%08x" % digest


def read_needs(service):
    """The service names listed in ``needs``, one per line ('#' starts a comment)."""
    try:
        text = read_text(os.path.join(service, NEEDS))
    except OSError:
        return []       # a directory or FIFO named needs: as if absent (see BUGS)
    if text is None:
        return []
    lines = text.splitlines()
    names = [line.split("#", 1)[0].strip() for line in lines]
    return [name for name in names if name]


def read_on_fatal(service):
    """``down`` (default), ``exit``, or the path of a hook to run.

    A NUL byte cannot be in a path: such a hook could never start, so the
    file counts as the default, as does one that cannot be read.
    """
    try:
        text = read_first_line(os.path.join(service, ON_FATAL)) or "down"
    except OSError:
        return "down"
    return "down" if "\0" in text else text


def read_instances(service):
    """How many instances ``instances`` asks for: a number, or ``cpus``; None if absent."""
    text = read_first_line(os.path.join(service, INSTANCES))
    if not text:
        return None
    if text == "cpus":
        return os.cpu_count() or 1
    if not text.isdigit() or not 1 <= int(text) <= 10000:
        raise KnobError("instances: must be a number from 1 to 10000, or cpus")
    return int(text)


def service_of(path):
    """The service directory whose files ``path`` runs: S for S/instance/k, else path."""
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.basename(parent) == INSTANCE_DIR and os.path.basename(path).isdigit():
        return os.path.dirname(parent)
    return path


def instance_dir(service, k):
    """Where instance ``k`` of ``service`` keeps its supervise/ (a service dir to sv)."""
    return os.path.join(service, INSTANCE_DIR, str(k))
