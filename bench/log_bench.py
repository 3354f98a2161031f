#!/usr/bin/env python3
"""pv-log against its peers, by hand: python3 bench/log_bench.py [--quick] [--runs N]

Feeds the same file of 100-byte numbered lines through ``cat FILE |`` into
each logger (rotation every 10 MB, all rotated files kept), and prints the
median MB/s, lines/s and peak RSS of the logger process over N runs, then
checks that every line arrived exactly once, in order.  Finally the peak RSS
of pv-log for one line as long as the whole input, without a newline.
Peers missing from PATH are skipped.  Never run by the test suite.

``--versus REV`` (may be repeated): pv-log as committed at git REV against
this tree's, in the same run, alternately: the CPU time (user + system, from
wait4) and wall time of each over the same input, plain and -tt, medians of
``--runs``; and a row for REV's pv-log in the kill -9 table.
``--only-versus``: that comparison alone, without the peers.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import tarfile
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.realpath(__file__))
PVLOG = os.path.join(os.path.dirname(HERE), "bin", "pv-log")
LINE = 100
SIZE = 10_000_000     # rotation size
KEEP = 1000           # rotated files kept: all of them, for the lines check


def loggers(dirname):
    """name -> argv (None: special), and whether lines carry a stamp."""
    return [
        ("pv-log -tt", [sys.executable, PVLOG, "-tt", dirname], True),
        ("pv-log", [sys.executable, PVLOG, dirname], False),
        ("svlogd -tt", ["svlogd", "-tt", dirname], True),
        ("multilog t", ["multilog", "t", "s%d" % min(SIZE, 16777215), "n%d" % KEEP, dirname],
         True),
        ("s6-log t", ["s6-log", "-b", "n%d" % KEEP, "s%d" % SIZE, "t", dirname], True),
        ("s6-log", ["s6-log", "-b", "n%d" % KEEP, "s%d" % SIZE, dirname], False),
        ("cat > file", None, False),
    ]


def make_input(path, megabytes):
    count = megabytes * 1_000_000 // LINE
    filler = b"x" * (LINE - 12)
    with open(path, "wb") as out:
        for start in range(0, count, 10000):
            out.write(b"".join(b"%010d %s\n" % (i, filler)
                               for i in range(start, min(start + 10000, count))))
    return count


def fresh_logdir(dirname):
    """An empty log directory with the bench's rotation config."""
    shutil.rmtree(dirname, ignore_errors=True)
    os.mkdir(dirname)
    with open(os.path.join(dirname, "config"), "w") as cfg:
        cfg.write("s%d\nn%d\n" % (SIZE, KEEP))


def run_one(argv, input_path, dirname):
    """(seconds, peak RSS in KiB) of one logger run on ``input_path``."""
    fresh_logdir(dirname)
    start = time.monotonic()
    if argv is None:
        with open(os.path.join(dirname, "current"), "wb") as out:
            proc = subprocess.Popen(["cat", input_path], stdout=out)
    else:
        feed = subprocess.Popen(["cat", input_path], stdout=subprocess.PIPE)
        proc = subprocess.Popen(argv, stdin=feed.stdout, stderr=subprocess.DEVNULL)
        feed.stdout.close()
    peak = watch_rss(proc)
    elapsed = time.monotonic() - start
    if argv is not None:
        feed.wait()
    return elapsed, peak


def watch_rss(proc):
    """Wait for ``proc``; its peak RSS in KiB (VmHWM, read every few ms).

    rusage's ru_maxrss would do, except that Linux keeps the high-water mark
    of the forking parent across exec, so every child would show the bench's
    own size.
    """
    peak = 0
    path = "/proc/%d/status" % proc.pid
    while proc.poll() is None:
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except (OSError, ValueError, IndexError):
            pass
        time.sleep(0.005)
    return peak


def logged_lines(dirname, stamped):
    names = sorted(n for n in os.listdir(dirname) if n.startswith("@")) + ["current"]
    for name in names:
        path = os.path.join(dirname, name)
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            for line in f:
                yield line.split(b" ", 1)[1] if stamped else line


def lines_ok(dirname, stamped, count):
    """(lost, duplicated or out of order) against the numbered input."""
    want, bad = 0, 0
    for line in logged_lines(dirname, stamped):
        if len(line) != LINE or int(line[:10]) != want:
            bad += 1
            if len(line) == LINE and int(line[:10]) > want:
                want = int(line[:10]) + 1
            continue
        want += 1
    return count - want, bad


def bench(args):
    work = tempfile.mkdtemp(prefix="pvlog-bench-", dir=args.dir)
    try:
        _bench(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _bench(args, work):
    megabytes = 20 if args.quick else args.megabytes
    src = os.path.join(work, "input")
    count = make_input(src, megabytes)
    logdir = os.path.join(work, "log")
    print("input: %d MB, %d lines of %d bytes; rotation every %d bytes; median of %d runs"
          % (megabytes, count, LINE, SIZE, args.runs))
    others = [(rev, checkout(rev, os.path.join(work, "rev%d" % n)))
              for n, rev in enumerate(args.versus)]
    if args.only_versus:
        versus(args, src, logdir, megabytes, others)
        return
    print("%-12s %9s %12s %9s  %s" % ("logger", "MB/s", "lines/s", "RSS MB", "lines check"))
    results = {}
    for name, argv, stamped in loggers(logdir):
        if argv is not None and not shutil.which(argv[0]):
            print("%-12s skipped: %s not found" % (name, argv[0]))
            continue
        runs = [run_one(argv, src, logdir) for _ in range(args.runs)]
        secs = statistics.median(r[0] for r in runs)
        rss = max(r[1] for r in runs) / 1024
        lost, bad = lines_ok(logdir, stamped, count)
        check = "ok" if not lost and not bad else "LOST %d, BAD %d" % (lost, bad)
        results[name] = megabytes / secs
        print("%-12s %9.1f %12.0f %9.1f  %s" % (name, megabytes / secs, count / secs, rss, check))
    ratios(results)
    if others:
        versus(args, src, logdir, megabytes, others)
    giant_line(work, megabytes)
    kills(work, logdir, 3 if args.quick else 6, others)


def cpu_one(argv, input_path, dirname):
    """(wall seconds, CPU seconds of the logger) of one run on ``input_path``."""
    fresh_logdir(dirname)
    start = time.monotonic()
    with open(input_path, "rb") as feed:
        # The file itself would make stdin a file, not a pipe: cat feeds a pipe.
        cat = subprocess.Popen(["cat"], stdin=feed, stdout=subprocess.PIPE)
        proc = subprocess.Popen(argv, stdin=cat.stdout, stderr=subprocess.DEVNULL)
        cat.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - start
    cat.wait()
    return elapsed, usage.ru_utime + usage.ru_stime


def checkout(rev, tree):
    """bin/pv-log of git ``rev`` of this repository, unpacked into ``tree``."""
    top = os.path.dirname(HERE)
    os.mkdir(tree)
    archive = subprocess.run(["git", "-C", top, "archive", rev, "bin", "lib"],
                             stdout=subprocess.PIPE, check=True).stdout
    path = tree + ".tar"
    with open(path, "wb") as f:
        f.write(archive)
    with tarfile.open(path) as tar:
        tar.extractall(tree)
    return os.path.join(tree, "bin", "pv-log")


def versus(args, src, logdir, megabytes, others):
    """This pv-log and REVs', alternately, same input: median CPU and wall."""
    print("\npv-log at %s against this tree, alternately, median of %d (load %s):"
          % (", ".join(args.versus), args.runs,
             " ".join("%.2f" % x for x in os.getloadavg())))
    print("%-22s %9s %9s %9s %8s" % ("logger", "CPU s", "wall s", "MB/s", "lines"))
    for flags in ([], ["-tt"]):
        progs = others + [("this", PVLOG)]
        runs, checks = {name: [] for name, _ in progs}, {}
        for n in range(args.runs):
            for name, prog in progs:
                runs[name].append(cpu_one([sys.executable, prog] + flags + [logdir],
                                          src, logdir))
                if n == args.runs - 1:
                    checks[name] = lines_ok(logdir, bool(flags), megabytes * 1_000_000 // LINE)
        for name, got in runs.items():
            check = checks[name]
            cpu = statistics.median(r[1] for r in got)
            wall = statistics.median(r[0] for r in got)
            print("%-22s %9.3f %9.3f %9.1f %8s" % (" ".join(["pv-log"] + flags + ["@" + name]),
                                                    cpu, wall, megabytes / wall,
                                                    "ok" if check == (0, 0) else check))


def ratios(results):
    print()
    for mine, peers in (("pv-log -tt", ["svlogd -tt", "multilog t", "s6-log t"]),
                        ("pv-log", ["s6-log"]), ("pv-log", ["cat > file"])):
        peers = [p for p in peers if p in results]
        if mine in results and peers:
            best = max(peers, key=results.get)
            print("ratio %-12s / %-12s = %.2f" % (mine, best, results[mine] / results[best]))


def giant_line(work, megabytes):
    """Peak RSS of pv-log fed one line of ``megabytes`` MB and no newline."""
    logdir = os.path.join(work, "giant")
    os.mkdir(logdir)
    feed = subprocess.Popen(["head", "-c", str(megabytes * 1_000_000), "/dev/zero"],
                            stdout=subprocess.PIPE)
    proc = subprocess.Popen([sys.executable, PVLOG, logdir], stdin=feed.stdout)
    feed.stdout.close()
    peak = watch_rss(proc)
    feed.wait()
    sizes = [os.path.getsize(os.path.join(logdir, n)) for n in os.listdir(logdir)
             if n == "current" or n.startswith("@")]
    print("pv-log, one %d MB line without newline: peak RSS %.1f MB; under the default"
          " s and n, %d files of at most %d bytes, %d bytes kept"
          % (megabytes, peak / 1024, len(sizes), max(sizes), sum(sizes)))


def flood_argv(count):
    """A writer of ``count`` numbered lines, as fast as it can."""
    filler = "x" * (LINE - 12)
    code = ("import sys\nout = sys.stdout.buffer\nfor s in range(0, %d, 1000):\n"
            "    out.write(b''.join(b'%%010d %s\\n' %% i for i in range(s, min(s + 1000, %d))))\n"
            % (count, filler, count))
    return [sys.executable, "-c", code]


def kills(work, logdir, times, others=()):
    """Lines repeated and lost per SIGKILL of each logger under a flood.

    The writer's pipe outlives every logger, as under a supervisor: each
    logger is started ``times`` times on the same pipe, killed once the
    logs have grown by 4 MB, and a last one runs to the end of the input.
    """
    count = 400_000 if times < 6 else 1_000_000
    print("\nkill -9 under a flood: %d lines of %d bytes, %d kills, the pipe kept"
          % (count, LINE, times))
    print("%-12s %14s %14s %9s" % ("logger", "repeated/kill", "lost/kill", "torn"))
    plain = [("pv-log", [sys.executable, PVLOG, logdir]), ("svlogd", ["svlogd", logdir]),
             ("multilog", ["multilog", "s%d" % min(SIZE, 16777215), "n%d" % KEEP, logdir]),
             ("s6-log", ["s6-log", "-b", "n%d" % KEEP, "s%d" % SIZE, logdir])]
    for rev, other in reversed(others):
        plain.insert(1, ("pv-log@" + rev[:7], [sys.executable, other, logdir]))
    for name, argv in plain:
        if not shutil.which(argv[0]):
            continue
        repeated, lost, torn = flood_kills(argv, logdir, count, times)
        print("%-12s %14.0f %14.0f %9d" % (name, repeated / times, lost / times, torn))


def flood_kills(argv, logdir, count, times):
    shutil.rmtree(logdir, ignore_errors=True)
    os.mkdir(logdir)
    with open(os.path.join(logdir, "config"), "w") as cfg:
        cfg.write("s%d\nn%d\n" % (SIZE, KEEP))
    r, w = os.pipe()
    writer = subprocess.Popen(flood_argv(count), stdout=w)
    os.close(w)
    try:
        for _ in range(times):
            proc = subprocess.Popen(argv, stdin=r, stderr=subprocess.DEVNULL)
            start = logged_bytes(logdir)
            deadline = time.monotonic() + 60
            while (logged_bytes(logdir) < start + 4_000_000 and writer.poll() is None
                   and time.monotonic() < deadline):
                time.sleep(0.002)
            proc.kill()
            proc.wait()
        proc = subprocess.Popen(argv, stdin=r, stderr=subprocess.DEVNULL)
        os.close(r)
        writer.wait()
        proc.wait(timeout=120)
    finally:
        for p in (writer, proc):
            if p.poll() is None:
                p.kill()
                p.wait()
    seen, repeated, torn = set(), 0, 0
    for line in logged_lines(logdir, False):
        if len(line) != LINE:
            torn += 1
            continue
        number = int(line[:10])
        if number in seen:
            repeated += 1
        seen.add(number)
    return repeated, count - len(seen), torn


def logged_bytes(logdir):
    total = 0
    for name in os.listdir(logdir):
        if name == "current" or name.startswith("@"):
            try:
                total += os.path.getsize(os.path.join(logdir, name))
            except OSError:
                pass
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 MB instead of 200 MB")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--dir", default=None, help="where to put the logs (default: $TMPDIR)")
    parser.add_argument("--versus", metavar="REV", action="append", default=[],
                        help="also pv-log at git REV, alternately with this tree's")
    parser.add_argument("--only-versus", action="store_true",
                        help="only the --versus comparison (no peers, no kills)")
    bench(parser.parse_args())


if __name__ == "__main__":
    main()
