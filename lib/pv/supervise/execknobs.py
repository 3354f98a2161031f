"""How ``run`` is executed: the ``user``, ``umask``, ``environment`` and
``limits`` files of a service directory.

``Exec`` gathers them for one start; the parsers are pure so they can be
tested on strings.  pwd, grp and resource are imported only by services
that use these knobs.
"""

import os

from pv.servicedir import KnobError, read_first_line, read_text

USER, UMASK, ENVIRONMENT, LIMITS = "user", "umask", "environment", "limits"
USER_ENV = "user-env"    # "keep": the user switch leaves HOME, USER, ... as they are
EXEC_FILES = (USER, UMASK, ENVIRONMENT, LIMITS)      # USER_ENV counts only with USER
LIMIT_NAMES = ("as", "core", "cpu", "data", "fsize", "memlock", "nofile", "nproc", "rss",
               "stack")


class Exec:
    """What a start needs beyond argv and cwd (all optional)."""

    __slots__ = ("user", "uid", "gid", "groups", "umask", "limits", "env")

    def __init__(self):
        self.user = None        # name, when the run is to switch user
        self.uid = self.gid = None
        self.groups = ()
        self.umask = None
        self.limits = {}        # RLIMIT_* -> (soft, hard)
        self.env = {}           # variables to set (HOME, USER, ... and environment)


def parse_umask(text):
    try:
        value = int(text, 8)
    except ValueError:
        raise KnobError("umask: not an octal number: %r" % text) from None
    if not 0 <= value <= 0o777:
        raise KnobError("umask: must be between 0 and 777")
    return value


RLIM_MAX = 2 ** 63 - 1    # setrlimit takes a 64-bit rlim_t; anything above is "unlimited"


def _limit_value(word):
    import resource
    if word in ("unlimited", "infinity"):
        return resource.RLIM_INFINITY
    if not (word.isascii() and word.isdigit()):
        raise KnobError("limits: not a number: %r" % word)
    if len(word) > 19 or int(word) > RLIM_MAX:
        raise KnobError("limits: at most %d (or unlimited): %s..." % (RLIM_MAX, word[:20]))
    return int(word)


def parse_limits(text):
    """{RLIMIT_*: (soft, hard or None)} from lines ``NAME SOFT [HARD]``."""
    import resource
    limits = {}
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] not in LIMIT_NAMES or len(words) not in (2, 3):
            raise KnobError("limits: line %d: expected NAME SOFT [HARD] with NAME one of %s"
                            % (number, ", ".join(LIMIT_NAMES)))
        soft = _limit_value(words[1])
        hard = _limit_value(words[2]) if len(words) == 3 else None
        limits[getattr(resource, "RLIMIT_" + words[0].upper())] = (soft, hard)
    return limits


def _unquote(value, number):
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        out, chars = [], iter(value[1:-1])
        for ch in chars:
            out.append(next(chars, "\\") if ch == "\\" else ch)
        return "".join(out)
    if value[:1] in ("'", '"'):
        raise KnobError("environment: line %d: unterminated quote" % number)
    return value


def parse_environment(text):
    """{NAME: value} from systemd EnvironmentFile syntax: ``NAME=VALUE`` lines,
    ``#``/``;`` comments, optional single or double quotes, a trailing
    backslash joins the next line."""
    env, pending, start = {}, "", 0
    if "\0" in text:     # execve cannot pass it; say where, rather than fail at the spawn
        raise KnobError("environment: line %d: a NUL byte" % (text[:text.index("\0")].count("\n") + 1))
    # Lines end at \n (and \r\n) only: str.splitlines would also break a value
    # at \x0c, \x1c, \x85 or U+2028.
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        if raw.endswith("\\") and not raw.endswith("\\\\"):
            pending, start = pending + raw[:-1], start or number
            continue
        line, pending = (pending + raw).strip(), ""
        if not line or line[0] in "#;":
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name or not (name[0].isalpha() or name[0] == "_") or \
                not all(c.isalnum() or c == "_" for c in name):
            raise KnobError("environment: line %d: expected NAME=VALUE" % (start or number))
        env[name] = _unquote(value.strip(), start or number)
        start = 0
    return env


def _read(service, name):
    return read_text(os.path.join(service, name))


def resolve_user(spec, text):
    """Fill ``spec`` from ``NAME`` or ``NAME:GROUP``, like chpst -u and systemd User=."""
    import grp
    import pwd
    name, _, group = text.partition(":")
    if "\0" in text or (name.isdigit() and len(name) > 10) or (group.isdigit() and len(group) > 10):
        raise KnobError("user: not a user name or uid")
    try:
        entry = pwd.getpwnam(name) if not name.isdigit() else pwd.getpwuid(int(name))
    except (KeyError, OverflowError):
        raise KnobError("user: no such user: %s" % name) from None
    gid = entry.pw_gid
    if group:
        try:
            gid = grp.getgrnam(group).gr_gid if not group.isdigit() else int(group)
        except KeyError:
            raise KnobError("user: no such group: %s" % group) from None
    spec.user, spec.uid, spec.gid = entry.pw_name, entry.pw_uid, gid
    spec.groups = tuple(os.getgrouplist(entry.pw_name, gid))
    spec.env.update(HOME=entry.pw_dir, USER=entry.pw_name, LOGNAME=entry.pw_name,
                    SHELL=entry.pw_shell or "/bin/sh")


def read_exec(service, present=None):
    """The Exec for ``service``; KnobError when a file is malformed.
    ``present``: the names in ``service`` if the caller listed it (knobs.py)."""
    if present is not None and present.isdisjoint(EXEC_FILES):
        return Exec()
    try:
        return _read_exec(service)
    except OSError as exc:      # name the file: "not a regular file" alone says little
        name = os.path.basename(exc.filename) if isinstance(exc.filename, str) else "?"
        raise KnobError("%s: %s" % (name, exc.strerror or exc)) from None
    except (ValueError, OverflowError, TypeError) as exc:
        if isinstance(exc, KnobError):
            raise
        # pwd, grp and int raise these for what no parser above foresaw (a
        # NUL byte in a name, a uid beyond uid_t): the start fails with a
        # warning; the supervisor never sees the exception.
        raise KnobError("%s: %s" % (USER, type(exc).__name__)) from None


def _read_exec(service):
    spec = Exec()
    user = read_first_line(os.path.join(service, USER))
    if user:
        resolve_user(spec, user)
        if read_first_line(os.path.join(service, USER_ENV)) == "keep":
            spec.env = {}     # Supervisor's user=: setuid only, no login environment
    text = _read(service, ENVIRONMENT)
    if text is not None:      # after user: it may set HOME and friends itself
        spec.env.update(parse_environment(text))
    umask = read_first_line(os.path.join(service, UMASK))
    if umask:
        spec.umask = parse_umask(umask)
    text = _read(service, LIMITS)
    if text is not None:
        spec.limits = parse_limits(text)
    return spec
