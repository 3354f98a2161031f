"""Supervisor's [program:x] options -> pv's knob files and environment (the
log options are importer/logs.py's).

Each function takes an ``importer_opts.Options`` and returns what pv needs;
the table in README ("Coming from Supervisor") is the same mapping in prose.
"""

import os
import re
import shlex

from pv.importer.ini import ConfigError, expand
from pv.importer.options import INSTANCE, START, has_marker

RESTART_WORDS = {"unexpected": "on-failure", "true": "always", "yes": "always", "on": "always",
                 "1": "always", "false": "never", "no": "never", "off": "never", "0": "never"}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")


def knobs(opts, base):
    """{file name: content} of the knob files for one program."""
    files = {}
    if not opts.boolean("autostart", True):
        files["down"] = ""
    files.update(_restart(opts))
    files["start-secs"] = "%d\n" % opts.integer("startsecs", 1)
    files["max-retries"] = "%d\n" % opts.integer("startretries", 3)
    files["retry-delay"] = "linear 1\n"     # Supervisor waits 1, 2, 3 s between tries
    priority = opts.integer("priority", 999, minimum=-2 ** 31)
    if priority != 999:
        files["priority"] = "%d\n" % priority
    if opts.given("stopsignal"):
        files["down-signal"] = _signal(opts) + "\n"
    if opts.given("stopwaitsecs"):
        files["timeout-kill"] = "%d\n" % (opts.integer("stopwaitsecs", 10) * 1000)
    user = opts.text("user") or _base_text(base, "user", opts)
    if user:
        files["user"] = user + "\n"
        files["user-env"] = "keep\n"     # Supervisor's user= is setuid only
    umask = opts.text("umask") or _base_text(base, "umask", opts)
    if umask:
        try:
            files["umask"] = "%04o\n" % int(umask, 8)
        except ValueError:
            opts.fail("umask", "not an octal number: %r" % umask)
    if opts.numprocs > 1:
        files["instances"] = "%d\n" % opts.numprocs
    events = [c for c in ("stdout", "stderr") if opts.boolean(c + "_events_enabled", False)]
    if events:
        files["log-events"] = " ".join(events) + "\n"    # pv-ctl listen's PROCESS_LOG_*
    _group_options(opts)
    return files


def _base_text(base, key, opts):
    value = base.get(key)
    return expand(value, {}, opts.environ).strip() if value is not None else None


def _restart(opts):
    word = (opts.text("autorestart") or "unexpected").lower()
    if word not in RESTART_WORDS:
        opts.fail("autorestart", "must be true, false or unexpected")
    files = {"restart": RESTART_WORDS[word] + "\n"}
    codes = opts.text("exitcodes")
    if codes is not None or RESTART_WORDS[word] == "on-failure":
        files["exit-codes"] = " ".join(str(c) for c in _exit_codes(opts, codes or "0")) + "\n"
    return files


def _exit_codes(opts, text):
    codes = []
    for word in (w.strip() for w in text.split(",")):
        if not word.isdigit() or int(word) > 255:
            opts.fail("exitcodes", "not a list of exit codes (0-255): %r" % text)
        codes.append(int(word))
    return codes


def _signal(opts):
    import signal

    from pv.servicedir import parse_signal
    text = opts.text("stopsignal")
    try:
        return signal.Signals(parse_signal(text)).name[3:]
    except ValueError:
        opts.fail("stopsignal", "no such signal: %r" % text)


def _group_options(opts):
    """stopasgroup/killasgroup: pv always signals the whole process group."""
    for key in ("stopasgroup", "killasgroup"):
        if not opts.boolean(key, True):
            opts.warn(key, "%s=false: pv always signals the whole process group (and "
                      "the processes that left it)" % key)


def listener(opts, scandir=None):
    """The words before the command of an [eventlistener:x]: pv-ctl listen (see
    pv-ctl(1)) on ``scandir``, its pool named after the section."""
    events = opts.text("events")
    if not events:
        opts.fail("events", "an [eventlistener:x] needs events=")
    size = opts.integer("buffer_size", 10, minimum=1)
    if opts.given("result_handler"):
        opts.text("result_handler")
        opts.warn("result_handler", "ignoring result_handler: pv-ctl listen drops an event "
                  "the listener rejects, as Supervisor's default handler does")
    ctl = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.realpath(__file__))))), "bin", "pv-ctl")
    words = [ctl] + (["-d", os.path.abspath(scandir)] if scandir else [])
    words += ["listen", "--pool", opts.name, "--events",
              ",".join(e.strip() for e in events.split(",")), "--buffer", str(size), "--"]
    return [shlex.quote(w) for w in words]


def fcgi_socket(opts):
    """The ``socket`` file of an [fcgi-program:x] (see pv-servicedir(5))."""
    url = opts.text("socket")
    if not url:
        opts.fail("socket", "an [fcgi-program:x] needs socket=")
    if not url.startswith(("tcp://", "unix://")):
        opts.fail("socket", "not tcp://HOST:PORT or unix:///PATH: %r" % url)
    lines = [url]
    owner, mode = opts.text("socket_owner"), opts.text("socket_mode")
    if url.startswith("unix://"):
        if owner:
            lines.append("owner " + owner)
        if mode:
            lines.append("mode " + mode)
    elif owner or mode:
        opts.warn("socket_owner" if owner else "socket_mode", "socket_owner and socket_mode "
                  "apply to a unix socket only (as in Supervisor)")
    backlog = opts.integer("socket_backlog", 0)
    if backlog:
        lines.append("backlog %d" % backlog)
    return "".join(line + "\n" for line in lines)


def instance_names(opts):
    """The ``instance-names`` file (Supervisor's process names), or None if it adds nothing."""
    names = opts.instance_names()
    if names == [opts.name]:
        return None
    return "".join(n + "\n" for n in names)


def environment(opts, base, url=None):
    """({KEY: value} for the environment file, {KEY: value} the run exports).

    As supervisord: SUPERVISOR_ENABLED, SUPERVISOR_PROCESS_NAME and
    SUPERVISOR_GROUP_NAME first, then [supervisord] environment=, then the
    program's; a value that uses ENV_X or process_num is exported by the run,
    where it can be expanded.  Every value known now is also an ENV_X for the
    options expanded at import (Supervisor 4 makes both lists available).
    """
    process = opts.text("process_name", opts.name, when=INSTANCE)
    pairs = [("SUPERVISOR_ENABLED", "1")]
    own = opts.text("serverurl", "AUTO")
    if own.upper() != "AUTO" or url:
        pairs.append(("SUPERVISOR_SERVER_URL", own if own.upper() != "AUTO" else url))
    pairs += [("SUPERVISOR_PROCESS_NAME", process),
              ("SUPERVISOR_GROUP_NAME", opts.names["group_name"])]
    value = base.get("environment")
    if value is not None:
        pairs += _pairs(opts, "environment", expand(value, {}, opts.environ,
                                                    opts._deferred(START)))
    text = opts.text("environment", when=START)
    if text:
        pairs += _pairs(opts, "environment", text)
    static, exported = {}, {}
    for key, value in pairs:
        static.pop(key, None)
        exported.pop(key, None)
        (exported if has_marker(value) else static)[key] = value
    opts.environ = dict(opts.environ, **static)
    return static, exported


def _pairs(opts, key, text):
    """Supervisor's ``KEY="val",KEY2=val2`` (its dict_of_key_value_pairs), in order."""
    try:
        pairs, bad = split_pairs(text)
    except ValueError as exc:
        opts.fail(key, str(exc))
    for name in bad:
        opts.warn(key, "ignoring %s: not a valid variable name" % name)
    return pairs


def split_pairs(text):
    """([(KEY, value)], [invalid names]) of ``KEY="val",KEY2=val2``; ValueError."""
    lexer = shlex.shlex(text, posix=True)
    lexer.wordchars += "/.+-():"
    try:
        tokens = list(lexer)
    except ValueError:
        raise ValueError("unbalanced quotes") from None
    pairs, bad = [], []
    for start in range(0, len(tokens), 4):
        triple = tokens[start:start + 3]
        if len(triple) != 3 or triple[1] != "=" or tokens[start + 3:start + 4] not in ([], [","]):
            raise ValueError("not a list of KEY=value pairs separated by commas")
        if _ENV_NAME.match(triple[0]):
            pairs.append((triple[0], triple[2]))
        else:
            bad.append(triple[0])
    return pairs, bad


def base_environ(base, environ):
    """``environ`` with [supervisord] environment= added: Supervisor 4 expands
    ``%(ENV_X)s`` in every program option from both (errors are reported later)."""
    value = base.get("environment")
    if value is None:
        return environ
    try:
        pairs, _ = split_pairs(expand(value, {}, environ))
    except (ValueError, ConfigError):
        return environ
    return dict(environ, **dict(pairs))
