"""The XML-RPC methods that act on services, built on pv.ctl's library calls.

Results and faults are Supervisor's (supervisor/rpcinterface.py): one
process raises a fault, a group or ``all`` answers a list of
``{name, group, status, description}`` with status 80 (SUCCESS) or a
fault code per process.
"""

import os
import time

from pv import control
from pv.ctl import add as ctl_add
from pv.ctl import ops as ctl_ops
from pv.ctl import reread
from pv.ctl import tail as ctl_tail
from pv.diag import PvError, UsageError
from pv.http import model
from pv.servicedir import service_of

# Supervisor's fault codes (supervisor/xmlrpc.py).
UNKNOWN_METHOD, INCORRECT_PARAMETERS, BAD_ARGUMENTS = 1, 2, 3
SHUTDOWN_STATE, BAD_NAME, BAD_SIGNAL, NO_FILE, NOT_EXECUTABLE = 6, 10, 11, 20, 21
FAILED, ABNORMAL_TERMINATION, SPAWN_ERROR = 30, 40, 50
ALREADY_STARTED, NOT_RUNNING, SUCCESS = 60, 70, 80
ALREADY_ADDED, STILL_RUNNING, CANT_REREAD = 90, 91, 92
FAULT_NAMES = {1: "UNKNOWN_METHOD", 2: "INCORRECT_PARAMETERS", 3: "BAD_ARGUMENTS",
               4: "SIGNATURE_UNSUPPORTED", 6: "SHUTDOWN_STATE", 10: "BAD_NAME",
               11: "BAD_SIGNAL", 20: "NO_FILE", 21: "NOT_EXECUTABLE", 30: "FAILED",
               40: "ABNORMAL_TERMINATION", 50: "SPAWN_ERROR", 60: "ALREADY_STARTED",
               70: "NOT_RUNNING", 80: "SUCCESS", 90: "ALREADY_ADDED", 91: "STILL_RUNNING",
               92: "CANT_REREAD"}
DENIED = "permission denied"
CLEAR_WAIT_SECS = 2.0


class RpcFault(Exception):
    """A Supervisor fault: ``code`` and the text after ``NAME: ``."""

    def __init__(self, code, extra=""):
        super().__init__(code, extra)
        self.code = code
        self.text = FAULT_NAMES.get(code, "UNKNOWN") + (": %s" % extra if extra else "")


def result(entry, code, text=None):
    return {"name": entry.name, "group": entry.group, "status": code,
            "description": text if text is not None else
            ("OK" if code == SUCCESS else FAULT_NAMES.get(code, "UNKNOWN"))}


def one(call, namespec):
    """The one entry ``namespec`` names; RpcFault(BAD_NAME) otherwise."""
    hits, is_group = model.find(model.entries(call.scandir), namespec)
    if is_group or len(hits) != 1:
        raise RpcFault(BAD_NAME, namespec)
    return hits[0]


def group(call, name):
    hits = model.find_group(model.entries(call.scandir), name)
    if not hits:
        raise RpcFault(BAD_NAME, name)
    return hits


def _permitted(call, entry):
    if not call.caller.may_control(entry.target.path):
        raise RpcFault(FAILED, "%s: %s" % (DENIED, entry.namespec))


# --- start / stop / restart -----------------------------------------------------

def _act(call, verb, entries, wait):
    """Run one verb over entries at once; {path: fault code or SUCCESS}."""
    done, late, failed = ctl_ops.act(verb, [e.target for e in entries], call.wait_secs, wait)
    codes = {t.path: SUCCESS for t in done}
    for target in late:
        code, _ = model.state_of(model.Entry("", target.name, target))
        codes[target.path] = (SPAWN_ERROR if code == model.FATAL else ABNORMAL_TERMINATION) \
            if verb == "start" else FAILED
    for target, _exc in failed:
        codes[target.path] = SPAWN_ERROR if verb == "start" else FAILED
    return codes


def _many(call, verb, entries, wait, skip):
    """Results for a group or all: entries for which ``skip(code)`` are left out."""
    results, todo = {}, []
    for entry in entries:
        if skip(model.state_of(entry)[0]):
            continue
        if not call.caller.may_control(entry.target.path):
            results[entry.target.path] = result(entry, FAILED, DENIED)
        else:
            todo.append(entry)
    codes = _act(call, verb, todo, wait) if todo else {}
    for entry in todo:
        results[entry.target.path] = result(entry, codes[entry.target.path])
    call.note("%s %s" % (verb, " ".join(e.namespec for e in todo) or "(nothing)"))
    return [results[e.target.path] for e in entries if e.target.path in results]


def start_process(call, name, wait=True):
    if name.endswith(":*") or name.endswith(":"):
        return start_group(call, name.split(":")[0], wait)
    entry = one(call, name)
    _permitted(call, entry)
    if model.state_of(entry)[0] in model.RUNNING_STATES:
        raise RpcFault(ALREADY_STARTED, name)
    call.note("start %s" % entry.namespec)
    code = _act(call, "start", [entry], wait)[entry.target.path]
    if code != SUCCESS:
        raise RpcFault(code, name)
    return True


def start_group(call, name, wait=True):
    return _many(call, "start", group(call, name), wait, lambda c: c in model.RUNNING_STATES)


def start_all(call, wait=True):
    return _many(call, "start", model.entries(call.scandir), wait,
                 lambda c: c in model.RUNNING_STATES)


def stop_process(call, name, wait=True):
    if name.endswith(":*") or name.endswith(":"):
        return stop_group(call, name.split(":")[0], wait)
    entry = one(call, name)
    _permitted(call, entry)
    if model.state_of(entry)[0] not in model.RUNNING_STATES:
        raise RpcFault(NOT_RUNNING, name)
    call.note("stop %s" % entry.namespec)
    if _act(call, "stop", [entry], wait)[entry.target.path] != SUCCESS:
        raise RpcFault(FAILED, "%s did not stop" % name)
    return True


def stop_group(call, name, wait=True):
    entries = model.find_group(model.entries(call.scandir), name)
    if not entries:
        return _stop_removed(call, name)
    return _many(call, "stop", entries, wait, lambda c: c not in model.RUNNING_STATES)


def _stop_removed(call, name):
    """A service removed from D but still running: pv-scan takes it down at a rescan."""
    if not call.caller.admin or name not in reread.running_names(call.scandir):
        raise RpcFault(BAD_NAME, name)
    try:
        ctl_add.rescan(call.scandir)
    except PvError as exc:
        raise RpcFault(FAILED, exc.reason) from None
    deadline = time.monotonic() + call.wait_secs
    delay = 0.01
    while name in reread.running_names(call.scandir) and time.monotonic() < deadline:
        time.sleep(delay)   # /proc offers no event for "these processes are gone"
        delay = min(delay * 2, 0.25)
    call.note("stop removed %s" % name)
    return []


def stop_all(call, wait=True):
    return _many(call, "stop", model.entries(call.scandir), wait,
                 lambda c: c not in model.RUNNING_STATES)


# --- signals --------------------------------------------------------------------

def _letter(sig):
    try:
        return ctl_ops.signal_letter(str(sig))
    except UsageError:
        raise RpcFault(BAD_SIGNAL, str(sig)) from None


def signal_process(call, name, sig):
    if name.endswith(":*") or name.endswith(":"):
        return signal_group(call, name.split(":")[0], sig)
    entry = one(call, name)
    letter = _letter(sig)
    _permitted(call, entry)
    if model.state_of(entry)[0] not in model.SIGNALLABLE_STATES:
        raise RpcFault(NOT_RUNNING, name)
    call.note("signal %s %s" % (sig, entry.namespec))
    if ctl_ops.signal_all([entry.target], letter):
        raise RpcFault(FAILED, name)
    return True


def _signal_many(call, entries, sig):
    letter = _letter(sig)
    results = []
    for entry in entries:
        if model.state_of(entry)[0] not in model.SIGNALLABLE_STATES:
            continue
        if not call.caller.may_control(entry.target.path):
            results.append(result(entry, FAILED, DENIED))
            continue
        failed = ctl_ops.signal_all([entry.target], letter)
        results.append(result(entry, FAILED if failed else SUCCESS))
    call.note("signal %s %s" % (sig, " ".join(r["name"] for r in results)))
    return results


def signal_group(call, name, sig):
    return _signal_many(call, group(call, name), sig)


def signal_all(call, sig):
    return _signal_many(call, model.entries(call.scandir), sig)


# --- logs -----------------------------------------------------------------------

def clear_entry(call, entry):
    """Rotate the service's log now (ALRM to its pv-log) and delete what was rotated."""
    directory = ctl_tail.log_dir(entry.target.path)
    current = os.path.join(directory, ctl_tail.CURRENT)
    try:
        before = os.stat(current).st_ino
        control.send(os.path.join(service_of(entry.target.path), "log"), "a")
    except (OSError, PvError):
        return FAILED
    deadline = time.monotonic() + CLEAR_WAIT_SECS
    delay = 0.005
    while time.monotonic() < deadline:
        try:
            if os.stat(current).st_ino != before:
                break
        except FileNotFoundError:
            pass
        time.sleep(delay)    # pv-log announces no rotation; bounded poll
        delay = min(delay * 2, 0.1)
    try:
        for path in ctl_tail.rotated(directory):
            os.unlink(path)
    except OSError:
        return FAILED
    return SUCCESS


def clear_process(call, name):
    entry = one(call, name)
    _permitted(call, entry)
    call.note("clear %s" % entry.namespec)
    code = clear_entry(call, entry)
    if code != SUCCESS:
        raise RpcFault(code, name)
    return True


def clear_all(call):
    results = []
    for entry in model.entries(call.scandir):
        if not call.caller.may_control(entry.target.path):
            results.append(result(entry, FAILED, DENIED))
        else:
            results.append(result(entry, clear_entry(call, entry)))
    call.note("clear all")
    return results
