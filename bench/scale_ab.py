"""N services up and down: this pv, another pv checkout and the peers, alternated.

    python3 bench/scale_ab.py [--other DIR] [--reps 3] [--count 1000] [PEER...]

Runs ``measure.scale_run`` for each supervisor in turn, ``--reps`` rounds, so
that a machine's load falls on all of them alike, and prints each run and
the medians.  ``--other DIR`` adds the pv of another checkout (for instance
``git archive main | tar -x -C DIR``) as ``pv-other``: a before/after figure
of a change.  PEER: runit, daemontools (default: both), or none.
"""

import argparse
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

import measure  # noqa: E402
import peers  # noqa: E402


def other_pv(checkout):
    class Other(peers.Pv):
        name = "pv-other"

        def argv(self):
            return [os.path.join(checkout, "bin", "pv-scan"), self.scandir]
    return Other


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", help="another pv checkout to compare with")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("peers", nargs="*", default=["daemontools", "runit"])
    args = parser.parse_args()
    known = {"runit": peers.Runit, "daemontools": peers.Daemontools, "none": None}
    classes = [peers.Pv] + ([other_pv(os.path.abspath(args.other))] if args.other else []) + \
        [known[name] for name in args.peers if known[name] is not None]
    root = tempfile.mkdtemp(prefix="pv-scale-ab-")
    runs = {cls.name: [] for cls in classes}
    for _ in range(args.reps):
        for cls in classes:
            result = measure.scale_run(cls, root, args.count)
            print("%-12s %s  load %.1f" % (cls.name, result and {
                k: round(v, 2) for k, v in result.items() if v is not None},
                os.getloadavg()[0]), flush=True)
            if result and result["up"] is not None and result["down"] is not None:
                runs[cls.name].append(result)
    print("medians of %d rounds, N = %d (the scratch directories stay in %s:"
          " deleting them makes this ext4's next creations slow)" % (args.reps, args.count, root))
    for name, results in runs.items():
        if results:
            print("%-12s up %.2f s  down %.2f s  PSS %.1f MB" % (
                name, statistics.median(r["up"] for r in results),
                statistics.median(r["down"] for r in results),
                statistics.median(r["pss"] for r in results) / 1024))


if __name__ == "__main__":
    main()
