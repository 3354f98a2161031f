"""reread / update / add / remove / avail over a scan directory.

Supervisor's groups of programs become pv's service directories: a
``reloadConfig`` reports services whose directory changed since their run
started (``changed``), directories nobody supervises yet (``added``: pv-scan
takes them up at its next rescan) and services removed from D whose
processes still run (``removed``) -- what ``pv-ctl reread`` reports.
"""

import os
import time

from pv import control
from pv.ctl import add as ctl_add
from pv.ctl import names as ctl_names
from pv.ctl import ops as ctl_ops
from pv.ctl import reread
from pv.diag import PvError
from pv.http import model
from pv.http.rpcops import ALREADY_ADDED, BAD_NAME, FAILED, STILL_RUNNING, RpcFault
from pv.servicedir import service_of


def reload_config(call):
    targets = [ctl_names.Target(n, os.path.join(call.scandir, n))
               for n in ctl_names.list_or_empty(call.scandir)]
    changes = reread.classify_all(call.scandir, targets)
    words = {reread.ADDED: [], reread.CHANGED: [], reread.REMOVED: []}
    for change in changes:
        if change.change in words:
            words[change.change].append(change.name)
    return [[words[reread.ADDED], words[reread.CHANGED], words[reread.REMOVED]]]


def _admin(call):
    if not call.caller.admin:
        raise RpcFault(FAILED, "permission denied")


def _wait_supervised(path, secs):
    deadline = time.monotonic() + secs
    delay = 0.005
    while not control.is_supervised(path):
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)   # pv-scan announces no adoption; bounded poll
        delay = min(delay * 2, 0.2)
    return True


def add_group(call, name):
    """Have pv-scan take up ``D/name`` now; start a service stopped by request.

    A running (or wanted-up) service is ALREADY_ADDED.
    """
    _admin(call)
    if name not in ctl_names.list_or_empty(call.scandir):
        raise RpcFault(BAD_NAME, name)
    path = os.path.join(call.scandir, name)
    if control.is_supervised(path):
        entries = model.find_group(model.entries(call.scandir), name)
        rows = [model.state_of(e)[1] for e in entries]
        if any(r.want == "up" or model.supervisor_state(r) in model.RUNNING_STATES
               for r in rows):
            raise RpcFault(ALREADY_ADDED, name)
        if not os.path.exists(os.path.join(path, "down")):
            ctl_ops.send_all([e.target for e in entries], "u")
        call.note("add %s (started)" % name)
        return True
    try:
        ctl_add.rescan(call.scandir)
    except PvError as exc:
        raise RpcFault(FAILED, exc.reason) from None
    if not _wait_supervised(path, call.wait_secs):
        raise RpcFault(FAILED, "pv-scan did not take up %s" % name)
    call.note("add %s" % name)
    return True


def remove_group(call, name):
    """Nothing to unload while ``D/name`` exists; a removed one is dropped at a rescan."""
    _admin(call)
    entries = model.find_group(model.entries(call.scandir), name)
    if not entries:
        if name not in reread.running_names(call.scandir):
            raise RpcFault(BAD_NAME, name)
        try:
            ctl_add.rescan(call.scandir)
        except PvError as exc:
            raise RpcFault(FAILED, exc.reason) from None
        return True
    if any(model.state_of(e)[0] in model.RUNNING_STATES for e in entries):
        raise RpcFault(STILL_RUNNING, name)
    call.note("remove %s" % name)
    return True


def config_info(call):
    """getAllConfigInfo: what ``supervisorctl avail`` shows."""
    out = []
    for entry in model.entries(call.scandir):
        path = entry.target.path
        top = service_of(path)
        out.append({
            "name": entry.name, "group": entry.group,
            "inuse": control.is_supervised(path),
            "autostart": not os.path.exists(os.path.join(top, "down")),
            "group_prio": 999, "process_prio": 999,
            "command": os.path.join(top, "run"), "directory": top,
            "stdout_logfile": model.log_file(entry), "stderr_logfile": "",
            "killasgroup": True, "stopasgroup": True,
        })
    return out
