"""``pv-ctl import``: supervisord.conf -> one service directory per [program:x].

``build`` reads the file (pv.importer.ini) and returns a Plan per program --
the files its service directory must hold -- plus warnings (path, line,
text) for everything pv does not carry over.  Nothing is written here
(pv.importer.write does that), so a malformed file writes nothing.
The option-by-option mapping is README's "Coming from Supervisor" table.
"""

import os
import shlex

from pv.importer import ini as importer_ini
from pv.importer import logs as importer_logs
from pv.importer import mapping as importer_map
from pv.importer import options as importer_opts
from pv.importer.ini import ConfigError

PROGRAM, GROUP, LISTENER, FCGI = "program:", "group:", "eventlistener:", "fcgi-program:"
MARKER_FILE = ".pv-import"     # the absolute path of the supervisord.conf a directory came from
LOST = "lost"    # the 4th item of a warning whose behaviour pv cannot carry over

# Sections pv has no use for, with the reason given in the warning.
NO_SERVER = "pv has no server: pv-ctl works on each service's supervise/ directly"
IGNORED_SECTIONS = {"unix_http_server": NO_SERVER, "inet_http_server": NO_SERVER,
                    "supervisorctl": "pv-ctl needs no server URL or credentials"}
IGNORED_PREFIXES = {"rpcinterface:": NO_SERVER, "ctlplugin:": "pv-ctl has no plugins"}
# Sections whose programs would be lost: import fails unless --partial.
LOST_PREFIXES = {}
SUPERVISORD_USED = ("environment", "umask", "user", "directory")
PV_HTTP_SOCKET = ".pv-http.sock"


class Plan:
    """The files one service directory must hold: relative path -> (text, mode)."""

    def __init__(self, name, section):
        self.name = name
        self.section = section
        self.files = {}

    def put(self, relpath, text, mode=0o644):
        self.files[relpath] = (text, mode)


def build(path, environ=None, scandir=None):
    """([Plan], [(path, line, warning)]) for the supervisord.conf at ``path``;
    ``scandir`` is where they go (an event listener watches that directory)."""
    environ = os.environ if environ is None else environ
    warnings = []
    sections = importer_ini.read_tree(path, environ, warnings)
    groups = _groups(sections, warnings)
    base = _supervisord(sections.get("supervisord"), environ, warnings)
    marker = os.path.abspath(path) + "\n"
    # supervisord tells its programs where its server is; pv-http's default socket
    # in the scan directory stands in for it (pv-http(1)).
    url = None
    if scandir and ("unix_http_server" in sections or "inet_http_server" in sections):
        url = "unix://" + os.path.join(os.path.abspath(scandir), PV_HTTP_SOCKET)
    plans = []
    for name, section in sections.items():
        if name.startswith((PROGRAM, LISTENER, FCGI)):
            plan = program_plan(name.partition(":")[2].strip(), section, groups, base, environ,
                                warnings, kind=name.partition(":")[0] + ":",
                                scandir=scandir, url=url)
            plan.put(MARKER_FILE, marker)
            plans.append(plan)
        elif name.startswith(tuple(LOST_PREFIXES)):
            warnings.append((section.path, section.line, "cannot map [%s]: %s"
                             % (name, LOST_PREFIXES[name.partition(":")[0] + ":"]), LOST))
        elif name != "supervisord" and not name.startswith(GROUP):
            warnings.append((section.path, section.line, "ignoring [%s]: %s"
                             % (name, _section_reason(name))))
    return plans, sorted(warnings, key=lambda w: (w[0] != path, w[0], w[1]))


def _section_reason(name):
    for prefix, reason in IGNORED_PREFIXES.items():
        if name.startswith(prefix):
            return reason
    return IGNORED_SECTIONS.get(name, "not a section pv knows")


def _groups(sections, warnings):
    """{program name: group name} from the [group:x] sections."""
    groups = {}
    for name, section in sections.items():
        if not name.startswith(GROUP):
            continue
        group = name[len(GROUP):].strip()
        programs = section.get("programs")
        if programs is None:
            raise ConfigError(section.path, section.line, "[%s] has no programs= option" % name)
        for key, value in section.options.items():
            if key != "programs":
                warnings.append((value.path, value.line, "ignoring %s in [%s]: a group in pv is "
                                 "only a name (the group file)" % (key, name)))
        for program in (p.strip() for p in programs.text.split(",")):
            if program and PROGRAM + program not in sections and \
                    FCGI + program not in sections:
                raise ConfigError(programs.path, programs.line, "no [program:%s]" % program)
            if program in groups and groups[program] != group:
                warnings.append((programs.path, programs.line, "%s is already in group %s; a pv "
                                 "service has one group" % (program, groups[program])))
            elif program:
                groups[program] = group
    return groups


def _supervisord(section, environ, warnings):
    """What [supervisord] passes on to every program: environment, umask, user."""
    base = {}
    if section is None:
        return base
    for key, value in section.options.items():
        if key in SUPERVISORD_USED:
            base[key] = value
        else:
            warnings.append((value.path, value.line, "ignoring %s in [supervisord]: "
                             "pv-scan has no such setting" % key))
    return base


def program_plan(name, section, groups, base, environ, warnings, kind=PROGRAM, scandir=None,
                 url=None):
    """The Plan of one [program:NAME] (or [eventlistener:NAME], [fcgi-program:NAME])."""
    from pv import diag
    from pv.ctl import add as ctl_add
    try:
        ctl_add.check_name(name)
    except diag.PermanentError:
        raise ConfigError(section.path, section.line,
                          "program name %r cannot be a service name" % name) from None
    opts = importer_opts.Options(name, section, groups.get(name, name),
                                 importer_map.base_environ(base, environ), warnings)
    plan = Plan(name, section)
    env, exported = importer_map.environment(opts, base, url)
    knobs = importer_map.knobs(opts, base)
    log = importer_logs.logging(opts)
    words = importer_map.listener(opts, scandir) if kind == LISTENER else []
    if kind == FCGI:
        plan.put("socket", importer_map.fcgi_socket(opts))
    plan.put("run", run_script(opts, exported, log.redirect, base, words), 0o755)
    if log.wanted:
        plan.put("log/run", log_script(log.size, log.keep, log.links, log.per_instance), 0o755)
    if log.per_instance:
        plan.put("instance-logs", "")
    if log.errlog:
        plan.put("log-stderr/run", log_script(log.errlog.size, log.errlog.keep,
                                              log.errlog.links), 0o755)
    for fname, text in knobs.items():
        plan.put(fname, text)
    names = importer_map.instance_names(opts)
    if names:
        plan.put("instance-names", names)
    if env:
        plan.put("environment", "".join("%s=%s\n" % (k, env_quote(v)) for k, v in env.items()))
    if groups.get(name):
        plan.put("group", groups[name] + "\n")
    opts.warn_unused()
    return plan


def run_script(opts, exported, redirect, base, before=()):
    """``run``: cd, exports, redirections, then exec the command (after ``before``)."""
    section = "[%s] of %s" % (opts.section.name, os.path.basename(opts.section.path))
    lines = ["#!/bin/sh", "# %s, imported by pv-ctl import" % comment_safe(section),
             "set -f    # the command's ${X} are split into words, never globbed"]
    directory = opts.directory() or _base_directory(opts, base)
    lines.append("cd %s || exit 111" % directory)
    for key, value in exported.items():
        lines.append("export %s=%s" % (key, opts.shell_word(value)))
    if redirect:
        lines.append("exec " + redirect)
    lines.append("exec " + " ".join(list(before) + opts.command()))
    return "\n".join(lines) + "\n"


def _base_directory(opts, base):
    """Where supervisord would run a program without directory=: its own directory
    ([supervisord] directory=, else the one it was started in; for pv, ``/``)."""
    value = base.get("directory")
    if value is None:
        return "/"
    return opts.shell_word(importer_ini.expand(value, {}, opts.environ))


def comment_safe(text):
    """``text`` for a one-line sh comment: every character that is not printable
    (a newline would end the comment and start a command) as ``?``."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def log_script(size, keep, links=(), per_instance=False):
    """log/run: pv-log into ./main (./main-$PV_INSTANCE for a logger per instance);
    each of ``links`` (shell words) made a link to its current, so the log is
    where the supervisord.conf said (an existing file is left)."""
    from pv.ctl.add import LOG_SUBDIR, pv_log_path
    words = [shlex.quote(w) for w in (pv_log_path(), "-tt", "-s", str(size), "-n", str(keep))]
    directory = "./%s%s" % (LOG_SUBDIR, '-"$PV_INSTANCE"' if per_instance else "")
    lines = ["#!/bin/sh", "mkdir -p %s" % directory]
    for quoted in links:
        lines.append("if [ -e %s ] && [ ! -L %s ]; then printf 'log/run: warning: %%s: a "
                     "file is in the way: not linked to the log\\n' %s >&2" % (quoted, quoted,
                                                                                quoted))
        lines.append('else ln -sfn "$PWD"/%s/current %s; fi' % (directory[2:], quoted))
    lines.append("exec " + " ".join(words + [directory]))
    return "\n".join(lines) + "\n"


_ENV_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                      "_@%+=:,./-")


def env_quote(value):
    """A value for systemd's EnvironmentFile: bare if plain, else in double quotes."""
    if value and all(ch in _ENV_SAFE for ch in value):
        return value
    escaped = "".join("\\" + ch if ch in '"\\`$' else ch for ch in value)
    return '"%s"' % escaped
