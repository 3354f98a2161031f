"""Records are a cache, the processes the truth (issue 12, items 1 and 8).

- pv-scan killed between spawning a run and writing supervise/state leaves a
  stale "down, pid 0" record: the next pv-scan must still find the orphan
  by its PV_SERVICE marker, so that exactly one instance ever runs.
- A write of the records that fails (RLIMIT_FSIZE here; ENOSPC alike) is
  tried again: once writing works, the records show the truth.
"""

import os
import resource
import signal
import time

import pytest

from pv.status import State
from support import (SHORT_TIMEOUT, alive, marked_pids, read, state, supervise_pid, svc,
                     wait_pid, wait_until)

SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"


def stale_record(service, want):
    """What a crash between spawn and publish leaves: down, pid 0, written just now."""
    path = os.path.join(service, "supervise", "state")
    with open(path, "w") as f:
        f.write(State(state="down", pid=0, want=want, since=time.time(),
                      supervisor=1).to_json())


@pytest.mark.parametrize("want", ["down", "up"])
def test_an_orphan_behind_a_stale_record_is_found_and_never_doubled(procs, tmp_path, want):
    from support import make_service
    d = tmp_path / "D"
    d.mkdir()
    app = make_service(d, "app", SLEEP_RUN, {})
    first = procs.pv_scan(d)
    orphan = wait_pid(app)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=SHORT_TIMEOUT)
    assert alive(orphan)
    stale_record(app, want)
    errors = str(tmp_path / "stderr")
    with open(errors, "w") as stderr:
        procs.pv_scan(d, ["app"], stderr=stderr)
    svc(app, "u")
    new = wait_pid(app, not_pid=orphan)
    wait_until(lambda: marked_pids(app) == [new], what="exactly one instance of app")
    assert not alive(orphan)
    assert "left running by a previous supervisor: %d" % orphan in read(errors, "")


def test_records_that_could_not_be_written_are_written_once_possible(procs, svdir):
    s = svdir(run=SLEEP_RUN)
    # stderr is a pipe: RLIMIT_FSIZE would stop pv-run's warning in a file too.
    err_r, err_w = os.pipe()
    os.set_blocking(err_r, False)
    try:
        runner = procs.pv_run(s, stderr=err_w)
        old = wait_pid(s)
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.prlimit(runner.pid, resource.RLIMIT_FSIZE, (0, hard))   # every write: EFBIG
        try:
            svc(s, "k")
            new = wait_until(lambda: [p for p in marked_pids(s) if p != old],
                             what="a new run of %s" % s)[0]
            text = wait_until(lambda: _read_some(err_r), what="the warning")
            assert "unable to write" in text and supervise_pid(s) == old
        finally:
            resource.prlimit(runner.pid, resource.RLIMIT_FSIZE, (soft, hard))
        wait_until(lambda: supervise_pid(s) == new and state(s).get("pid") == new,
                   what="the records to show pid %d" % new)
        assert state(s)["state"] == "running"
        assert "unable to write" not in _read_some(err_r)   # retries say nothing more
    finally:
        os.close(err_r)
        os.close(err_w)


def _read_some(fd):
    try:
        return os.read(fd, 65536).decode()
    except BlockingIOError:
        return ""
