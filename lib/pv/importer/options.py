"""One [program:x] section's options, typed and expanded as Supervisor does.

``%(process_num)d`` is known only when an instance runs: with ``numprocs`` > 1
it expands to a marker that ``shell_word`` turns into ``$PV_INSTANCE``
(pv-run counts instances from 0, as Supervisor's process_num does; a
``numprocs_start`` of K becomes ``$((PV_INSTANCE + K))``).
"""

import re
import shlex
import socket

from pv.importer.ini import ConfigError, expand

_MARK = re.compile(r"PVINST([0-9a-f]*)TSNIVP")
BOOLEANS = {"true": True, "yes": True, "on": True, "1": True,
            "false": False, "no": False, "off": False, "0": False}
SIZE_UNITS = {"KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}
DEFAULT_LOG_BYTES, DEFAULT_LOG_BACKUPS = 50 * 1024 ** 2, 10

# Options that have no pv counterpart -> (Supervisor's default, why).  Holding
# the default they change nothing, and pass without a warning.
IGNORED = {
    "priority": ("999", "pv-scan starts every service at once, as supervisord in effect "
                        "does; write needs files for a real order"),
    "stdout_capture_maxbytes": ("0", "pv has no capture mode"),
    "stderr_capture_maxbytes": ("0", "pv has no capture mode"),
    "stdout_events_enabled": ("false", "pv has no event listeners"),
    "stderr_events_enabled": ("false", "pv has no event listeners"),
    "stdout_syslog": ("false", "pv-log writes a log directory, not syslog"),
    "stderr_syslog": ("false", "pv-log writes a log directory, not syslog"),
    "serverurl": ("AUTO", "pv has no server"),
}


def _marker(spec):
    return "PVINST%sTSNIVP" % spec.encode().hex()


class Options:
    """Typed, expanded access to a section; remembers which keys were used."""

    def __init__(self, name, section, group, environ, warnings):
        self.name, self.section, self.environ, self.warnings = name, section, environ, warnings
        self.used = set()
        self.numprocs = self.integer("numprocs", 1, minimum=1, expand_it=False)
        self.first = self.integer("numprocs_start", 0, expand_it=False)
        self.names = {"program_name": name, "group_name": group, "numprocs": self.numprocs,
                      "host_node_name": socket.gethostname(), "process_num": self.first}
        self.deferred = {"process_num": _marker} if self.numprocs > 1 else None

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

    def text(self, key, default=None, per_instance=False, expand_it=True):
        """The expanded value, or ``default`` if the option is absent."""
        self.used.add(key)
        value = self.section.get(key)
        if value is None:
            return default
        if not expand_it:
            return value.text.strip()
        if per_instance:
            return expand(value, self.names, self.environ, self.deferred).strip()
        if self.deferred and "process_num" in value.text:
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

    def integer(self, key, default, minimum=0, expand_it=True):
        text = self.text(key, expand_it=expand_it)
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
    def shell_word(self, text):
        """``text`` quoted for sh, with instance markers as ``$PV_INSTANCE`` expansions."""
        parts = _MARK.split(text)
        out = []
        for index, part in enumerate(parts):
            if index % 2 == 0:
                out.append(shlex.quote(part) if part else "")
            else:
                out.append(self._instance(bytes.fromhex(part).decode()))
        return "".join(out) or "''"

    def _instance(self, spec):
        number = "$((PV_INSTANCE + %d))" % self.first if self.first else "$PV_INSTANCE"
        if spec in ("d", "i", "s", "u"):
            return '"%s"' % number
        spec = spec if spec[-1] in "diouxXeEfFgGc" else spec[:-1] + "s"
        return '"$(printf %s "%s")"' % (shlex.quote("%" + spec), number)

    def command(self):
        """The command's words, quoted for sh (Supervisor splits it with shlex, no shell)."""
        text = self.text("command", per_instance=True)
        if text is None:
            raise ConfigError(self.section.path, self.section.line,
                              "[program:%s] has no command= option" % self.name)
        try:
            words = shlex.split(text)
        except ValueError:
            self.fail("command", "unbalanced quotes")
        if not words:
            self.fail("command", "empty")
        return [self.shell_word(w) for w in words]

    def directory(self):
        text = self.text("directory", per_instance=True)
        return self.shell_word(text) if text else None

    def warn_unused(self):
        for key, value in self.section.options.items():
            if key in self.used:
                continue
            if key in IGNORED:
                default, why = IGNORED[key]
                if value.text.strip().lower() != default.lower():
                    self.warnings.append((value.path, value.line, "ignoring %s: %s" % (key, why)))
            else:
                self.warnings.append((value.path, value.line, "ignoring %s: not a "
                                      "[program:x] option pv knows" % key))
