"""Prometheus text exposition (format 0.0.4) for the services of a scan directory.

Per service: up, ready, desired_up, one ``pv_service_state`` series per
state (1 on the current one, as node_exporter does for systemd units),
restarts, last exit code, start time, and -- from /proc, over the
processes of the service's session (the run is a session leader) -- the
process count, resident memory and CPU seconds.  Then ``pv_services`` per
state and ``pv_build_info``.
"""

import os

from pv import wait
from pv.ctl import names as ctl_names
from pv.ctl import status as ctl_status
from pv.diag import PvError
from pv.status import Reader

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
STATES = ("starting", "running", "ready", "stopping", "finishing", "down", "backoff", "fatal",
          ctl_status.NOT_SUPERVISED, ctl_status.UNREADABLE)
VERSION = "0.1"
HELP = (
    ("pv_service_up", "gauge", "1 if the service runs (starting, running or ready)."),
    ("pv_service_ready", "gauge",
     "1 if the service is ready (or running with no readiness method)."),
    ("pv_service_desired_up", "gauge", "1 if the service is wanted up."),
    ("pv_service_state", "gauge", "1 for the service's current state, 0 for the others."),
    ("pv_service_restarts_total", "counter", "Runs started again after one ended."),
    ("pv_service_last_exit_code", "gauge",
     "Exit code of the last run that ended (128+N if killed by signal N)."),
    ("pv_service_start_time_seconds", "gauge", "Unix time the current state began, while up."),
    ("pv_service_processes", "gauge", "Processes in the service's session."),
    ("pv_service_memory_rss_bytes", "gauge", "Resident memory of those processes."),
    ("pv_service_cpu_seconds_total", "counter", "CPU time (user+system) of those processes."),
)


def escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def sessions(proc="/proc"):
    """{session id: [processes, rss bytes, cpu seconds]} over every live process."""
    page, ticks = os.sysconf("SC_PAGE_SIZE"), os.sysconf("SC_CLK_TCK")
    found = {}
    try:
        pids = [p for p in os.listdir(proc) if p.isdigit()]
    except OSError:
        return found
    for pid in pids:
        try:
            with open(os.path.join(proc, pid, "stat"), "rb") as f:
                fields = f.read().rpartition(b")")[2].split()
        except OSError:
            continue
        # after the command: state ppid pgrp session ... utime(11) stime(12) ... rss(21)
        if len(fields) < 22 or fields[0] == b"Z":
            continue
        entry = found.setdefault(int(fields[3]), [0, 0, 0.0])
        entry[0] += 1
        entry[1] += int(fields[21]) * page
        entry[2] += (int(fields[11]) + int(fields[12])) / ticks
    return found


def _readiness(target, reader):
    try:
        state, _ = reader.records(target.path)
    except PvError:
        return False
    return wait.reached("ready", state)


def _exit_code(row):
    if row.exit_signal:
        return 128 + row.exit_signal
    return row.exit_code


def service_lines(out, target, row, procs, reader=None):
    labels = 'service="%s"' % escape(target.name)
    up = row.is_up()
    ready = up and _readiness(target, reader or Reader())
    series = {"pv_service_up": int(up), "pv_service_ready": int(ready),
              "pv_service_desired_up": int(row.want == "up"),
              "pv_service_restarts_total": row.restarts}
    code = _exit_code(row)
    if code is not None:
        series["pv_service_last_exit_code"] = code
    if up and row.since:
        series["pv_service_start_time_seconds"] = round(row.since, 3)
    if up and row.pid:
        count, rss, cpu = procs.get(row.pid, (0, 0, 0.0))
        series.update({"pv_service_processes": count, "pv_service_memory_rss_bytes": rss,
                       "pv_service_cpu_seconds_total": round(cpu, 2)})
    for name, value in series.items():
        out.setdefault(name, []).append("%s{%s} %s" % (name, labels, value))
    for state in STATES:
        out.setdefault("pv_service_state", []).append(
            '%s{%s,state="%s"} %d' % ("pv_service_state", labels, state, row.state == state))


def render(scandir, now=None, proc="/proc"):
    """The whole exposition for ``scandir``."""
    out = {}
    counts = dict.fromkeys(STATES, 0)
    procs = sessions(proc)
    reader = Reader()      # one JSON scanner for every record read
    for name in ctl_names.list_or_empty(scandir):
        top = ctl_names.Target(name, os.path.join(scandir, name))
        for target in ctl_names.instances_of(top):
            row = ctl_status.read_row(target, reader)
            counts[row.state] = counts.get(row.state, 0) + 1
            service_lines(out, target, row, procs, reader)
    lines = []
    for name, kind, text in HELP:
        if name in out:
            lines += ["# HELP %s %s" % (name, text), "# TYPE %s %s" % (name, kind)] + out[name]
    lines += ["# HELP pv_services Services in each state.", "# TYPE pv_services gauge"]
    lines += ['pv_services{state="%s"} %d' % (s, n) for s, n in counts.items()]
    lines += ["# HELP pv_build_info pv's version.", "# TYPE pv_build_info gauge",
              'pv_build_info{version="%s"} 1' % VERSION]
    return "\n".join(lines) + "\n"
