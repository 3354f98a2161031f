"""Where a program's stdout and stderr go: Supervisor's *_logfile options ->
the run's redirections, log/ (and log-stderr/), the links to their current.
"""

from pv.importer.options import DEFAULT_LOG_BACKUPS, DEFAULT_LOG_BYTES, INSTANCE


class Log:
    """Where stdout and stderr go: the run's redirection and the log/ settings."""

    def __init__(self, redirect, wanted, size=DEFAULT_LOG_BYTES, keep=DEFAULT_LOG_BACKUPS,
                 links=()):
        self.redirect, self.wanted, self.size, self.keep = redirect, wanted, size, keep
        self.links = links      # shell words: where to link the log's current
        self.per_instance = False   # a logger per instance (instance-logs)
        self.errlog = None      # a Log for log-stderr/, when stderr has a path of its own


# What a *_logfile names, as a destination: the service's log directory, none,
# or the supervisor's own stdout/stderr (the container's log).
CONSOLE = {"/dev/stdout": "out", "/dev/fd/1": "out", "/proc/self/fd/1": "out",
           "/dev/stderr": "err", "/dev/fd/2": "err", "/proc/self/fd/2": "err"}


def _dest(opts, key):
    """(``log``, ``none``, ``out`` or ``err``; the path to link to the log, or None)."""
    text = opts.text(key, "AUTO")
    if text.upper() == "NONE" or text == "/dev/null":
        return "none", None
    if text in CONSOLE:
        return CONSOLE[text], None
    if text.upper() in ("AUTO", "SYSLOG"):
        return "log", None
    return "log", text


# The run's redirection, by (source of fd 1, source of fd 2): F is what fd 1
# is when run starts (the pipe to log/ if there is one, else pv-scan's
# stdout), E pv-scan's stderr (always fd 2), N /dev/null.
REDIRECTS = {("F", "E"): "", ("F", "F"): "2>&1", ("F", "N"): "2>/dev/null",
             ("N", "E"): ">/dev/null", ("N", "N"): ">/dev/null 2>&1", ("N", "F"): "2>&1 >/dev/null",
             ("E", "E"): ">&2", ("E", "F"): "3>&1 >&2 2>&3 3>&-", ("E", "N"): ">&2 2>/dev/null"}


def logging(opts):
    """The Log of a program, from redirect_stderr and the std*_logfile* options.

    stderr to a path of its own (not stdout's) gets a log of its own,
    ``log-stderr/``, fed by the supervisor through its own pipe; AUTO goes to
    stdout's log (one pv-log per program, not two)."""
    merged = opts.boolean("redirect_stderr", False)
    out, out_path = _dest(opts, "stdout_logfile")
    links, err_links = [_link(opts, "stdout_logfile")] if out_path else [], []
    if merged:
        err = out
        if opts.given("stderr_logfile"):
            opts.text("stderr_logfile")
            opts.warn("stderr_logfile", "stderr_logfile is not used: redirect_stderr=true "
                      "sends stderr where stdout goes (as in Supervisor)")
    else:
        err, err_path = _dest(opts, "stderr_logfile")
        if err_path and err_path != out_path:
            err, err_links = "errlog", [_link(opts, "stderr_logfile")]
        elif err == "log" and out == "log" and opts.given("stderr_logfile") and not err_path:
            opts.warn("stderr_logfile", "stderr_logfile=AUTO goes to the same log as stdout "
                      "(log/main); give it a path for a log of its own")
    wanted = "log" in (out, err)
    sources = {"log": "F", "none": "N", "out": "E" if wanted else "F", "err": "E", "errlog": "E"}
    stream = "stdout" if out == "log" else "stderr"
    log = Log(REDIRECTS[sources[out], sources[err]], wanted, *_sizes(opts, stream, wanted),
              links=links)
    # Supervisor gives each process its own file, unless one path is named for all.
    log.per_instance = opts.numprocs > 1 and out == "log" and (
        not out_path or "process_num" in opts.section.get("stdout_logfile").text)
    if err == "errlog":
        log.errlog = Log("", True, *_sizes(opts, "stderr", True), links=err_links)
    if wanted and "out" in (out, err):
        opts.warn("stdout_logfile", "with one stream in log/ and the other on the console, "
                  "the console stream goes to pv-scan's stderr")
    return log


def _link(opts, key):
    """The path a *_logfile names, as a shell word (process_num per instance)."""
    return opts.shell_word(opts.text(key, when=INSTANCE))


def _sizes(opts, stream, wanted):
    size = opts.byte_size(stream + "_logfile_maxbytes", DEFAULT_LOG_BYTES)
    keep = opts.integer(stream + "_logfile_backups", DEFAULT_LOG_BACKUPS)
    for other in ("stdout", "stderr"):
        opts.text(other + "_logfile_maxbytes")
        opts.text(other + "_logfile_backups")
    if wanted and keep == 0:
        opts.warn(stream + "_logfile_backups", "%s_logfile_backups=0: pv-log keeps at least "
                  "one rotated file (its n0 means keep all)" % stream)
        keep = 1
    return size, keep
