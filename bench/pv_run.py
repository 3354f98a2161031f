#!/usr/bin/env python3
"""pv-run's own figures (issue 2), by hand: python3 bench/pv_run.py [IDLE_SECS]

- PSS of pv-run supervising one idle service;
- CPU ticks and voluntary context switches of pv-run over IDLE_SECS (60) idle;
- kill -9 of the service -> a new pid in supervise/pid, median of 30;
- gaps between the starts of a service that exits at once (first respawn, then backoff).
Everything runs in a temporary directory and is taken down at the end.
"""

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BIN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bin")


def service(top, name, run):
    path = os.path.join(top, name)
    os.makedirs(path)
    with open(os.path.join(path, "run"), "w") as f:
        f.write(run)
    os.chmod(os.path.join(path, "run"), 0o755)
    return path


def pid_of(path):
    try:
        with open(os.path.join(path, "supervise", "pid")) as f:
            return int(f.read() or 0)
    except (OSError, ValueError):
        return 0


def counters(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rpartition(")")[2].split()
    with open("/proc/%d/status" % pid) as f:
        ctx = [line for line in f if line.startswith("voluntary_ctxt_switches")][0]
    return int(fields[11]) + int(fields[12]), int(ctx.split()[1])


def wait_new_pid(path, old, deadline=10.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        new = pid_of(path)
        if new and new != old and os.path.exists("/proc/%d" % new):
            return new
        time.sleep(0.0002)
    raise SystemExit("no new pid in %s" % path)


def idle_figures(top, idle):
    s = service(top, "idle", "#!/bin/sh\nexec sleep 100000\n")
    sup = subprocess.Popen([os.path.join(BIN, "pv-run"), s])
    try:
        wait_new_pid(s, 0)
        time.sleep(2)
        with open("/proc/%d/smaps_rollup" % sup.pid) as f:
            pss = [line.split()[1] for line in f if line.startswith("Pss:")][0]
        before = counters(sup.pid)
        time.sleep(idle)
        after = counters(sup.pid)
        print("pv-run PSS, one idle service: %s kB" % pss)
        print("over %.0f s idle: CPU %d ticks, %d voluntary context switches"
              % (idle, after[0] - before[0], after[1] - before[1]))
        latencies = []
        for _ in range(30):
            old = pid_of(s)
            start = time.monotonic()
            os.kill(old, signal.SIGKILL)
            wait_new_pid(s, old)
            latencies.append((time.monotonic() - start) * 1000)
            time.sleep(1.1)    # past the quick-death window: each respawn is a first one
        print("kill -9 -> new pid running: median %.1f ms (min %.1f, max %.1f, n=30)"
              % (statistics.median(latencies), min(latencies), max(latencies)))
    finally:
        sup.send_signal(signal.SIGTERM)
        sup.wait()


def crash_figures(top):
    s = service(top, "crash", "#!/bin/sh\ndate +%s.%N >> starts\nexit 1\n")
    sup = subprocess.Popen([os.path.join(BIN, "pv-run"), s])
    time.sleep(3)
    sup.send_signal(signal.SIGTERM)
    sup.wait()
    with open(os.path.join(s, "starts")) as f:
        starts = [float(x) for x in f.read().split()]
    gaps = [(b - a) * 1000 for a, b in zip(starts, starts[1:])]
    print("a run that exits at once: gaps between starts: %s ms"
          % ", ".join("%.0f" % g for g in gaps[:8]))


def main():
    idle = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    top = tempfile.mkdtemp(prefix="pv-run-bench.")
    try:
        idle_figures(top, idle)
        crash_figures(top)
    finally:
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
