"""``pv-ctl import Procfile``: a Procfile (and its .env) -> service directories.

As foreman and honcho read them: each line ``TYPE: COMMAND`` (``#`` lines and
blank lines skipped); the command is run by ``sh -c``, as both do, so
``$PORT`` and pipes work.  A formation (``web=2,worker=1``, ``all=N``; 1 each
by default) gives the number of processes of each type.  Process k (from 1)
of the type at index i (from 0, in file order) gets
``PORT = port-base + 100 * i + (k - 1)`` and is the service ``TYPE.k``,
foreman's name for it.  Variables of the ``.env`` file (``NAME=value``,
quotes and ``export`` allowed) are in every process's environment.

Each process is a service of its own (not an ``instances`` directory): PORT
is its own knob, and the names are the ones foreman prints.  The Plans are
the importer's: pv.importer.write applies them.
"""

import os
import re
import shlex

from pv.importer.ini import ConfigError, read_file
from pv.importer.plan import MARKER_FILE, Plan, comment_safe, env_quote

_LINE = re.compile(r"^([A-Za-z0-9_-]+)\s*:\s?(.*)$")
_ENV_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
DEFAULT_PORT_BASE = 5000


def parse(text, path):
    """[(type, command)] in file order; ConfigError on a line that is neither."""
    found, seen = [], set()
    for number, raw in enumerate(re.split(r"\r\n|\r|\n", text), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match or not match.group(2).strip():
            raise ConfigError(path, number, "not a 'type: command' line")
        if match.group(1) in seen:
            raise ConfigError(path, number, "process type %s given twice" % match.group(1))
        seen.add(match.group(1))
        found.append((match.group(1), match.group(2).strip()))
    return found


def parse_env(text, path):
    """{NAME: value} from a .env file, as foreman reads one."""
    env = {}
    for number, raw in enumerate(re.split(r"\r\n|\r|\n", text), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if not match:
            raise ConfigError(path, number, "not a NAME=value line")
        value = match.group(2).strip()
        if value[:1] in ("'", '"'):
            try:
                words = shlex.split(value)
            except ValueError:
                raise ConfigError(path, number, "unbalanced quotes") from None
            value = words[0] if len(words) == 1 else " ".join(words)
        env[match.group(1)] = value
    return env


def parse_formation(text, types):
    """{type: count} from ``web=2,worker=1`` (``all=N`` for every type); ValueError."""
    counts = dict.fromkeys(types, 1)
    if not text:
        return counts
    for item in text.split(","):
        name, sep, number = item.strip().partition("=")
        if not sep or not number.isdigit():
            raise ValueError("formation: not NAME=NUMBER: %r" % item)
        if name == "all":
            counts = dict.fromkeys(types, int(number))
        elif name in counts:
            counts[name] = int(number)
        else:
            raise ValueError("formation: no process type %s in the Procfile" % name)
    return counts


def build(path, env_path=None, formation=None, port_base=DEFAULT_PORT_BASE):
    """([Plan], warnings) for the Procfile at ``path``."""
    processes = parse(read_file(path), path)
    env = {}
    if env_path is not None:
        env = parse_env(read_file(env_path), env_path)
    elif os.path.exists(os.path.join(os.path.dirname(os.path.abspath(path)), ".env")):
        env_path = os.path.join(os.path.dirname(os.path.abspath(path)), ".env")
        env = parse_env(read_file(env_path), env_path)
    try:
        counts = parse_formation(formation, [t for t, _ in processes])
    except ValueError as exc:
        raise ConfigError(path, 0, str(exc)) from None
    directory = os.path.dirname(os.path.abspath(path))
    marker = os.path.abspath(path) + "\n"
    plans = []
    for index, (kind, command) in enumerate(processes):
        for k in range(1, counts[kind] + 1):
            plan = Plan("%s.%d" % (kind, k), None)
            port = port_base + 100 * index + (k - 1)
            variables = dict(env, PORT=str(port), PS="%s.%d" % (kind, k))
            plan.put("run", _run(path, kind, directory, command), 0o755)
            plan.put("environment", "".join("%s=%s\n" % (n, env_quote(v))
                                            for n, v in variables.items()))
            plan.put("group", kind + "\n")
            plan.put(MARKER_FILE, marker)
            plans.append(plan)
    return plans, []


def _run(path, kind, directory, command):
    return "\n".join([
        "#!/bin/sh",
        "# %s" % comment_safe("%s of %s, imported by pv-ctl import"
                              % (kind, os.path.basename(path))),
        "cd %s || exit 111" % shlex.quote(directory),
        "exec 2>&1",
        "exec /bin/sh -c %s" % shlex.quote(command)]) + "\n"


def is_procfile(path):
    """Whether ``path`` names a Procfile (``Procfile``, ``Procfile.dev``, ...)."""
    return os.path.basename(path).split(".")[0] == "Procfile"
