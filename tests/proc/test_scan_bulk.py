"""pv-scan starting and stopping many services in one batch (issue 16, item 2).

A batch spawns every run first and writes the records after (Loop.defer);
control, ok and event/ come with the first records.  These tests check what
a client sees once the batch is over -- records that name the pid the run
itself reports, for every service, and the protocol files in place -- and
that a batch stop (SIGTERM to pv-scan) leaves no process behind, a TERM
ignorer and a process that left its group included.
"""

import os
import signal
import stat

import pytest

from support import (LONG_TIMEOUT, SHORT_TIMEOUT, alive, bin_path, is_supervised, make_service,
                     marked_pids, read, state, supervise_pid, svc, wait_until)

COUNT = 40
# The run reports its own pid ($$: exec keeps it), as the bench's services do.
REPORTING_RUN = "#!/bin/sh\necho $$ > ../../up/%s.new && mv ../../up/%s.new ../../up/%s\n" \
    "exec sleep 1000\n"
# A TERM ignorer, and a child that leaves the process group (setsid) and
# would outlive a stop that only signalled the group.
DEAF_RUN = "#!/bin/sh\ntrap '' TERM\nexec sleep 1000\n"
LEAVER_RUN = "#!/bin/sh\nsetsid sleep 1000 &\necho $! > leaver\nexec sleep 1000\n"


def scan_dir(tmp_path, count):
    d = tmp_path / "D"
    (tmp_path / "up").mkdir()
    names = ["s%03d" % i for i in range(count)]
    for name in names:
        path = d / name
        path.mkdir(parents=True)
        run = path / "run"
        run.write_text(REPORTING_RUN % (name, name, name))
        run.chmod(0o755)
    return d, names


def start_scan(procs, d):
    procs.markers.append(str(d))
    return procs.start([bin_path("pv-scan"), str(d)])


def reported(tmp_path, name):
    text = read(str(tmp_path / "up" / name), "")
    return int(text) if text.strip() else 0


def test_records_right_after_a_batch_start(procs, tmp_path):
    d, names = scan_dir(tmp_path, COUNT)
    proc = start_scan(procs, d)
    wait_until(lambda: all(reported(tmp_path, n) for n in names) or proc.poll() is not None,
               LONG_TIMEOUT, "every run to report its pid")
    assert proc.poll() is None

    def shown(name):
        s = str(d / name)
        pid = reported(tmp_path, name)
        record = state(s)
        return (is_supervised(s) and supervise_pid(s) == pid and record.get("pid") == pid
                and record.get("state") == "running" and record.get("pid_start", 0) > 0)
    wait_until(lambda: all(shown(n) for n in names), SHORT_TIMEOUT,
               "every service's records to show the pid its run reported")
    for name in names:
        sv = d / name / "supervise"
        assert read(str(sv / "stat")) == "run\n"
        assert stat.S_ISFIFO(os.lstat(str(sv / "control")).st_mode)
        assert stat.S_IMODE(os.lstat(str(sv / "event")).st_mode) == 0o1733
        data = open(str(sv / "status"), "rb").read()
        assert len(data) == 20 and int.from_bytes(data[12:16], "little") == \
            reported(tmp_path, name) and data[19] == 1
        assert not any(n.endswith(".new") and not os.path.exists(str(sv / n[:-4]))
                       for n in os.listdir(str(sv)))   # no record left half-made


def test_batch_stop_leaves_no_process(procs, tmp_path):
    d, names = scan_dir(tmp_path, COUNT)
    deaf = d / "deaf"
    leaver = d / "leaver"
    for path, run in ((deaf, DEAF_RUN), (leaver, LEAVER_RUN)):
        path.mkdir()
        (path / "run").write_text(run)
        (path / "run").chmod(0o755)
        (path / "timeout-kill").write_text("300\n")
    proc = start_scan(procs, d)
    every = names + ["deaf", "leaver"]
    wait_until(lambda: all(state(str(d / n)).get("state") == "running" for n in every)
               or proc.poll() is not None, LONG_TIMEOUT, "every service to run")
    assert proc.poll() is None
    left_pid = int(wait_until(lambda: read(str(leaver / "leaver"), "").strip(),
                              what="the leaver's pid"))
    pids = [supervise_pid(str(d / n)) for n in every] + [left_pid]
    assert all(alive(p) for p in pids)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(LONG_TIMEOUT) == 0
    assert not [p for p in pids if alive(p)]
    assert marked_pids(str(d)) == []
    for name in every:
        record = state(str(d / name))
        assert record.get("state") == "down" and record.get("pid") == 0, (name, record)
        assert not is_supervised(str(d / name))


@pytest.mark.parametrize("second", [False, True])
def test_a_restarted_scan_over_existing_directories(procs, tmp_path, second):
    """The common restart: supervise/ exists, with every record and spare in it."""
    d, names = scan_dir(tmp_path, 10)
    proc = start_scan(procs, d)
    wait_until(lambda: all(state(str(d / n)).get("state") == "running" for n in names),
               LONG_TIMEOUT, "every service to run")
    first = {n: supervise_pid(str(d / n)) for n in names}
    if second:      # killed outright: its runs are left behind, to be taken down
        os.kill(proc.pid, signal.SIGKILL)
    else:
        proc.send_signal(signal.SIGTERM)
    proc.wait(SHORT_TIMEOUT)
    for n in names:
        os.unlink(str(tmp_path / "up" / n))
    proc = start_scan(procs, d)
    wait_until(lambda: all(reported(tmp_path, n) for n in names), LONG_TIMEOUT,
               "every run to report its pid again")
    wait_until(lambda: all(state(str(d / n)).get("pid") == reported(tmp_path, n)
                           and is_supervised(str(d / n)) for n in names),
               SHORT_TIMEOUT, "the records of the new runs")
    assert not [p for p in first.values() if alive(p)]


def test_control_that_cannot_be_made_is_a_warning_and_tried_again(procs, tmp_path):
    """The FIFOs come with the first records, after the start: a failure to
    make them no longer ends pv-run; it is reported, and tried again."""
    s = make_service(tmp_path, "s", "#!/bin/sh\nexec sleep 1000\n", {})
    os.makedirs(os.path.join(s, "supervise", "control"))     # unlink(2) cannot replace it
    procs.markers.append(s)
    err = str(tmp_path / "stderr")
    with open(err, "w") as f:
        proc = procs.start([bin_path("pv-run"), s], stderr=f)
    wait_until(lambda: "unable to create %s/supervise/control: " % s in read(err, ""),
               what="the warning")
    pid = int(wait_until(lambda: state(s).get("pid"), what="the run to start all the same"))
    assert proc.poll() is None and not is_supervised(s)
    os.rmdir(os.path.join(s, "supervise", "control"))
    wait_until(lambda: is_supervised(s), what="control and ok made on a later try")
    svc(s, "d")
    wait_until(lambda: state(s).get("state") == "down" and not alive(pid), what="d to work")
    assert read(err).count("unable to create") == 1      # once per spell of failures
