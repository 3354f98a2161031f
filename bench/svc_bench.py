#!/usr/bin/env python3
"""pv-svc -t -w up against the interpreter's floor, old code against new, in turns.

usage: python3 bench/svc_bench.py [-n SERVICES] [-r REPS] [--server REV]... [REV...]

The work tree's pv-scan, and one of each --server REV, each supervise N
services whose run is measure.SERVICE_RUN.  Then, REPS times and in a
rotating order: `python3 -I -S -c pass` (the floor), and `pv-svc -t -w up`
of the work tree and of each REV (exported with git archive, byte-compiled)
against each pv-scan, each on a service not restarted for the longest time,
each followed by measure.settle (the restarted run past its exec, 20 ms).  A restart is timed
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
    if code != 0 or not peers.wait_until(lambda: measure.runs_anew(work, name, old), 15,
                                                   measure.PID_POLL_SECS):
        raise SystemExit("pv-svc -t -w up %s: exit %s, or no new pid" % (name, code))
    return (exited - begin) * 1000, (time.monotonic() - begin) * 1000


def floor():
    begin = time.monotonic()
    peers.quiet(measure.FLOOR_ARGV)
    return (time.monotonic() - begin) * 1000


def report(results):
    base = statistics.median(results["floor"])
    print("load average: %s" % open("/proc/loadavg").read().split(" ", 3)[:3])
    print("%-48s %9s %7s %9s %7s" % ("", "exit, ms", "x floor", "pid, ms", "x floor"))
    for label, runs in results.items():
        if label == "floor":
            print("%-48s %9.2f %7.2f" % ("python3 -I -S -c pass", base, 1.0))
            continue
        done = statistics.median([r[0] for r in runs])
        pid = statistics.median([r[1] for r in runs])
        print("%-48s %9.2f %7.2f %9.2f %7.2f" % (label, done, done / base, pid, pid / base))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=measure.OPS_SERVICES, help="services")
    parser.add_argument("-r", type=int, default=40, help="runs of each")
    parser.add_argument("--server", action="append", default=[],
                        help="git revision whose pv-scan supervises too (repeatable)")
    parser.add_argument("revs", nargs="*", help="git revisions whose pv-svc to time too")
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="pv-bench-svc-")
    procfs.become_subreaper()
    top = os.path.dirname(peers.HERE)
    trees = {"work tree": top}
    for rev in dict.fromkeys(args.revs + args.server):
        trees[rev] = os.path.dirname(pv_snapshot(rev, root))
    for tree in set(trees.values()):
        compile_pv(os.path.join(tree, "bin"))
    clients = ["work tree"] + args.revs
    servers = ["work tree"] + args.server
    running, names = [], {}
    try:
        for server in servers:
            work = measure.make_work(root, "svc%d" % len(running))
            names[server] = (work, measure.add_services(work, args.n))
            peer = peers.Pv(work)
            peer.argv = (lambda peer, tree: lambda: [
                os.path.join(tree, "bin", "pv-scan"), peer.scandir])(peer, trees[server])
            peer.start()
            running.append(peer)
            if not peers.wait_until(lambda: measure.count_up(work) == args.n, measure.UP_SECS):
                raise SystemExit("the services did not come up")
        time.sleep(measure.SETTLE_SECS)
        pairs = {_label(client, server, args.server): (client, server)
                 for server in servers for client in clients}
        results = {"floor": []}
        results.update((label, []) for label in pairs)
        order, spare = ["floor"] + list(pairs), 0
        for rep in range(args.r):
            for label in order[rep % len(order):] + order[:rep % len(order)]:
                if label == "floor":
                    results[label].append(floor())
                    measure.settle(None)
                    continue
                client, server = pairs[label]
                work, served = names[server]
                name = served[spare % args.n]
                results[label].append(restart(trees[client], work, name))
                measure.settle(work, name)
                spare += 1
        report(results)
    finally:
        for peer in running:
            peer.stop()
        procfs.sweep(root)
        shutil.rmtree(root, ignore_errors=True)


def _label(client, server, other_servers):
    label = "pv-svc (%s)" % client
    return label + " / pv-scan (%s)" % server if other_servers else label


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(130))
    main()
