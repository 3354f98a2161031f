"""pv-scan hears its directory change (inotify): no command, no 5 s poll.

Each test starts pv-scan, waits until it supervises what is there, and only
then changes the directory: the periodic mtime check is then about 5 s away,
so a change acted on within ``FAR_BELOW_POLL`` was heard, not polled for.
"""

import os
import sys
import time

from support import alive, is_supervised, make_service, marked_pids, read, wait_pid, wait_until

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "lib"))
from pv.supervise import inotify  # noqa: E402

SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"
MTIME_CHECK_SECS = 5.0     # pv-scan(1): the fallback poll
FAR_BELOW_POLL = 2.0       # generous for a loaded machine, still well below the poll


def scandir_with(tmp_path, *names):
    d = tmp_path / "D"
    d.mkdir()
    for name in names:
        make_service(d, name, SLEEP_RUN, {})
    return str(d)


def test_a_new_symlink_starts_at_once(procs, tmp_path):
    d = scandir_with(tmp_path, "a")
    procs.pv_scan(d, ["a"])
    real = make_service(tmp_path / "elsewhere", "new", SLEEP_RUN, {})
    begin = time.monotonic()
    os.symlink(real, os.path.join(d, "new"))
    wait_pid(real, timeout=FAR_BELOW_POLL)
    assert time.monotonic() - begin < FAR_BELOW_POLL


def test_a_removed_symlink_is_taken_down_at_once(procs, tmp_path):
    d = scandir_with(tmp_path, "a")
    real = make_service(tmp_path / "elsewhere", "gone", SLEEP_RUN, {})
    os.symlink(real, os.path.join(d, "gone"))
    procs.pv_scan(d, ["a", "gone"])
    pid = wait_pid(real)
    os.unlink(os.path.join(d, "gone"))
    wait_until(lambda: not is_supervised(real), timeout=FAR_BELOW_POLL,
               what="gone's supervisor to let go")
    assert not alive(pid) and marked_pids(real) == []
    assert read(os.path.join(real, "supervise", "stat")) == "down\n"


def test_a_retargeted_symlink_runs_the_new_target_at_once(procs, tmp_path):
    d = scandir_with(tmp_path)
    old = make_service(tmp_path / "v1", "app", SLEEP_RUN, {})
    new = make_service(tmp_path / "v2", "app", SLEEP_RUN, {})
    os.symlink(old, os.path.join(d, "app"))
    procs.pv_scan(d, ["app"])
    old_pid = wait_pid(old)
    tmp_link = os.path.join(d, ".app.new")      # a dot entry: never supervised itself
    os.symlink(new, tmp_link)
    os.replace(tmp_link, os.path.join(d, "app"))     # ln -sfn, atomically
    wait_pid(new, timeout=FAR_BELOW_POLL)
    wait_until(lambda: not is_supervised(old), timeout=FAR_BELOW_POLL, what="v1 to be let go")
    assert not alive(old_pid)
    assert marked_pids(os.path.join(d, ".app.new")) == []


def test_a_broken_link_whose_target_appears_is_found_by_the_poll(procs, tmp_path):
    # No event on D announces a directory made elsewhere: pv-scan keeps its
    # mtime timer running while an entry has a problem.
    d = scandir_with(tmp_path, "a")
    errors = str(tmp_path / "errors")
    with open(errors, "w") as stderr:
        procs.pv_scan(d, ["a"], stderr=stderr)
    target = str(tmp_path / "later" / "svc")
    os.symlink(target, os.path.join(d, "svc"))
    wait_until(lambda: "broken symbolic link" in read(errors, ""),
               timeout=FAR_BELOW_POLL, what="the broken link to be reported")
    make_service(tmp_path / "later", "svc", SLEEP_RUN, {})
    wait_pid(target, timeout=MTIME_CHECK_SECS + 3.0)


def test_many_links_made_at_once_all_start(procs, tmp_path):
    d = scandir_with(tmp_path)
    procs.pv_scan(d)
    reals = [make_service(tmp_path / "many", "s%03d" % n, SLEEP_RUN, {}) for n in range(60)]
    for real in reals:
        os.symlink(real, os.path.join(d, os.path.basename(real)))
    for real in reals:
        wait_pid(real, timeout=FAR_BELOW_POLL * 3)


def _event(mask, name=b"", wd=1):
    size = (len(name) + 1 + 15) // 16 * 16 if name else 0
    header = b"".join(int(v).to_bytes(4, sys.byteorder) for v in (wd, mask, 0, size))
    return header + name.ljust(size, b"\0")


def test_parse_reads_names_overflow_and_the_directory_going():
    data = (_event(inotify.IN_CREATE, b"new") + _event(inotify.IN_DELETE, b"old")
            + _event(inotify.IN_MOVED_TO, b"a-rather-long-name-over-16") + _event(0x2, b"modified"))
    assert inotify.parse(data) == ({"new", "old", "a-rather-long-name-over-16"}, False, False)
    assert inotify.parse(_event(inotify.IN_Q_OVERFLOW, wd=-1 & 0xFFFFFFFF)) == (set(), True, False)
    assert inotify.parse(_event(inotify.IN_DELETE_SELF) + _event(inotify.IN_IGNORED))[2] is True
    assert inotify.parse(b"") == (set(), False, False)


def test_watch_gives_a_descriptor_that_hears_a_new_entry_and_keeps_no_module(tmp_path):
    before = set(sys.modules)
    fd = inotify.watch(str(tmp_path))
    assert set(sys.modules) - before == set()      # ctypes dropped again
    try:
        (tmp_path / "x").mkdir()
        assert inotify.parse(os.read(fd, 4096))[0] == {"x"}
    finally:
        os.close(fd)


def test_watch_of_a_missing_directory_is_unavailable(tmp_path):
    try:
        inotify.watch(str(tmp_path / "missing"))
    except inotify.Unavailable as exc:
        assert exc.reason == "No such file or directory"
    else:
        raise AssertionError("a watch on a missing directory")
