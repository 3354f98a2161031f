#!/usr/bin/env python3
"""pv against runit, daemontools, s6 and Supervisor, side by side: python3 bench/run.py [--quick]

Run by hand, never by the test suite (Linux: it reads /proc).  Prints, per
metric, pv's figure, each peer's, and pv's ratio to the best peer, as medians
of repeated runs; then the logger table of bench/log_bench.py.  What each
number means and how it is measured: bench/README.md.
"""

import argparse
import collections
import datetime
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

import measure
import peers
import procfs
from measure import (FAILURES, FLOOR_ARGV, IDLE_SERVICES, OPS_SERVICES, idle_run, ops_run,
                     pickup_run, progress, respawn_run, scale_run, walls_run)


# --- the table -----------------------------------------------------------------------------
def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(row, names):
    mine = row.get("pv")
    others = [(row[n], n) for n in names if n != "pv" and row.get(n) is not None]
    if mine is None or not others:
        return "-"
    best, who = min(others)
    if best == 0:
        return "%s (%s)" % ("1.00" if mine == 0 else "inf", who)
    value = mine / best
    return "%s (%s)" % ("%.2f" % value if value >= 0.01 else "%.4f" % value, who)


def print_table(rows, names):
    width = max(len(label) for label, _row, _fmt in rows) + 1
    print("%-*s" % (width, "metric") + "".join("%12s" % n for n in names)
          + "   pv/best peer")
    for label, row, fmt in rows:
        cells = "".join("%12s" % ("-" if row.get(n) is None else fmt % row[n]) for n in names)
        print("%-*s%s   %s" % (width, label, cells, ratio(row, names)))


class Bench:
    def __init__(self, args, root, classes):
        self.args, self.root, self.classes = args, root, classes
        self.names = [c.name for c in classes]
        self.rows = []
        self.floor, self.walls, self.wall_reps = None, [], 0

    def row(self, label, fmt, values):
        self.rows.append((label, values, fmt))

    def memory(self):
        for count in self.args.counts:
            runs = {}
            for cls in self.classes:
                progress("%s: %d services x %d runs" % (cls.name, count, self.args.scale_reps))
                runs[cls.name] = [scale_run(cls, self.root, count)
                                  for _ in range(self.args.scale_reps)]
            self.memory_rows(count, runs)

    def memory_rows(self, count, runs):
        def pick(key, scale=1.0):
            found = {n: median(r[key] for r in rs if r) for n, rs in runs.items()}
            return {n: None if v is None else v * scale for n, v in found.items()}
        for key in ("pss", "rss"):
            self.row("%s MB total, N=%d" % (key.upper(), count), "%.1f", pick(key, 1 / 1024))
            self.row("%s KiB per service, N=%d" % (key.upper(), count), "%.0f",
                     pick(key, 1.0 / count))
        self.updown = (count, pick("up"), pick("down"), pick("status", 1000.0))

    def idle(self):
        secs = self.args.idle
        progress("all peers idle side by side: %d services each, %d s" % (IDLE_SERVICES, secs))
        got = idle_run(self.classes, self.root, IDLE_SERVICES, secs)
        for i, label, fmt in ((0, "idle CPU ms (utime+stime)", "%.0f"),
                              (1, "idle CPU ms (schedstat)", "%.1f"),
                              (2, "idle wakeups (vol. ctxt sw.)", "%.0f")):
            self.row("%s, N=%d, %d s" % (label, IDLE_SERVICES, secs), fmt,
                     {n: v[i] for n, v in got.items()})

    def respawn(self):
        got = {}
        for cls in self.classes:
            progress("%s: first respawn x %d" % (cls.name, self.args.reps))
            got[cls.name] = median(respawn_run(cls, self.root) for _ in range(self.args.reps))
        self.row("first respawn after crash, ms", "%.1f", ms(got))

    def ops(self):
        got = {}
        for cls in self.classes:
            progress("%s: kill -9, restart, status x %d" % (cls.name, self.args.reps))
            got[cls.name] = ops_run(cls, self.root, self.args.reps)
        pick = lambda key: ms({n: median(r.get(key, [])) for n, r in got.items()})
        self.row("kill -9 -> new pid running, ms", "%.1f", pick("kill"))
        restart = pick("restart")
        self.row("restart cmd -> new pid, ms", "%.1f", restart)
        if "pv-svc -t -w up" in got.get("pv", {}):
            alt = dict(restart, pv=median(got["pv"]["pv-svc -t -w up"]) * 1000)
            self.row("  same, pv-svc -t -w up for pv", "%.1f", alt)
        self.row("status cmd, 1 service, ms", "%.1f", pick("status1"))
        self.row("status cmd, %d services, ms" % OPS_SERVICES, "%.1f", pick("status50"))

    def command_walls(self):
        """pv's commands against the interpreter's floor, taken in turns."""
        if peers.Pv not in self.classes:
            return
        reps = 10 * self.args.reps     # short runs, and the ratio is noisy: many
        progress("pv: command walls and %s, in turns x %d" % (" ".join(FLOOR_ARGV), reps))
        got = walls_run(self.root, reps)
        if not got.get("floor"):
            return
        self.floor, self.wall_reps = median(got["floor"]) * 1000, reps
        pick = lambda key: None if median(got.get(key, [])) is None else median(got[key]) * 1000
        self.walls = [("pv-ctl status NAME", pick("pv-ctl status NAME"), 2.0),
                      ("pv-svc -t -w up -> new pid", pick("pv-svc -t -w up"), 1.5),
                      ("pv-ctl restart NAME -> new pid", pick("pv-ctl restart NAME"), None)]

    def pickup(self):
        got = {}
        for cls in self.classes:
            progress("%s: new symlink -> run started x %d" % (cls.name, self.args.reps))
            got[cls.name] = median(pickup_run(cls, self.root, self.args.reps))
        self.row("new symlink -> run started, ms", "%.1f", ms(got))

    def print_walls(self):
        """pv's commands as multiples of the interpreter's own start, same run."""
        if self.floor is None:
            return
        print("\ncommand walls against the interpreter's floor (%s: %.1f ms; the two"
              " in turns, %d runs of each, this run):"
              % (" ".join(FLOOR_ARGV), self.floor, self.wall_reps))
        for label, value, goal in self.walls:
            if value is None:
                continue
            print("  %-34s %7.1f ms %6.2fx%s" % (label, value, value / self.floor,
                                                  "   (goal <= %gx)" % goal if goal else ""))
        count, _up, _down, status = self.updown
        if status.get("pv") is not None:
            print("  %-34s %7.1f ms%s" % ("pv-ctl status, all %d" % count, status["pv"],
                                           "            (goal <= 100 ms)" if count >= 1000 else ""))

    def up_down(self):
        count, up, down, status = self.updown
        self.row("all %d up (start -> last run), s" % count, "%.2f", up)
        self.row("all %d down (command -> last reaped), s" % count, "%.2f", down)
        self.row("status cmd, all %d services, ms" % count, "%.1f", status)


def ms(values):
    return {n: None if v is None else v * 1000 for n, v in values.items()}


# --- header, log bench, main ---------------------------------------------------------------
def version_of(cls, args):
    if cls is peers.Supervisor:
        out = subprocess.run([cls.exe("supervisord"), "--version"], capture_output=True,
                             text=True)
        return out.stdout.strip()
    if cls is peers.Pv:
        rev = ["rev-parse", "--short", args.pv_rev] if args.pv_rev else [
            "describe", "--always", "--dirty"]
        out = subprocess.run(["git", "-C", peers.HERE] + rev, capture_output=True, text=True)
        return out.stdout.strip() or "?"
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", cls.name],
                         capture_output=True, text=True)
    return out.stdout.strip() or "?"


def header(args, classes):
    """The lines above the table, taken when the run starts."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return [
        "date: %s" % now.strftime("%Y-%m-%d %H:%M UTC"),
        "machine: nproc %d, Python %s, kernel %s %s" % (
            os.cpu_count(), platform.python_version(), platform.system(), platform.release()),
        "versions: %s" % ", ".join("%s %s" % (c.name, version_of(c, args)) for c in classes),
        "command: %s" % " ".join(["python3", "bench/run.py"] + args.argv),
        "medians of %d runs (memory, up/down: %d); idle window %d s" % (
            args.reps, args.scale_reps, args.idle),
        ""]


def log_bench(quick):
    argv = [sys.executable, os.path.join(peers.HERE, "log_bench.py")] + (["--quick"] if quick else [])
    progress("logger throughput: %s" % " ".join(argv[1:]))
    out = subprocess.run(argv, stdout=subprocess.PIPE, text=True)
    print("\nlogger throughput (bench/log_bench.py%s):" % (" --quick" if quick else ""))
    print(out.stdout.rstrip())


def methods(classes):
    print("\nhow each tool was driven:")
    for cls in classes:
        print("  %-11s down: %s; restart: %s; status: %s; new entry: %s" % (
            cls.name, cls.down_method, cls.restart_method, cls.status_method,
            cls.pickup_method))


def available(notes):
    found = []
    for cls in peers.PEERS:
        missing = cls.missing()
        if missing:
            notes.append("%s skipped: %s not found" % (cls.name, ", ".join(missing)))
        else:
            found.append(cls)
    return found


def pv_snapshot(rev, root):
    """Export bin/ and lib/ of git revision ``rev`` under ``root``; its bin/ directory."""
    target = os.path.join(root, "pv-" + rev.replace("/", "_"))
    os.mkdir(target)
    archive = subprocess.Popen(["git", "-C", os.path.dirname(peers.HERE), "archive", rev,
                                "bin", "lib"],
                               stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", target], stdin=archive.stdout, check=True)
    archive.stdout.close()
    if archive.wait() != 0:
        raise SystemExit("bench: unable to export %s" % rev)
    return os.path.join(target, "bin")


def compile_pv(bin_dir):
    """Byte-compile pv's lib/ as a pip install would.  Where PYTHONDONTWRITEBYTECODE
    is set (as on the machine these figures were first taken on), pv would
    otherwise recompile every module at every start: 2.4 MB more for pv-scan and
    tens of ms on every pv-ctl call, a cost of the environment, not of pv."""
    lib = os.path.join(os.path.dirname(bin_dir), "lib")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", lib], env=env,
                   stdout=subprocess.DEVNULL, check=False)


def run(args, root):
    if args.pv_rev:
        peers.BIN = pv_snapshot(args.pv_rev, root)
    compile_pv(peers.BIN)
    if not args.no_install:
        peers.install(sys.stderr)
    notes = []
    classes = available(notes)
    head = header(args, classes)
    bench = Bench(args, root, classes)
    bench.memory()
    bench.idle()
    bench.respawn()
    bench.ops()
    bench.command_walls()
    bench.pickup()
    bench.up_down()
    print("\n".join(head))
    print_table(bench.rows, bench.names)
    bench.print_walls()
    for note in notes:
        print("note: %s" % note)
    for failure, times in collections.Counter(FAILURES).items():
        print("failed: %s, %d time%s" % (failure, times, "s" if times > 1 else ""))
    methods(classes)
    if not args.no_log:
        log_bench(args.quick)


def interrupt(signum, frame):
    raise KeyboardInterrupt


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="N = 10 and 100 only, fewer runs, 10 s idle (under two minutes)")
    parser.add_argument("--no-install", action="store_true", help="skip missing peers")
    parser.add_argument("--no-log", action="store_true", help="leave out the logger bench")
    parser.add_argument("--pv-rev", metavar="REV",
                        help="bench pv as committed at git REV (default: the work tree)")
    args = parser.parse_args(argv)
    args.argv = argv
    args.counts = [10, 100] if args.quick else [10, 100, 1000]
    args.reps, args.scale_reps, args.idle = (3, 1, 10) if args.quick else (5, 3, 30)
    if args.quick:
        measure.SETTLE_SECS = 1.0
    return args


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):   # SIGINT: even if inherited ignored
        signal.signal(signum, interrupt)
    raise_nofile()
    procfs.become_subreaper()
    root = os.path.realpath(tempfile.mkdtemp(prefix="pv-bench-"))
    code = 0
    try:
        run(args, root)
    except KeyboardInterrupt:
        progress("interrupted; cleaning up")
        code = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        left = procfs.sweep(root)
        procfs.reap_orphans()
        shutil.rmtree(root, ignore_errors=True)
        if left:
            progress("warning: %d processes under %s survived SIGKILL" % (left, root))
    return code


if __name__ == "__main__":
    sys.exit(main())
