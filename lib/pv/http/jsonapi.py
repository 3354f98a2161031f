"""The JSON API under /v1/ (documented with its status codes in pv-http(1)).

NAME in a path is any NAME pv-ctl takes (a service, ``GROUP:*``, a glob,
``all``), percent-encoded.  Only POST changes anything.
"""

import json
import os
import time
from urllib.parse import parse_qs, unquote

from pv import wait as waiting
from pv.ctl import add as ctl_add
from pv.ctl import names as ctl_names
from pv.ctl import ops as ctl_ops
from pv.ctl import reread as ctl_reread
from pv.ctl import status as ctl_status
from pv.diag import PvError, UsageError
from pv.http import logs, model

JSON = "application/json"
ACTIONS = ("start", "stop", "restart", "once")
CONDITIONS = ("up", "ready", "down", "finished")
DEFAULT_LOG_BYTES = 8192


def send(req, status, value):
    req.reply(status, JSON, (json.dumps(value, sort_keys=True) + "\n").encode())


def error(req, status, message):
    send(req, status, {"error": message})


def service_dict(target, group, row, now, caller):
    record = row.as_dict(now)
    code = model.supervisor_state(row)
    record.update({"group": group, "why": ctl_status.explain(row, now),
                   "supervisor_state": code, "statename": model.STATE_NAMES[code],
                   "may_control": caller.may_control(target.path)})
    return record


def list_services(req, rest, query, body):
    now = time.time()
    out = [service_dict(e.target, e.group, ctl_status.read_row(e.target), now, req.caller)
           for e in model.entries(req.app.scandir)]
    send(req, 200, out)


def _targets(req, word):
    targets, unknown = ctl_names.resolve(req.app.scandir, [word])
    if unknown or not targets:
        error(req, 404, "no such service: %s" % word)
        return None
    return targets


def get_service(req, rest, query, body):
    word, _, sub = unquote(rest).partition("/")
    targets = _targets(req, word)
    if targets is None:
        return
    if sub == "log":
        return _log(req, targets, parse_qs(query))
    if sub or len(targets) != 1:
        return error(req, 404, "not found")
    target = targets[0]
    group = ctl_names.group_of(target.path) or target.name.split(":")[0]
    send(req, 200, service_dict(target, group, ctl_status.read_row(target), time.time(),
                                req.caller))


def _int(values, key, default):
    try:
        return int(values.get(key, [default])[0])
    except ValueError:
        raise UsageError("%s must be a whole number" % key) from None


def _log(req, targets, query):
    if len(targets) != 1:
        return error(req, 400, "one service at a time")
    path = logs.current_path(targets[0].path)
    if query.get("follow", ["0"])[0] in ("1", "true", "yes"):
        follow = logs.Follow(path)
        try:
            return req.stream("text/plain; charset=utf-8", follow.chunks(req.connection))
        finally:
            follow.close()
    try:
        offset = _int(query, "offset", -DEFAULT_LOG_BYTES)
        length = _int(query, "length", 0)
        data = logs.read(path, offset, length)
        size = os.path.getsize(path)
    except UsageError as exc:
        return error(req, 400, exc.reason)
    except logs.BadArguments:
        return error(req, 400, "a negative offset takes no length")
    except OSError:
        return error(req, 404, "no log")
    start = max(0, size + offset) if offset < 0 else offset
    send(req, 200, {"data": data.decode("utf-8", "replace"), "offset": start + len(data),
                    "size": size})


def _options(body, verb):
    try:
        options = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise UsageError("the body is not JSON") from None
    if not isinstance(options, dict):
        raise UsageError("the body must be a JSON object")
    wait = options.get("wait", ctl_ops.VERB_CONDITION.get(verb))
    if wait not in CONDITIONS + (None, False):
        raise UsageError("wait must be one of %s, or false" % ", ".join(CONDITIONS))
    timeout = options.get("timeout")
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout < 0
                                or timeout > 3600):
        raise UsageError("timeout must be seconds between 0 and 3600")
    return wait or None, timeout, options


def _act(req, verb, targets, letters, wait, timeout):
    """[(target, "ok"|"timeout"|"error", reason)] after sending and waiting."""
    if wait is None:
        failures = ctl_ops.signal_all(targets, letters)
        bad = {t.path: e for t, e in failures}
        return [(t, "error", bad[t.path].reason) if t.path in bad else (t, "sent", "")
                for t in targets]
    secs = req.app.wait_secs if timeout is None else timeout
    deadline = ctl_ops.wait_deadline(verb, targets, secs, timeout is not None)
    paths = list(dict.fromkeys(t.path for t in targets))
    outcome = {}
    # The same send-and-wait as pv-svc -w and pv-ctl (pv.wait.command).
    for path, exc in waiting.command(paths, letters, wait, deadline, replace=verb == "restart"):
        outcome[path] = ("timeout", "") if exc is None else ("error", exc.reason)
    return [(t,) + outcome[t.path] if t.path in outcome else (t, "ok", "") for t in targets]


def post_service(req, rest, query, body):
    word, _, verb = unquote(rest).rpartition("/")
    if verb not in ACTIONS + ("signal",) or not word:
        return error(req, 404, "no such action: %s" % verb)
    targets = _targets(req, word)
    if targets is None:
        return
    denied = [t.name for t in targets if not req.caller.may_control(t.path)]
    if denied:
        return error(req, 403, "permission denied: %s" % " ".join(denied))
    try:
        wait, timeout, options = _options(body, verb)
        if verb == "signal":
            letters, wait = ctl_ops.signal_letter(str(options.get("signal", ""))), None
        else:
            letters = ctl_ops.VERB_LETTERS[verb]
    except UsageError as exc:
        return error(req, 400, exc.reason)
    req.app.journal.add("%s: %s %s" % (req.caller.label, verb, " ".join(t.name for t in targets)))
    results = _act(req, verb, targets, letters, wait, timeout)
    words = {r[1] for r in results}
    status = 503 if "error" in words else 504 if "timeout" in words else \
        202 if wait is None else 200
    send(req, status, {"results": [{"name": t.name, "result": w, "reason": why}
                                   for t, w, why in results]})


def _admin(req):
    if not req.caller.admin:
        error(req, 403, "permission denied")
        return False
    return True


def _all_changes(scandir):
    """ctl.reread's change for every entry of the scan directory."""
    targets = [ctl_names.Target(n, scandir + "/" + n) for n in ctl_names.list_or_empty(scandir)]
    return ctl_reread.classify_all(scandir, targets)


def reread(req, rest, query, body):
    if not _admin(req):
        return
    scandir = req.app.scandir
    changes = _all_changes(scandir)
    rescanned = True
    try:
        ctl_add.rescan(scandir)
    except PvError:
        rescanned = False
    req.app.journal.add("%s: reread" % req.caller.label)
    send(req, 200, {"changes": [c.as_dict() for c in changes], "rescanned": rescanned})
    return changes


def update(req, rest, query, body):
    if not _admin(req):
        return
    changed = [c for c in _all_changes(req.app.scandir)
               if c.change == ctl_reread.CHANGED and c.wanted_up]
    restart = [ctl_names.Target(c.name, c.path) for c in changed]
    results = _act(req, "restart", restart, "du", "ready", None) if restart else []
    req.app.journal.add("%s: update %s" % (req.caller.label, " ".join(t.name for t in restart)))
    send(req, 200, {"restarted": [{"name": t.name, "result": w, "reason": why}
                                  for t, w, why in results]})
