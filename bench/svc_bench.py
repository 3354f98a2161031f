#!/usr/bin/env python3
"""pv-svc -t -w up against the interpreter's floor, old code against new, in turns.

usage: python3 bench/svc_bench.py [-n SERVICES] [-r REPS] [--server REV] [REV...]

One pv-scan (the work tree's, or git REV's with --server) supervises N
services whose run is measure.SERVICE_RUN.  Then, REPS times and in a
rotating order: `python3 -I -S -c pass` (the floor), and `pv-svc -t -w up`
of the work tree and of each REV (exported with git archive, byte-compiled),
each on a service not restarted for the longest time.  A restart is timed
from its launch until the command has exited (waited for on a pidfd) and
until the service's new pid runs (as measure.new_pid_after); medians,
multiples of the floor's median, and the load average.  bench/README.md,
"pv-svc -t -w up, step by step", says what the figures are made of.
"""

import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time

import measure
import peers
import procfs
from run import compile_pv, pv_snapshot


def restart(tree, work, name):
    """(ms to the command's exit, ms to the new pid running) of one restart."""
    old = measure.read_pid(work, name)
    begin = time.monotonic()
    code = peers.quiet([os.path.join(tree, "bin", "pv-svc"), "-t", "-w", "up",
                        os.path.join(work, "sv", name)])
    exited = time.monotonic()
    if code != 0 or not peers.wait_until(lambda: measure.runs_anew(work, name, old), 15, 0.001):
        raise SystemExit("pv-svc -t -w up %s: exit %s, or no new pid" % (name, code))
    return (exited - begin) * 1000, (time.monotonic() - begin) * 1000


def floor():
    begin = time.monotonic()
    peers.quiet(measure.FLOOR_ARGV)
    return (time.monotonic() - begin) * 1000


def report(results):
    base = statistics.median(results["floor"])
    print("load average: %s" % open("/proc/loadavg").read().split(" ", 3)[:3])
    print("%-34s %9s %7s %9s %7s" % ("", "exit, ms", "x floor", "pid, ms", "x floor"))
    for label, runs in results.items():
        if label == "floor":
            print("%-34s %9.2f %7.2f" % ("python3 -I -S -c pass", base, 1.0))
            continue
        done = statistics.median([r[0] for r in runs])
        pid = statistics.median([r[1] for r in runs])
        print("%-34s %9.2f %7.2f %9.2f %7.2f" % (label, done, done / base, pid, pid / base))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=measure.OPS_SERVICES, help="services")
    parser.add_argument("-r", type=int, default=40, help="runs of each")
    parser.add_argument("--server", help="git revision whose pv-scan supervises")
    parser.add_argument("revs", nargs="*", help="git revisions whose pv-svc to time too")
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="pv-bench-svc-")
    procfs.become_subreaper()
    top = os.path.dirname(peers.HERE)
    trees = {"pv-svc (work tree)": top}
    for rev in args.revs:
        trees["pv-svc (%s)" % rev] = os.path.dirname(pv_snapshot(rev, root))
    server = os.path.dirname(pv_snapshot(args.server, root)) if args.server else top
    for tree in set(trees.values()) | {server}:
        compile_pv(os.path.join(tree, "bin"))
    work = measure.make_work(root, "svc")
    names = measure.add_services(work, args.n)
    peer = peers.Pv(work)
    peer.argv = lambda: [os.path.join(server, "bin", "pv-scan"), peer.scandir]
    try:
        peer.start()
        if not peers.wait_until(lambda: measure.count_up(work) == args.n, measure.UP_SECS):
            raise SystemExit("the services did not come up")
        time.sleep(measure.SETTLE_SECS)
        results = {"floor": []}
        results.update((label, []) for label in trees)
        order, spare = ["floor"] + list(trees), 0
        for rep in range(args.r):
            for label in order[rep % len(order):] + order[:rep % len(order)]:
                if label == "floor":
                    results[label].append(floor())
                else:
                    results[label].append(restart(trees[label], work, names[spare % args.n]))
                    spare += 1
        report(results)
    finally:
        peer.stop()
        procfs.sweep(root)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(130))
    main()
