"""pv-ctl's actions: letters to send for each verb, and the wait after them.

``start`` is ``u``, ``stop`` is ``d``, ``once`` is ``o``.  ``restart`` is
``du`` in one write: ``d`` makes the supervisor stop the service with its
down-signal and, after ``timeout-kill``, SIGKILL the whole group -- so a
service that ignores TERM still restarts -- and ``u`` makes it start again
as soon as it is down.  (sv's ``tcu`` would never restart a TERM-ignoring
service: only ``d`` escalates.)
"""

import time

from pv.diag import UsageError
from pv.supervise.states import LIVE_PHASES, UP_PHASES, Phase

VERB_LETTERS = {"start": "u", "stop": "d", "restart": "du", "once": "o"}
VERB_CONDITION = {"start": "ready", "stop": "down", "restart": "ready", "once": "ready"}
# "ready" is "up" for a service that declares no readiness method.
DEFAULT_WAIT_SECS = 7.0
KILL_MARGIN_SECS = 2.0

# Signals that supervise/control can carry, by name.
SIGNAL_NAMES = {"STOP": "p", "CONT": "c", "HUP": "h", "ALRM": "a", "INT": "i",
                "QUIT": "q", "USR1": "1", "USR2": "2", "TERM": "t", "KILL": "k"}


def signal_letter(text):
    """The control letter for ``HUP``, ``SIGHUP``, ``hup`` or ``1``; UsageError if none."""
    from pv import servicedir
    try:
        number = servicedir.parse_signal(text)
    except ValueError:
        raise UsageError("no such signal: %s" % text) from None
    import signal
    name = signal.Signals(number).name[3:]
    if name not in SIGNAL_NAMES:
        raise UsageError("signal %s cannot be sent through supervise/control "
                         "(one of %s)" % (name, " ".join(sorted(SIGNAL_NAMES))))
    return SIGNAL_NAMES[name]


def wait_deadline(verb, targets, wait_secs, explicit):
    """When to stop waiting.

    Without an explicit ``-w``, ``stop`` and ``restart`` wait long enough for
    the supervisor's SIGKILL escalation (the largest ``timeout-kill`` plus a
    margin), so a TERM-ignoring service is not reported as a timeout.
    """
    secs = wait_secs
    if not explicit and verb in ("stop", "restart"):
        from pv import servicedir
        for target in targets:
            try:
                ms = servicedir.read_int(target.path, servicedir.TIMEOUT_KILL,
                                         servicedir.DEFAULT_TIMEOUT_KILL_MS)
            except (ValueError, OSError):
                ms = servicedir.DEFAULT_TIMEOUT_KILL_MS
            secs = max(secs, ms / 1000.0 + KILL_MARGIN_SECS)
    return time.monotonic() + secs


def send_all(targets, letters):
    """Send ``letters`` to each target, no wait; [(target, PvError)] failures."""
    from pv import wait
    by_path = {t.path: t for t in targets}
    return [(by_path[path], exc) for path, exc in
            wait.command([t.path for t in targets], letters)]


def act(verb, targets, wait_secs=DEFAULT_WAIT_SECS, wait=True, explicit=False):
    """Do ``verb`` to every target; wait unless told not to.

    Returns (done targets, timed-out targets, [(target, PvError)] failures).
    The same library call as ``pv-svc -w``: ``pv.wait.command``.
    """
    from pv import wait as waiting
    condition = VERB_CONDITION[verb] if wait else None
    deadline = wait_deadline(verb, targets, wait_secs, explicit) if wait else None
    paths = list(dict.fromkeys(t.path for t in targets))
    by_path = {t.path: t for t in targets}
    timed_out, failures = [], []
    for path, exc in waiting.command(paths, VERB_LETTERS[verb], condition, deadline,
                                     replace=verb == "restart"):
        if exc is None:
            timed_out.append(by_path[path])
        else:
            failures.append((by_path[path], exc))
    bad = {t.path for t in timed_out} | {t.path for t, _ in failures}
    return [t for t in targets if t.path not in bad], timed_out, failures


def signal_all(targets, letter):
    """Send one signal letter; [(target, PvError)] failures."""
    return send_all(targets, letter)


def sv_word(row):
    """runit's word for a row: run, down or finish."""
    if row.state in LIVE_PHASES:
        return "run"
    if row.state == Phase.FINISHING:
        return "finish"
    return "down"


def sv_line(prefix, row, now=None):
    """``ok: run: NAME (pid N) 3s`` -- sv(8)'s line, with pv's reason if unhappy."""
    from pv.ctl import status as ctl_status
    now = time.time() if now is None else now
    word = sv_word(row)
    pid = " (pid %d)" % row.pid if word != "down" and row.pid else ""
    uptime = ctl_status.duration(now - row.since) if row.since else "0s"
    text = "%s: %s: %s%s %s" % (prefix, word, ctl_status.printable(row.name), pid, uptime)
    why = ctl_status.printable(ctl_status.explain(row, now))
    if row.state not in UP_PHASES + (Phase.DOWN,):
        why = row.state + ("; " + why if why else "")
    return text + (", " + why if why else "")
