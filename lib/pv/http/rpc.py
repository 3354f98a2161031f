"""Supervisor's XML-RPC interface (API 3.0) over a scan directory.

Dispatch is by a fixed table of method names: a name not in it -- such as
``supervisor.supervisord.options.execve`` -- is fault 1 (UNKNOWN_METHOD),
never a lookup of attributes (CVE-2017-11610).  Marshalling is
xmlrpc.client's ``loads``/``dumps``; nothing of SimpleXMLRPCDispatcher.
"""

import os
import time
import xmlrpc.client

from pv.http import logs, mainlog, model, rpcconf, rpcops
from pv.http.rpcops import (BAD_ARGUMENTS, BAD_NAME, FAILED, INCORRECT_PARAMETERS, NO_FILE,
                            NOT_RUNNING, UNKNOWN_METHOD, RpcFault)

API_VERSION = "3.0"
VERSION = "pv-http (pv) 0.1"
MAX_MULTICALL = 256


class Call:
    """The context of one request: where, who, how long to wait, where to note actions."""

    def __init__(self, scandir, caller, wait_secs, journal, rows=None):
        self.scandir, self.caller, self.wait_secs, self.journal = \
            scandir, caller, wait_secs, journal
        self.rows = rows if rows is not None else model.RowCache()

    def note(self, text):
        self.journal.add("%s: %s" % (self.caller.label or "anonymous", text))


def _info(call, name):
    hits, is_group = model.find(model.entries(call.scandir), name)
    if is_group or len(hits) != 1:
        raise RpcFault(BAD_NAME, name)
    return model.info(hits[0], call.rows.read(hits[0].target))


def _all_info(call):
    now = time.time()
    out = []
    for entry in model.entries(call.scandir):
        row, logfile = call.rows.read_with_log(entry)
        out.append(model.info(entry, row, now, logfile))
    return out


def _read_log(call, name, offset, length):
    entry = rpcops.one(call, name)
    try:
        return logs.read(logs.current_path(entry.target.path), offset, length) \
            .decode("utf-8", "replace")
    except logs.BadArguments:
        raise RpcFault(BAD_ARGUMENTS) from None
    except OSError:
        raise RpcFault(NO_FILE, name) from None


def _tail_log(call, name, offset, length):
    entry = rpcops.one(call, name)
    return logs.tail(logs.current_path(entry.target.path), offset, length)


def _no_stderr(call, name, *_):
    rpcops.one(call, name)
    raise RpcFault(NO_FILE, "%s: pv logs stdout and stderr together; read stdout" % name)


def _stdin(call, name, chars):
    entry = rpcops.one(call, name)
    if model.state_of(entry)[0] not in model.RUNNING_STATES:
        raise RpcFault(NOT_RUNNING, name)
    raise RpcFault(NO_FILE, "%s: a pv service has no stdin to forward to" % name)


def _refuse(what):
    def refuse(call):
        raise RpcFault(FAILED, "pv-http does not %s the supervisor; use pv-svc or pv-scan" % what)
    return refuse


def _clear_main(call):
    if not call.caller.admin:
        raise RpcFault(FAILED, "permission denied")
    call.journal.clear()
    return True


def _read_main(call, offset, length):
    if length < 0 or (offset < 0 and length):
        raise RpcFault(BAD_ARGUMENTS)
    return mainlog.read(call.scandir, call.journal, offset, length).decode("utf-8", "replace")


# name -> (function, [return type, parameter types...], optional trailing params, help)
S, I, B, A, T = "string", "int", "boolean", "array", "struct"
SIG = "signal"      # a string (HUP, SIGHUP) or an int; "string" in signatures
METHODS = {
    "supervisor.getAPIVersion": (lambda c: API_VERSION, [S], 0, "The API version: 3.0."),
    "supervisor.getVersion": (lambda c: API_VERSION, [S], 0, "Deprecated: getAPIVersion."),
    "supervisor.getSupervisorVersion": (lambda c: VERSION, [S], 0, "pv-http's version."),
    "supervisor.getIdentification": (lambda c: "pv", [S], 0, "The identifier: pv."),
    "supervisor.getState": (lambda c: {"statecode": 1, "statename": "RUNNING"}, [T], 0,
                            "Always RUNNING: pv-http answers only while it runs."),
    "supervisor.getPID": (lambda c: os.getpid(), [I], 0, "pv-http's pid."),
    "supervisor.readLog": (_read_main, [S, I, I], 0,
                           "The transition record as log lines (else pv-http's action log)."),
    "supervisor.readMainLog": (_read_main, [S, I, I], 0, "Alias of readLog."),
    "supervisor.clearLog": (_clear_main, [B], 0,
                            "Clear pv-http's action log (admin); the record is kept."),
    "supervisor.shutdown": (_refuse("shut down"), [B], 0, "Refused: FAILED."),
    "supervisor.restart": (_refuse("restart"), [B], 0, "Refused: FAILED."),
    "supervisor.reloadConfig": (rpcconf.reload_config, [A], 0,
                                "[[added, changed, removed]] service names (pv-ctl reread)."),
    "supervisor.addProcessGroup": (rpcconf.add_group, [B, S], 0,
                                   "Have pv-scan take up a service now (admin)."),
    "supervisor.removeProcessGroup": (rpcconf.remove_group, [B, S], 0,
                                      "STILL_RUNNING unless stopped (admin)."),
    "supervisor.getAllConfigInfo": (rpcconf.config_info, [A], 0, "What avail shows."),
    "supervisor.startProcess": (rpcops.start_process, [B, S, B], 1, "Start (u), wait."),
    "supervisor.startProcessGroup": (rpcops.start_group, [A, S, B], 1, "Start a group."),
    "supervisor.startAllProcesses": (rpcops.start_all, [A, B], 1, "Start every service."),
    "supervisor.stopProcess": (rpcops.stop_process, [B, S, B], 1, "Stop (d), wait."),
    "supervisor.stopProcessGroup": (rpcops.stop_group, [A, S, B], 1, "Stop a group."),
    "supervisor.stopAllProcesses": (rpcops.stop_all, [A, B], 1, "Stop every service."),
    "supervisor.signalProcess": (rpcops.signal_process, [B, S, SIG], 0, "Send a signal."),
    "supervisor.signalProcessGroup": (rpcops.signal_group, [A, S, SIG], 0, "Signal a group."),
    "supervisor.signalAllProcesses": (rpcops.signal_all, [A, SIG], 0, "Signal every service."),
    "supervisor.getProcessInfo": (_info, [T, S], 0, "One process's info struct."),
    "supervisor.getAllProcessInfo": (_all_info, [A], 0, "Every process's info struct."),
    "supervisor.readProcessStdoutLog": (_read_log, [S, S, I, I], 0, "Bytes of the log."),
    "supervisor.readProcessLog": (_read_log, [S, S, I, I], 0, "Alias of the above."),
    "supervisor.readProcessStderrLog": (_no_stderr, [S, S, I, I], 0, "NO_FILE."),
    "supervisor.tailProcessStdoutLog": (_tail_log, [A, S, I, I], 0,
                                        "[bytes, offset, overflow]."),
    "supervisor.tailProcessLog": (_tail_log, [A, S, I, I], 0, "Alias of the above."),
    "supervisor.tailProcessStderrLog": (_no_stderr, [A, S, I, I], 0, "NO_FILE."),
    "supervisor.clearProcessLogs": (rpcops.clear_process, [B, S], 0,
                                    "Rotate the log and delete old files."),
    "supervisor.clearProcessLog": (rpcops.clear_process, [B, S], 0, "Alias of the above."),
    "supervisor.clearAllProcessLogs": (rpcops.clear_all, [A], 0, "Clear every log."),
    "supervisor.sendProcessStdin": (_stdin, [B, S, S], 0,
                                    "NO_FILE: pv services have no stdin to forward to."),
}
_TYPES = {S: (str,), I: (int,), B: (bool, int), A: (list, tuple), T: (dict,), SIG: (str, int)}


def _check(name, params):
    function, signature, optional, _ = METHODS[name]
    wanted = signature[1:]
    if not len(wanted) - optional <= len(params) <= len(wanted):
        raise RpcFault(INCORRECT_PARAMETERS)
    for value, kind in zip(params, wanted):
        if not isinstance(value, _TYPES[kind]) or (kind in (I, SIG) and isinstance(value, bool)):
            raise RpcFault(INCORRECT_PARAMETERS)
    return function


def call_method(call, name, params):
    """The result of one call; RpcFault for a fault."""
    if name in SYSTEM:
        return SYSTEM[name](call, params)
    if name not in METHODS:
        raise RpcFault(UNKNOWN_METHOD)
    function = _check(name, params)
    return function(call, *params)


def _list_methods(call, params):
    return sorted(list(METHODS) + list(SYSTEM))


def _method_entry(params):
    if len(params) != 1 or not isinstance(params[0], str):
        raise RpcFault(INCORRECT_PARAMETERS)
    if params[0] in SYSTEM:
        return SYSTEM_DOC[params[0]]
    if params[0] not in METHODS:
        raise RpcFault(BAD_NAME, "method %s" % params[0])
    _, signature, _, text = METHODS[params[0]]
    return [S if kind == SIG else kind for kind in signature], text


def _multicall(call, params):
    if len(params) != 1 or not isinstance(params[0], list) or len(params[0]) > MAX_MULTICALL:
        raise RpcFault(INCORRECT_PARAMETERS)
    out = []
    for item in params[0]:
        try:
            name, args = item["methodName"], item.get("params", [])
            if name == "system.multicall" or not isinstance(args, list):
                raise RpcFault(INCORRECT_PARAMETERS)
            out.append([call_method(call, name, args)])
        except RpcFault as fault:
            out.append({"faultCode": fault.code, "faultString": fault.text})
        except (KeyError, TypeError, AttributeError):
            out.append({"faultCode": INCORRECT_PARAMETERS,
                        "faultString": "INCORRECT_PARAMETERS"})
    return out


SYSTEM = {
    "system.listMethods": _list_methods,
    "system.methodHelp": lambda call, params: _method_entry(params)[1],
    "system.methodSignature": lambda call, params: [_method_entry(params)[0]],
    "system.multicall": _multicall,
}
SYSTEM_DOC = {
    "system.listMethods": ([A], "The names of every method."),
    "system.methodHelp": ([S, S], "A method's help text."),
    "system.methodSignature": ([A, S], "A method's signature: [return, params...]."),
    "system.multicall": ([A, A], "Several calls in one request: [[result] or fault struct]."),
}


def handle(call, body):
    """The XML response to one request body (bytes)."""
    try:
        params, name = xmlrpc.client.loads(body, use_builtin_types=False)
    except Exception:   # noqa: BLE001 - any malformed request body is one fault
        return _fault(RpcFault(INCORRECT_PARAMETERS, "malformed request"))
    if not isinstance(name, str):
        return _fault(RpcFault(UNKNOWN_METHOD))
    try:
        value = call_method(call, name, list(params))
    except RpcFault as fault:
        return _fault(fault)
    try:
        return xmlrpc.client.dumps((value,), methodresponse=True, allow_none=False).encode()
    except (TypeError, OverflowError):
        return _fault(RpcFault(FAILED, "result not representable"))


def _fault(fault):
    return xmlrpc.client.dumps(xmlrpc.client.Fault(fault.code, fault.text),
                               methodresponse=True).encode()
