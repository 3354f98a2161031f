"""One [program:x] section's options, typed and expanded as Supervisor does.

Some values are known only when the service starts, and ``command``,
``directory`` and ``environment`` (the values the generated ``run`` uses)
expand them there: ``%(process_num)d`` with ``numprocs`` > 1 becomes
``$PV_INSTANCE`` (pv-run counts instances from 0, as Supervisor's
process_num does; a ``numprocs_start`` of K becomes ``$((PV_INSTANCE +
K))``), and ``%(ENV_X)s`` becomes ``${X?}``, so the value follows the
environment the service starts in, as the container's runtime environment
reaches supervisord -- and an unset X fails that start, not the import.
Expansion leaves a marker (NUL-delimited: no value read can hold a NUL) that
``shell_word`` turns into the shell expansion.  Every other option is
expanded at import.
"""

import re
import shlex
import socket

from pv.importer.ini import ConfigError, Value, expand

_MARK = re.compile("\0([IE])([0-9a-f]*)\x01([0-9a-f]*)\0")
_SH_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
INSTANCE, START = "instance", "start"
BOOLEANS = {"true": True, "yes": True, "on": True, "1": True,
            "false": False, "no": False, "off": False, "0": False}
SIZE_UNITS = {"KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}
DEFAULT_LOG_BYTES, DEFAULT_LOG_BACKUPS = 50 * 1024 ** 2, 10

# Options that have no pv counterpart -> (Supervisor's default, why).  Holding
# the default they change nothing, and pass without a warning; otherwise the
# behaviour they ask for is lost (LOST_KEYS: the import fails unless --partial)
# or harmless (a warning).
IGNORED = {
    "stdout_capture_maxbytes": ("0", "pv has no capture mode"),
    "stderr_capture_maxbytes": ("0", "pv has no capture mode"),
    "stdout_syslog": ("false", "pv-log writes a log directory, not syslog"),
    "stderr_syslog": ("false", "pv-log writes a log directory, not syslog"),
}
LOST_KEYS = frozenset(IGNORED)


def _marker(kind, name, spec):
    return "\0%s%s\x01%s\0" % (kind, name.encode().hex(), spec.encode().hex())


def has_marker(text):
    return _MARK.search(text) is not None


class Options:
    """Typed, expanded access to a section; remembers which keys were used."""

    def __init__(self, name, section, group, environ, warnings):
        self.name, self.section, self.environ, self.warnings = name, section, environ, warnings
        self.used = set()
        self.numprocs = 1     # until read: numprocs may use the other names, but not itself
        self.names = {"program_name": name, "group_name": group, "numprocs": 1,
                      "host_node_name": socket.gethostname(), "process_num": 0}
        self.numprocs = self.integer("numprocs", 1, minimum=1)
        self.first = self.integer("numprocs_start", 0)
        self.names.update(numprocs=self.numprocs, process_num=self.first)

    def _deferred(self, when):
        """The ``deferred`` of ini.expand for values expanded ``when`` (None: at import)."""
        def defer(name, spec):
            if name == "process_num" and self.numprocs > 1:
                return _marker("I", "", spec)
            if when == START and name.startswith("ENV_") and _SH_NAME.match(name[4:]):
                return _marker("E", name[4:], spec)
            return None
        return defer if when else None

    # --- raw access ---------------------------------------------------------------
    def where(self, key):
        value = self.section.get(key)
        return (value.path, value.line) if value else (self.section.path, self.section.line)

    def fail(self, key, reason):
        path, line = self.where(key)
        raise ConfigError(path, line, "%s: %s" % (key, reason))

    def warn(self, key, text):
        path, line = self.where(key)
        self.warnings.append((path, line, text))

    def given(self, key):
        return self.section.get(key) is not None

    def text(self, key, default=None, when=None):
        """The expanded value, or ``default`` if the option is absent.

        ``when`` is INSTANCE (process_num left to each instance), START
        (ENV_X too, left to the start) or None (all expanded now)."""
        self.used.add(key)
        value = self.section.get(key)
        if value is None:
            return default
        if when:
            return expand(value, self.names, self.environ, self._deferred(when)).strip()
        if self.numprocs > 1 and "process_num" in value.text:
            self.warn(key, "%s uses %%(process_num): pv gives every instance the same value "
                      "(process_num %d)" % (key, self.first))
        return expand(value, self.names, self.environ).strip()

    # --- typed access -------------------------------------------------------------
    def boolean(self, key, default):
        text = self.text(key)
        if text is None:
            return default
        if text.lower() not in BOOLEANS:
            self.fail(key, "not a boolean: %r" % text)
        return BOOLEANS[text.lower()]

    def integer(self, key, default, minimum=0):
        text = self.text(key)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            self.fail(key, "not a number: %r" % text)
        if value < minimum:
            self.fail(key, "must be at least %d" % minimum)
        return value

    def byte_size(self, key, default):
        text = self.text(key)
        if text is None:
            return default
        match = re.match(r"(\d+)\s*(KB|MB|GB)?$", text.upper())
        if not match:
            self.fail(key, "not a size (like 50MB): %r" % text)
        return int(match.group(1)) * SIZE_UNITS.get(match.group(2), 1)

    # --- shell words --------------------------------------------------------------
    def shell_word(self, text, split=False):
        """``text`` quoted for sh, markers as shell expansions.

        With ``split`` (a word of the command) a start-time ``${X?}`` is left
        unquoted, so that its value is split into words at white space, as
        Supervisor splits the command after expanding it (``run`` turns off
        pathname expansion); elsewhere it stays one word."""
        out, last = [], 0
        for match in _MARK.finditer(text):
            if match.start() > last:
                out.append(shlex.quote(text[last:match.start()]))
            spec = bytes.fromhex(match.group(3)).decode()
            if match.group(1) == "I":
                out.append(self._instance(spec))
            else:
                out.append(_env(bytes.fromhex(match.group(2)).decode(), spec, split))
            last = match.end()
        if last < len(text):
            out.append(shlex.quote(text[last:]))
        return "".join(out) or "''"

    def _instance(self, spec):
        number = "$((PV_INSTANCE + %d))" % self.first if self.first else "$PV_INSTANCE"
        if spec in ("d", "i", "s", "u"):
            return '"%s"' % number
        spec = spec if spec[-1] in "diouxXeEfFgGc" else spec[:-1] + "s"
        return '"$(printf %s "%s")"' % (shlex.quote("%" + spec), number)

    def instance_names(self):
        """Supervisor's name of each instance (process_name expanded per process_num)."""
        self.used.add("process_name")
        value = self.section.get("process_name")
        if value is None:
            value = Value("%(program_name)s", self.section.path, self.section.line)
        if self.numprocs > 1 and "process_num" not in value.text:
            self.fail("process_name", "must use %(process_num) when numprocs > 1 (as "
                      "Supervisor requires)")
        names = []
        for number in range(self.first, self.first + self.numprocs):
            names.append(expand(value, dict(self.names, process_num=number),
                                self.environ).strip())
        return names

    def command(self):
        """The command's words, quoted for sh (Supervisor splits it with shlex, no shell)."""
        text = self.text("command", when=START)
        if text is None:
            raise ConfigError(self.section.path, self.section.line,
                              "[program:%s] has no command= option" % self.name)
        try:
            words = shlex.split(text)
        except ValueError:
            self.fail("command", "unbalanced quotes")
        if not words:
            self.fail("command", "empty")
        return [self.shell_word(w, split=True) for w in words]

    def directory(self):
        text = self.text("directory", when=START)
        return self.shell_word(text) if text else None

    def warn_unused(self):
        for key, value in self.section.options.items():
            if key in self.used:
                continue
            if key in IGNORED:
                default, why = IGNORED[key]
                if value.text.strip().lower() in (default.lower(), "0", "false", "no", "off"):
                    continue
                if key in LOST_KEYS:
                    self.warnings.append((value.path, value.line, "cannot map %s=%s: %s"
                                          % (key, value.text.strip(), why), "lost"))
                else:
                    self.warnings.append((value.path, value.line, "ignoring %s: %s" % (key, why)))
            else:
                self.warnings.append((value.path, value.line, "ignoring %s: not a "
                                      "[program:x] option pv knows" % key))


def _env(name, spec, split):
    """``%(ENV_name)SPEC`` as a start-time shell expansion; unset fails the start."""
    if spec[-1:] in ("s", "r", "a") and spec[:-1] in ("", "-"):
        return "${%s?}" % name if split else '"${%s?}"' % name
    spec = spec if spec[-1] in "diouxXeEfFgGc" else spec[:-1] + "s"
    return '"$(printf %s "${%s?}")"' % (shlex.quote("%" + spec), name)
