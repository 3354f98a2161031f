"""The transition record through pv-scan and pv-run, read by pv-ctl watch.

Real supervisors in temporary directories; watchers read through a pipe with
a deadline on every read (``Lines``), and are killed by pid in finalisers.
"""

import json
import os
import select
import signal
import subprocess
import time

from support import (SHORT_TIMEOUT, bin_path, is_supervised, marked_pids, read, svc, wait_pid,
                     wait_until)

SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"
DEAF_RUN = "#!/bin/sh\ntrap '' TERM\nexec sleep 1000\n"
# Ready at once (notification-fd 3), then exit 1: a ready run's quick death
# is restarted at once, so this dies 1,000 times in a burst, then sleeps.
BURST_RUN = """#!/bin/sh
n=$(cat count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > count
[ $n -gt %d ] && exec sleep 1000
echo >&3
exec sleep 0.02
"""
BURST = 1000


class Lines:
    """A watcher's stdout, read line by line with a deadline."""

    def __init__(self, proc):
        self.proc, self.buffer = proc, b""

    def next(self, timeout=SHORT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            assert left > 0, "no line from the watcher within %.0f s" % timeout
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                data = os.read(self.proc.stdout.fileno(), 65536)
                assert data, "the watcher exited (%s)" % self.proc.poll()
                self.buffer += data
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode()

    def until(self, predicate, timeout=SHORT_TIMEOUT):
        """Lines up to and including the first for which ``predicate`` holds."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            seen.append(self.next(max(0.01, deadline - time.monotonic())))
            if predicate(seen[-1]):
                return seen


def watch(procs, scandir, *args):
    proc = procs.start([bin_path("pv-ctl"), "-d", str(scandir), "watch"] + list(args),
                       stdout=subprocess.PIPE)
    return proc, Lines(proc)


def service(scandir, name, run=SLEEP_RUN, **files):
    from support import make_service
    return make_service(scandir, name, run, files)


def test_burst_of_1000_exits_is_seen_in_order_by_a_watcher_that_is_restarted(procs, tmp_path):
    d = tmp_path / "D"
    events = d / ".pv-scan" / "events"
    events.mkdir(parents=True)
    (events / "config").write_text("s65536\nn100\n")    # rotated a few times on the way
    service(d, "burst", BURST_RUN % BURST, notification_fd="3\n", down="")
    procs.pv_scan(d)
    first, lines = watch(procs, d, "--json", "--since", "0")
    # The record opens before the services are looked at: wait for control.
    wait_until(lambda: is_supervised(str(d / "burst")), what="burst to be supervised")
    svc(str(d / "burst"), "u")
    records = [json.loads(x) for x in lines.until(lambda x: _count(x, lines) >= 400, 120)]
    first.stdout.close()          # the reader goes away: the watcher ends cleanly
    assert first.wait(SHORT_TIMEOUT) == 0
    _, lines = watch(procs, d, "--json", "--since", str(records[-1]["seq"]))
    left = BURST - sum(r["event"] == "exit" for r in records)
    records += [json.loads(x) for x in lines.until(lambda x: _count(x, lines) >= left, 180)]
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    exits = [r for r in records if r["event"] == "exit"]
    assert len(exits) == BURST
    # Most end ready; under load the exit may be handled before the readiness line.
    assert all(r["service"] == "burst" and r["from"] in ("ready", "starting") for r in exits)
    assert len({r["pid"] for r in exits}) == BURST
    assert len(os.listdir(str(events))) > 3      # it did rotate under the watchers


def _count(line, lines):
    """Exit records seen so far by the ``Lines`` reading this burst (kept on it)."""
    lines.exits = getattr(lines, "exits", 0) + ('"event":"exit"' in line)
    return lines.exits


def test_watch_human_lines_initial_state_and_name_filter(procs, tmp_path):
    d = tmp_path / "D"
    a = service(d, "a")
    service(d, "b")
    procs.pv_scan(d)
    wait_pid(a)
    wait_pid(str(d / "b"))
    _, lines = watch(procs, d, "--initial", "a")
    first = lines.next()
    assert " a state " in first and "->running" in first
    svc(a, "d")
    seen = lines.until(lambda x: " a down " in x)
    assert any(" a want " in x and "by=d" in x and "want=down" in x for x in seen)
    assert any(" a stop running->stopping " in x and "signal=15" in x for x in seen)
    assert any(" a exit stopping->exited " in x and "signal=15" in x for x in seen)
    svc(str(d / "b"), "d")
    svc(a, "u")
    assert " a want down->down by=u want=up was=down" in lines.next()  # nothing of b
    assert " a spawn down->running pid " in lines.next()


def test_kill_after_timeout_and_config_change_are_recorded(procs, tmp_path):
    d = tmp_path / "D"
    deaf = service(d, "deaf", DEAF_RUN, timeout_kill="300\n")
    procs.pv_scan(d)
    wait_pid(deaf)
    _, lines = watch(procs, d, "--json", "--since", "0")
    svc(deaf, "d")
    seen = [json.loads(x) for x in lines.until(lambda x: '"event":"down"' in x)]
    kill = [r for r in seen if r["event"] == "kill"]
    assert kill and kill[0]["signal"] == signal.SIGKILL and kill[0]["from"] == "stopping"
    with open(os.path.join(deaf, "timeout-kill"), "w") as f:
        f.write("400\n")
    svc(deaf, "u")
    seen = [json.loads(x) for x in lines.until(lambda x: '"event":"spawn"' in x)]
    assert [r["event"] for r in seen][-2:] == ["config", "spawn"]


def test_exec_runs_a_command_per_event_with_the_fields_in_its_environment(procs, tmp_path):
    d = tmp_path / "D"
    service(d, "a")
    procs.pv_scan(d)
    out = tmp_path / "exec.out"
    cmd = 'echo "$PV_EVENT_SEQ $PV_EVENT_EVENT $PV_EVENT_SERVICE $PV_EVENT_TO" >> %s' % out
    watch(procs, d, "--since", "0", "--exec", cmd)
    wait_until(lambda: "spawn a running" in (read(str(out)) or ""), what="--exec output")
    lines = read(str(out)).splitlines()
    assert lines[0] == "1 started  " and lines[1] == "2 added a "


def test_pv_run_keeps_its_record_in_supervise_events(procs, svdir):
    s = svdir(run=SLEEP_RUN)
    procs.pv_run(s)
    wait_pid(s)
    _, lines = watch(procs, s, "--json", "--since", "0")
    events = [json.loads(lines.next())["event"] for _ in range(3)]
    assert events == ["started", "added", "spawn"]
    assert os.path.isfile(os.path.join(s, "supervise", "events", "current"))


def test_on_exit_ends_pv_scan_with_the_programs_code(procs, tmp_path):
    d = tmp_path / "D"
    service(d, "main", "#!/bin/sh\nsleep 0.5\nexit 7\n", on_exit="exit\n")
    other = service(d, "other")
    scan = procs.pv_scan(d, stderr=subprocess.PIPE)
    assert scan.wait(SHORT_TIMEOUT) == 7
    assert b"on-exit exit: ended with 7" in scan.stderr.read()
    assert marked_pids(other) == []
    lines = open(str(d / ".pv-scan" / "events" / "current")).read().splitlines()
    records = list(map(json.loads, lines))
    events = [(r["event"], r["service"]) for r in records]
    main_exit = events.index(("exit", "main"))
    assert ("spawn", "main") not in events[main_exit:]     # not restarted on the way out
    want = records[main_exit + 1]           # the exit's own step changed the want
    assert (want["event"], want["want"], want["was"], want["by"]) == \
        ("want", "exit", "up", "on-exit")
    assert events[-1] == ("stopped", "")


def test_on_exit_under_pv_run_exits_128_plus_the_signal(procs, svdir):
    s = svdir(run="#!/bin/sh\nkill -USR1 $$\n", on_exit="exit\n")
    proc = procs.start([bin_path("pv-run"), s])
    assert proc.wait(SHORT_TIMEOUT) == 128 + signal.SIGUSR1
