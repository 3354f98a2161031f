"""Reading supervisord.conf as Supervisor does, keeping the file and line of every value.

Supervisor reads its file with ``RawConfigParser(inline_comment_prefixes=(';', '#'),
allow_no_value=True, strict=False)``; this reader follows the same rules
(``[section]`` headers, ``key = value`` or ``key: value``, keys in lower case,
indented continuation lines, whole-line comments starting with ``;`` or ``#``,
inline comments only after white space, a repeated section merged with later
values winning) but remembers where each value came from, so that warnings
and errors can name ``FILE:LINE`` -- configparser cannot.

``[include] files=`` holds space-separated globs relative to the directory of
the file that includes them; included files may include others.  Values are
expanded later (``expand``), with Supervisor's ``%(name)s`` syntax.
"""

import glob
import os
import re

from pv.diag import PermanentError

_SECTION = re.compile(r"\[(?P<name>.+)\]$")
_OPTION = re.compile(r"(?P<key>.*?)\s*[=:]\s*(?P<value>.*)$")
_INLINE_COMMENT = re.compile(r"\s[;#]")
# Line ends as Python's universal newlines (what configparser reading a file
# sees) -- not str.splitlines, which also breaks at \x0c, \x1c, \x85, U+2028.
_LINE_END = re.compile(r"\r\n|\r|\n")
_EXPANSION = re.compile(r"%(?:%|\((?P<name>[^)]*)\)(?P<spec>[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa])"
                        r"|(?P<bad>))")


class ConfigError(PermanentError):
    """A malformed file: ``unable to import FILE: line N: REASON``."""

    def __init__(self, path, line, reason):
        super().__init__("import", path, "line %d: %s" % (line, reason) if line else reason)
        self.path, self.line = path, line


class Value:
    """One option's raw text and where it was written."""

    __slots__ = ("text", "path", "line")

    def __init__(self, text, path, line):
        self.text, self.path, self.line = text, path, line

    def here(self):
        return os.path.dirname(os.path.abspath(self.path))


class Section:
    """``[name]``: its options (key -> Value) in the order first seen."""

    def __init__(self, name, path, line):
        self.name, self.path, self.line = name, path, line
        self.options = {}

    def get(self, key):
        return self.options.get(key)


def _strip_comment(line):
    match = _INLINE_COMMENT.search(line)
    return line[:match.start()] if match else line


def parse_text(text, path, sections=None):
    """Sections from one file's text, merged into ``sections`` (name -> Section)."""
    sections = {} if sections is None else sections
    current, last, last_indent = None, None, 0
    for number, raw in enumerate(_LINE_END.split(text), 1):
        stripped = raw.strip()
        if not stripped or stripped[0] in ";#":
            if not stripped:
                last = None
            continue
        indent = len(raw) - len(raw.lstrip())
        body = _strip_comment(raw).strip()
        if last is not None and indent > last_indent:
            last.text = (last.text + "\n" + body) if last.text else body
            continue
        header = _SECTION.match(body)
        if header:
            name = header.group("name")
            current = sections.get(name) or sections.setdefault(name, Section(name, path, number))
            last = None
            continue
        if current is None:
            raise ConfigError(path, number, "no [section] header before this line")
        option = _OPTION.match(body)
        key = option.group("key").strip().lower() if option else body.lower()
        if not key:
            raise ConfigError(path, number, "not a 'key = value' line")
        last = Value(option.group("value") if option else "", path, number)
        last_indent = indent
        current.options.pop(key, None)      # a repeated key counts where it was last set
        current.options[key] = last
    return sections


def read_file(path):
    """The text of ``path``; ConfigError if it cannot be read or decoded."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ConfigError(path, 0, exc.strerror or "cannot read") from None
    if b"\0" in data:      # no argument or variable can hold one; pv's markers use it
        raise ConfigError(path, data[:data.index(b"\0")].count(b"\n") + 1,
                          "a NUL byte in the text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError(path, line, "not UTF-8 text") from None


def read_tree(path, environ, warnings, _stack=()):
    """Every section of ``path`` and the files it includes, in reading order.

    ``warnings`` gets (path, line, text) for include patterns matching nothing.
    """
    real = os.path.realpath(path)
    if real in _stack:
        raise ConfigError(path, 0, "includes itself (through [include])")
    sections = parse_text(read_file(path), path)
    include = sections.pop("include", None)
    if include is None:
        return sections
    files = include.get("files")
    if files is None:
        raise ConfigError(path, include.line, "[include] has no files= option")
    base = os.path.dirname(path)
    for pattern in expand(files, {}, environ).split():
        matches = sorted(glob.glob(os.path.join(base, pattern)))
        if not matches:
            warnings.append((files.path, files.line, "include %s matches no file" % pattern))
        for match in matches:
            for name, section in read_tree(match, environ, warnings, _stack + (real,)).items():
                _merge(sections, name, section)
    return sections


def _merge(sections, name, section):
    if name not in sections:
        sections[name] = section
        return
    for key, value in section.options.items():
        sections[name].options.pop(key, None)
        sections[name].options[key] = value


def expand(value, names, environ, deferred=None):
    """``value.text`` with ``%(name)s`` expanded from ``names``, ``here`` and ``ENV_X``.

    ``deferred(name, spec)`` returns a marker for a name whose value is only
    known when the service runs (``process_num``, ``ENV_X`` at start time),
    or None to expand it now.
    """
    def one(match):
        if match.group("bad") is not None:
            raise ConfigError(value.path, value.line,
                              "a lone %% in %r (write %%%% for a percent sign)" % value.text)
        name = match.group("name")
        if name is None:
            return "%"
        marker = deferred(name, match.group("spec")) if deferred else None
        if marker is not None:
            return marker
        known = dict(names, here=value.here())
        if name.startswith("ENV_") and name[4:] in environ:
            known[name] = environ[name[4:]]
        if name not in known:
            raise ConfigError(value.path, value.line, "%%(%s) cannot be expanded (known: %s, ENV_*)"
                              % (name, ", ".join(sorted(known))))
        try:
            return ("%" + match.group("spec")) % known[name]
        except (TypeError, ValueError):
            raise ConfigError(value.path, value.line, "bad format for %%(%s)" % name) from None
    return _EXPANSION.sub(one, value.text)
