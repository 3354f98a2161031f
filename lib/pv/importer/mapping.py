"""Supervisor's [program:x] options -> pv's knob files, environment and log.

Each function takes an ``importer_opts.Options`` and returns what pv needs;
the table in README ("Coming from Supervisor") is the same mapping in prose.
"""

import re
import shlex

from pv.importer.ini import expand
from pv.importer.options import _MARK, DEFAULT_LOG_BACKUPS, DEFAULT_LOG_BYTES

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
    if opts.given("stopsignal"):
        files["down-signal"] = _signal(opts) + "\n"
    if opts.given("stopwaitsecs"):
        files["timeout-kill"] = "%d\n" % (opts.integer("stopwaitsecs", 10) * 1000)
    user = opts.text("user") or _base_text(base, "user", opts)
    if user:
        files["user"] = user + "\n"
    umask = opts.text("umask") or _base_text(base, "umask", opts)
    if umask:
        try:
            files["umask"] = "%04o\n" % int(umask, 8)
        except ValueError:
            opts.fail("umask", "not an octal number: %r" % umask)
    if opts.numprocs > 1:
        files["instances"] = "%d\n" % opts.numprocs
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
    name = opts.text("process_name", opts.name, per_instance=True)
    if _MARK.sub("", name) not in (opts.name, opts.name + "_", opts.name + "-"):
        opts.warn("process_name", "ignoring process_name: the service is %s, its instances "
                  "are told apart by $PV_INSTANCE" % opts.name)


def environment(opts, base):
    """({KEY: value} for the environment file, {KEY: value} that vary by instance)."""
    pairs = []
    if base.get("environment") is not None:
        pairs += _pairs(opts, "environment", _base_text(base, "environment", opts))
    text = opts.text("environment", per_instance=True)
    if text:
        pairs += _pairs(opts, "environment", text)
    static, per_instance = {}, {}
    for key, value in pairs:
        static.pop(key, None)
        per_instance.pop(key, None)
        (per_instance if _MARK.search(value) else static)[key] = value
    return static, per_instance


def _pairs(opts, key, text):
    """Supervisor's ``KEY="val",KEY2=val2`` (its dict_of_key_value_pairs), in order."""
    lexer = shlex.shlex(text, posix=True)
    lexer.wordchars += "/.+-():"
    try:
        tokens = list(lexer)
    except ValueError:
        opts.fail(key, "unbalanced quotes")
    pairs = []
    for start in range(0, len(tokens), 4):
        triple = tokens[start:start + 3]
        if len(triple) != 3 or triple[1] != "=" or tokens[start + 3:start + 4] not in ([], [","]):
            opts.fail(key, "not a list of KEY=value pairs separated by commas")
        if not _ENV_NAME.match(triple[0]):
            opts.warn(key, "ignoring %s: not a valid variable name" % triple[0])
            continue
        pairs.append((triple[0], triple[2]))
    return pairs


class Log:
    """Where stdout and stderr go: the run's redirection and the log/ settings."""

    def __init__(self, redirect, wanted, size=DEFAULT_LOG_BYTES, keep=DEFAULT_LOG_BACKUPS):
        self.redirect, self.wanted, self.size, self.keep = redirect, wanted, size, keep


def _dest(opts, key, note=True):
    """``log`` or ``none`` for a *_logfile option (AUTO and paths are both a log)."""
    text = opts.text(key, "AUTO")
    if text.upper() == "NONE" or text == "/dev/null":
        return "none"
    if note and text.upper() not in ("AUTO", "SYSLOG"):
        opts.warn(key, "%s=%s: the log is written by pv-log to log/main/ of the service "
                  "instead (pv-ctl tail NAME)" % (key, text))
    return "log"


REDIRECTS = {("log", "stdout"): "2>&1", ("log", "log"): "2>&1", ("log", "none"): "2>/dev/null",
             ("none", "stdout"): ">/dev/null 2>&1", ("none", "none"): ">/dev/null 2>&1",
             ("none", "log"): "2>&1 >/dev/null"}


def logging(opts):
    """The Log of a program, from redirect_stderr and the std*_logfile* options."""
    merged = opts.boolean("redirect_stderr", False)
    out = _dest(opts, "stdout_logfile")
    if merged:
        err = "stdout"
        if opts.given("stderr_logfile"):
            opts.warn("stderr_logfile", "ignoring stderr_logfile: redirect_stderr=true sends "
                      "stderr to the stdout log")
    else:
        err = _dest(opts, "stderr_logfile", note=out != "log")
        if err == "log" and out == "log" and opts.given("stderr_logfile"):
            opts.warn("stderr_logfile", "stderr goes to the same log as stdout (log/main); "
                      "set redirect_stderr=true to say so")
    sizes = {}
    for stream in ("stdout", "stderr"):
        size = opts.byte_size(stream + "_logfile_maxbytes", DEFAULT_LOG_BYTES)
        keep = opts.integer(stream + "_logfile_backups", DEFAULT_LOG_BACKUPS)
        sizes[stream] = (size, keep)
    stream = "stdout" if out == "log" else "stderr"
    size, keep = sizes[stream]
    wanted = "log" in (out, err)
    if wanted and keep == 0:
        opts.warn(stream + "_logfile_backups", "%s_logfile_backups=0: pv-log keeps at least "
                  "one rotated file (its n0 means keep all)" % stream)
        keep = 1
    return Log(REDIRECTS[out, err], wanted, size, keep)
