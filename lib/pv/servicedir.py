"""The service-directory contract: file names, knob files, and their parsing.

Every on-disk name pv uses lives here, so pv-servicedir(5) can be checked
against one place.  Knob readers raise ``KnobError`` for bad content; the
supervisor reports it and falls back to the default.
"""

import os

RUN = "run"
FINISH = "finish"
DOWN = "down"
LOG = "log"
LOG_ERR = "log-stderr"
ENVDIR = "env"
CHECK = "check"
SUPERVISE = "supervise"

LOCK_FILE = "lock"
CONTROL_FIFO = "control"
OK_FIFO = "ok"
STATUS_FILE = "status"
STAT_FILE = "stat"
PID_FILE = "pid"
STATE_FILE = "state"
EVENT_DIR = "event"

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
NEEDS = "needs"

# Every file whose content shapes how run is started or treated: a change to
# any of them (or to env/) is what ``pv-ctl update`` restarts a service for.
CONFIG_FILES = (RUN, FINISH, TIMEOUT_KILL, TIMEOUT_FINISH, DOWN_SIGNAL, START_SECS, MAX_RETRIES,
                RESTART, EXIT_CODES, "notification-fd", "sd-notify", "check", "start-timeout", "user",
                "umask", "environment", "limits", "needs", "instances", "on-fatal", "user-env",
                "retry-delay", "priority", "socket")

DEFAULT_TIMEOUT_KILL_MS = 10000
DEFAULT_TIMEOUT_FINISH_MS = 5000

# The environment variable every process of a service inherits, so that
# descendants that leave the process group can still be attributed to it.
MARKER_VAR = "PV_SERVICE"
INSTANCE_VAR = "PV_INSTANCE"      # 0, 1, ... for the instances of an ``instances`` dir
INSTANCES = "instances"
INSTANCE_DIR = "instance"


class KnobError(ValueError):
    """A knob file exists but its content is not valid."""


def read_first_line(path):
    """The first line of ``path`` without surrounding white space, or None if absent."""
    try:
        with open(path, "rb") as f:
            line = f.readline(4096)
    except FileNotFoundError:
        return None
    return line.decode("utf-8", "replace").strip()


def read_int(service, name, default, minimum=0):
    """An integer knob file, or ``default`` when the file is absent or empty."""
    text = read_first_line(os.path.join(service, name))
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise KnobError("%s: not a number: %r" % (name, text)) from None
    if value < minimum:
        raise KnobError("%s: must be at least %d" % (name, minimum))
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
        with open(os.path.join(path, name), "rb") as f:
            data = f.read(65536)
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
    try:
        with open(os.path.join(service, EXIT_CODES), encoding="utf-8", errors="replace") as f:
            words = f.read().replace(",", " ").split()
    except FileNotFoundError:
        return frozenset([0])
    try:
        return frozenset(int(word) for word in words)
    except ValueError:
        raise KnobError("%s: not a list of numbers" % EXIT_CODES) from None


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


def supervise_dir(service):
    """``service/supervise``, followed if it is a symlink."""
    return os.path.join(service, SUPERVISE)


def config_digest(service):
    """A short digest of the service's configuration files and env/, as hex.

    The supervisor records it in ``state`` at each start, so that a client can
    tell which services run with a configuration that has changed since.
    """
    import zlib
    digest = 0
    names = list(CONFIG_FILES)
    try:
        names += sorted(os.path.join(ENVDIR, n) for n in os.listdir(os.path.join(service, ENVDIR)))
    except OSError:
        pass
    for name in names:
        try:
            with open(os.path.join(service, name), "rb") as f:
                data = f.read(1 << 20)
        except OSError:
            data = b"\0absent"
        digest = zlib.crc32(name.encode() + b"\0" + data + b"\0", digest)
    return "%08x" % digest


def read_needs(service):
    """The service names listed in ``needs``, one per line ('#' starts a comment)."""
    try:
        with open(os.path.join(service, NEEDS), encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    names = [line.split("#", 1)[0].strip() for line in lines]
    return [name for name in names if name]


def read_on_fatal(service):
    """``down`` (default), ``exit``, or the path of a hook to run."""
    return read_first_line(os.path.join(service, ON_FATAL)) or "down"


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
