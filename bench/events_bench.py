#!/usr/bin/env python3
"""The transition record's figures (pv-events(5)); run by hand, Linux only.

    python3 bench/events_bench.py [--quick]

1. cost per transition in the supervisor: Recorder.transition (what unit.py's
   hook runs) against a bare os.write of the same bytes, in this interpreter;
2. transition -> line printed by ``pv-ctl watch --json``: the record's stamp
   against the time the line is read from the watcher's pipe (median, p99),
   for a service dying every 20 ms under pv-scan;
3. idle wake-ups of pv-scan (voluntary context switches over a window) with
   and without a watcher attached: the goal is 0 added.
"""

import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "lib"))
sys.path.insert(0, HERE)

import procfs
from pv.events.hook import Recorder
from pv.status import State
from pv.supervise import policy

BIN = os.path.join(TOP, "bin")
FLAP_RUN = """#!/bin/sh
n=$(cat count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > count
[ $n -gt %d ] && exec sleep 100000
echo >&3
exec sleep 0.02
"""


class FakeUnit:
    """What Recorder.transition reads of a unit."""

    def __init__(self):
        self.label, self.instance = "D/web", None
        self.record = State(supervisor=1)
        self.record.exit_code, self.record.exit_signal, self.record.fails = 1, None, 0
        self.policy = policy.Policy()
        self.session = 12345

    def current_pid(self):
        return 12345


def per_call_us(function, count):
    start = time.perf_counter()
    for _ in range(count):
        function()
    return (time.perf_counter() - start) / count * 1e6


def cost(root, count):
    recorder = Recorder(os.path.join(root, "cost"), "D/", "")
    recorder.open()
    unit = FakeUnit()
    hook = per_call_us(lambda: recorder.transition(unit, "running", "exited", "exit", {}),
                       count)
    spawn = per_call_us(lambda: recorder.transition(unit, "down", "running", "spawn", {}),
                        count)
    # What Unit.handle's hook runs for a step with no record (most of a restart's steps)
    # and for a run's exit (two records: the exit and the change of phase).
    quiet = per_call_us(lambda: recorder.step(unit, "running", "ready", "running", []), count)
    step = per_call_us(lambda: recorder.step(unit, "running", "run-exited", "backoff",
                                             [("cancel",)]), count)
    data = b'{"seq":1,"time":1.0,"event":"exit","service":"web","pid":12345,' \
           b'"from":"running","to":"exited","code":1,"signal":null,"expected":false}\n'
    fd = os.open(os.path.join(root, "raw"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    raw = per_call_us(lambda: os.write(fd, data), count)
    os.close(fd)
    recorder.close()
    print("cost per transition (%d calls, this interpreter)" % count)
    print("  exit record   %6.2f us   %.1fx a bare os.write" % (hook, hook / raw))
    print("  spawn record  %6.2f us   %.1fx a bare os.write" % (spawn, spawn / raw))
    print("  table step, no record    %6.2f us" % quiet)
    print("  table step, exit+backoff %6.2f us (two records)" % step)
    print("  bare os.write %6.2f us" % raw)


def start_scan(d):
    proc = subprocess.Popen([os.path.join(BIN, "pv-scan"), d], start_new_session=True,
                            stdout=subprocess.DEVNULL)
    current = os.path.join(d, ".pv-scan", "events", "current")
    deadline = time.monotonic() + 10
    while not os.path.exists(current):
        assert time.monotonic() < deadline, "pv-scan did not start"
        time.sleep(0.01)
    return proc


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()


def latency(root, count):
    d = os.path.join(root, "lat")
    svc = os.path.join(d, "flap")
    os.makedirs(svc)
    with open(os.path.join(svc, "run"), "w") as f:
        f.write(FLAP_RUN % count)
    os.chmod(os.path.join(svc, "run"), 0o755)
    with open(os.path.join(svc, "notification-fd"), "w") as f:
        f.write("3\n")
    scan = start_scan(d)
    started = time.time()
    watch = subprocess.Popen([os.path.join(BIN, "pv-ctl"), "-d", d, "watch", "--json",
                              "--since", "0"], stdout=subprocess.PIPE)
    delays, buffer, exits = [], b"", 0
    deadline = time.monotonic() + 60 + count * 0.2
    try:
        while exits < count and time.monotonic() < deadline:
            ready, _, _ = select.select([watch.stdout], [], [], 1.0)
            if not ready:
                continue
            data = os.read(watch.stdout.fileno(), 65536)
            now = time.time()
            buffer += data
            *lines, buffer = buffer.split(b"\n")
            for record in map(json.loads, lines):
                exits += record["event"] == "exit"
                if record["time"] > started + 0.5:    # written while the watcher waited
                    delays.append((now - record["time"]) * 1000)
    finally:
        stop(watch)
        stop(scan)
    delays.sort()
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    print("transition -> line read from pv-ctl watch --json (%d records)" % len(delays))
    print("  median %.2f ms   p99 %.2f ms   max %.2f ms"
          % (statistics.median(delays), p99, delays[-1]))


def idle(root, secs, services):
    d = os.path.join(root, "idle")
    for k in range(services):
        svc = os.path.join(d, "s%d" % k)
        os.makedirs(svc)
        with open(os.path.join(svc, "run"), "w") as f:
            f.write("#!/bin/sh\nexec sleep 100000\n")
        os.chmod(os.path.join(svc, "run"), 0o755)
    scan = start_scan(d)
    try:
        time.sleep(2)     # let every service start (a bench, not a test: a plain pause)
        alone = window(scan.pid, secs)
        watch = subprocess.Popen([os.path.join(BIN, "pv-ctl"), "-d", d, "watch"],
                                 stdout=subprocess.DEVNULL)
        time.sleep(1)
        with_watch = window(scan.pid, secs)
        watcher = window(watch.pid, secs)
        stop(watch)
    finally:
        stop(scan)
    print("idle wake-ups over %d s, %d services (voluntary context switches)"
          % (secs, services))
    print("  pv-scan alone %d   with a watcher %d   added %d   the watcher itself %d"
          % (alone, with_watch, with_watch - alone, watcher))


def window(pid, secs):
    before = procfs.usage([pid])[2]
    time.sleep(secs)
    return procfs.usage([pid])[2] - before


def main(argv):
    quick = "--quick" in argv
    root = tempfile.mkdtemp(prefix="pv-events-bench-")
    try:
        cost(root, 20000 if quick else 200000)
        latency(root, 100 if quick else 500)
        idle(root, 10 if quick else 60, 10)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
