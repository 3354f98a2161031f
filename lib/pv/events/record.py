"""One record as pv-ctl shows it: parsed, as a human line, as an environment.

The field names are pv-events(5)'s and stable; ``watch --json`` prints the
record's line as the journal holds it.
"""

import fnmatch
import json
import time

BASE_FIELDS = ("seq", "time", "event", "service", "instance", "pid", "from", "to")
ENV_PREFIX = "PV_EVENT_"


def parse(line):
    """The record (a dict) of one journal line; ValueError if it is not one."""
    record = json.loads(line.decode("utf-8", "surrogateescape"))
    if not isinstance(record, dict) or not isinstance(record.get("seq"), int):
        raise ValueError("not a record")
    return record


def display_name(record):
    name = record.get("service") or "-"
    if record.get("instance") is not None:
        name = "%s:%d" % (name, record["instance"])
    return name


def human(record):
    """``2026-11-29 15:47:46.123 #12 web exit running->exited pid 42 code=3 ...``"""
    stamp = record.get("time") or 0.0
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))
    parts = ["%s.%03d" % (when, int(stamp * 1000) % 1000), "#%d" % record["seq"],
             display_name(record), record.get("event", "?")]
    if record.get("from") or record.get("to"):
        parts.append("%s->%s" % (record.get("from") or "-", record.get("to") or "-"))
    if record.get("pid"):
        parts.append("pid %d" % record["pid"])
    for key in sorted(record):
        if key not in BASE_FIELDS:
            parts.append("%s=%s" % (key, _text(record[key])))
    return " ".join(parts)


def _text(item):
    if item is None:
        return "-"
    if item is True or item is False:
        return "yes" if item else "no"
    return str(item)


def environment(record, line):
    """PV_EVENT_SEQ, PV_EVENT_EVENT, PV_EVENT_SERVICE, ... and PV_EVENT_JSON for --exec."""
    env = {ENV_PREFIX + "JSON": line.decode("utf-8", "replace")}
    for key, item in record.items():
        env[ENV_PREFIX + key.upper()] = "" if item is None else (
            ("1" if item else "0") if isinstance(item, bool) else str(item))
    return env


def matches(record, names):
    """Whether a NAME filter keeps ``record``: none, its service, NAME:k, or a glob."""
    if not names:
        return True
    service = record.get("service") or ""
    if not service:
        return False
    full = display_name(record)
    return any(fnmatch.fnmatchcase(service, n) or fnmatch.fnmatchcase(full, n) for n in names)
