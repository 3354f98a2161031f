"""pv-scan through its command and the on-disk protocol, with real processes.

Every pv-scan is started through ``procs.pv_scan`` (support.py), which
registers the scan directory's parent as a marker: the ``procs`` finaliser
kills pv-scan and then every process whose PV_SERVICE lies under it, orphans
of a killed pv-scan included.
"""

import os
import resource
import shutil
import signal
import subprocess
import time

import pytest

from support import (SHORT_TIMEOUT, TOP, alive, bin_path, is_supervised, marked_pids, proc_list, read,
                     state, supervise_pid, svc, wait_pid, wait_state, wait_until)

SLEEP_RUN = "#!/bin/sh\nexec sleep 1000\n"
DEAF_RUN = "#!/bin/sh\ntrap '' TERM\nexec sleep 1000\n"   # sleep inherits the ignored TERM
MTIME_CHECK_SECS = 5.0     # pv.scan.MTIME_CHECK_SECS, the contract of pv-scan(1)


# --- helpers -------------------------------------------------------------------------
def scan_command(scandir, letters):
    fd = os.open(os.path.join(str(scandir), ".pv-scan", "control"), os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.write(fd, letters.encode())
    finally:
        os.close(fd)


def service(parent, name, run=SLEEP_RUN, **files):
    """A service directory parent/name (knob names as in make_service: timeout_kill=...)."""
    from support import make_service
    return make_service(parent, name, run, files)


def scandir_with(tmp_path, *names, **runs):
    """tmp_path/D holding a sleeping service per name (or the run given in ``runs``)."""
    d = tmp_path / "D"
    d.mkdir()
    for name in names:
        service(d, name)
    for name, run in runs.items():
        service(d, name, run)
    return str(d)


class Errors:
    """pv-scan's standard error, in a file."""

    def __init__(self, tmp_path):
        self.path = str(tmp_path / "stderr")
        self.file = open(self.path, "w")

    def text(self):
        return read(self.path, "")

    def lines(self):
        return self.text().splitlines()


def sessions(marker):
    """The sessions of the live processes marked with ``marker``."""
    found = set()
    for pid in marked_pids(marker):
        try:
            found.add(os.getsid(pid))
        except OSError:
            pass   # it died since /proc was read
    return found


def proc_status(pid, key):
    for line in read("/proc/%d/status" % pid, "").splitlines():
        if line.startswith(key + ":"):
            return line.split()[1:]
    return []


def children(pid):
    """{pid: stat state letter} of ``pid``'s children, from /proc."""
    return {child: letter for child, letter, ppid in proc_list() if ppid == pid}


# --- what is a service -----------------------------------------------------------
def test_plain_and_symlinked_dirs_are_supervised_dot_entries_are_not(procs, tmp_path):
    d = scandir_with(tmp_path, "plain", ".hidden")
    real = service(tmp_path / "elsewhere", "linked")
    os.symlink(real, os.path.join(d, "linked"))
    proc = procs.pv_scan(d, ["plain", "linked"])
    for name, real_path in (("plain", os.path.join(d, "plain")), ("linked", real)):
        s = os.path.join(d, name)
        pid = wait_pid(s)
        sup = os.path.join(s, "supervise")
        assert read(os.path.join(sup, "stat")) == "run\n"
        assert read(os.path.join(sup, "pid")) == "%d\n" % pid
        status = open(os.path.join(sup, "status"), "rb").read()
        assert len(status) == 20 and int.from_bytes(status[12:16], "little") == pid
        assert status[17:18] == b"u" and status[19] == 1
        assert state(s)["supervisor"] == proc.pid
        env = open("/proc/%d/environ" % pid, "rb").read().split(b"\0")
        # A link is followed once, when supervision begins (as runsv's chdir).
        assert ("PV_SERVICE=" + real_path).encode() in env
    # The link's supervise/ is in the directory it points to.
    assert os.path.isdir(os.path.join(real, "supervise"))
    assert not os.path.exists(os.path.join(d, ".hidden", "supervise"))
    assert marked_pids(os.path.join(d, ".hidden")) == []
    assert sorted(os.listdir(os.path.join(d, ".pv-scan"))) == ["control", "events", "lock"]


def test_sv_and_svc_cannot_tell_pv_scan_from_runsv(procs, tmp_path):
    if not os.path.exists("/usr/bin/sv"):
        pytest.skip("runit's sv is not installed")
    d = scandir_with(tmp_path, "a")
    procs.pv_scan(d, ["a"])
    s = os.path.join(d, "a")
    pid = wait_pid(s)
    out = subprocess.run(["sv", "status", s], stdout=subprocess.PIPE, timeout=SHORT_TIMEOUT)
    assert out.stdout.decode().startswith("run: %s: (pid %d)" % (s, pid))
    subprocess.run(["sv", "down", s], stdout=subprocess.DEVNULL, timeout=SHORT_TIMEOUT)
    wait_state(s, "down")
    assert not alive(pid)


# --- rescans ---------------------------------------------------------------------
@pytest.mark.parametrize("how", ["h", "SIGHUP"])
def test_added_symlink_runs_within_a_second_of_a_rescan(procs, tmp_path, how):
    d = scandir_with(tmp_path, "a")
    proc = procs.pv_scan(d, ["a"])
    real = service(tmp_path / "elsewhere", "new")
    os.symlink(real, os.path.join(d, "new"))
    # The periodic check is 5 s away: only the command can find it this soon.
    begin = time.monotonic()
    if how == "h":
        scan_command(d, "h")
    else:
        proc.send_signal(signal.SIGHUP)
    wait_pid(os.path.join(d, "new"), timeout=1.0)
    assert time.monotonic() - begin < 1.0
    assert proc.poll() is None


def test_added_symlink_is_found_by_the_mtime_check_alone(procs, tmp_path):
    d = scandir_with(tmp_path, "a", "quit")
    procs.pv_scan(d, ["a", "quit"])
    quit = os.path.join(d, "quit")
    svc(quit, "x")      # released: a periodic rescan must not take it back
    wait_until(lambda: not is_supervised(quit), what="quit to be released")
    real = service(tmp_path / "elsewhere", "new")
    begin = time.monotonic()
    os.symlink(real, os.path.join(d, "new"))
    wait_pid(os.path.join(d, "new"), timeout=MTIME_CHECK_SECS + 1.5)
    assert time.monotonic() - begin < MTIME_CHECK_SECS + 1.0
    assert not is_supervised(quit) and marked_pids(quit) == []


def test_removed_symlink_is_taken_down_and_dropped(procs, tmp_path):
    d = scandir_with(tmp_path, "a")
    real = service(tmp_path / "elsewhere", "gone", run="#!/bin/sh\nsleep 1000 &\nexec sleep 1000\n")
    os.symlink(real, os.path.join(d, "gone"))
    procs.pv_scan(d, ["a", "gone"])
    keep = wait_pid(os.path.join(d, "a"))
    pid = wait_pid(os.path.join(d, "gone"))
    wait_until(lambda: len(marked_pids(real)) == 2)
    os.unlink(os.path.join(d, "gone"))
    scan_command(d, "h")
    wait_until(lambda: not is_supervised(real), what="gone's supervisor to let go")
    assert not alive(pid) and marked_pids(real) == []
    assert read(os.path.join(real, "supervise", "stat")) == "down\n"
    assert state(real)["want"] == "exit"
    assert supervise_pid(os.path.join(d, "a")) == keep and alive(keep)


def test_retargeted_symlink_supervises_the_new_target_at_once(procs, tmp_path):
    d = scandir_with(tmp_path)
    old = service(tmp_path / "v1", "app")
    new = service(tmp_path / "v2", "app")
    os.symlink(old, os.path.join(d, "app"))
    procs.pv_scan(d, ["app"])
    old_pid = wait_pid(old)
    tmp_link = os.path.join(d, ".app.new")
    os.symlink(new, tmp_link)
    os.replace(tmp_link, os.path.join(d, "app"))     # ln -sfn, atomically
    scan_command(d, "h")
    wait_until(lambda: not is_supervised(old), what="v1 to be let go")
    assert not alive(old_pid)
    wait_pid(new, timeout=2.0)      # one rescan is enough, as for a new name


def test_link_put_back_while_its_service_stops_is_taken_back_once_it_is_down(procs, tmp_path):
    d = scandir_with(tmp_path)
    real = service(tmp_path / "elsewhere", "slow", run=DEAF_RUN, timeout_kill="1000")
    link = os.path.join(d, "slow")
    os.symlink(real, link)
    errors = Errors(tmp_path)
    procs.pv_scan(d, ["slow"], stderr=errors.file)
    old = wait_pid(real)
    os.unlink(link)
    scan_command(d, "h")
    wait_state(real, "stopping")
    os.symlink(real, link)      # back before the old run has died (TERM is ignored)
    scan_command(d, "h")
    deadline = time.monotonic() + SHORT_TIMEOUT
    while supervise_pid(real) in (0, old) or state(real).get("state") != "running":
        assert len(sessions(real)) <= 1, "two instances of slow alive at once"
        assert time.monotonic() < deadline, "slow never came back"
        time.sleep(0.01)
    assert not alive(old) and errors.text() == ""


def test_a_file_in_place_of_the_control_fifo_is_replaced(procs, tmp_path):
    d = scandir_with(tmp_path, "a")
    os.mkdir(os.path.join(d, ".pv-scan"))
    with open(os.path.join(d, ".pv-scan", "control"), "w") as f:
        f.write("junk\n")
    procs.pv_scan(d, ["a"])
    import stat
    assert stat.S_ISFIFO(os.stat(os.path.join(d, ".pv-scan", "control")).st_mode)
    service(d, "b")
    scan_command(d, "h")
    wait_pid(os.path.join(d, "b"))


def test_x_on_one_service_releases_it_until_the_next_rescan(procs, tmp_path):
    d = scandir_with(tmp_path, "a", "b")
    proc = procs.pv_scan(d, ["a", "b"])
    a, b = os.path.join(d, "a"), os.path.join(d, "b")
    apid, bpid = wait_pid(a), wait_pid(b)
    svc(a, "x")
    wait_until(lambda: not is_supervised(a), what="a to be released")
    assert not alive(apid) and proc.poll() is None
    assert supervise_pid(b) == bpid and state(a)["want"] == "exit"
    scan_command(d, "h")      # an explicit rescan takes it back
    assert wait_pid(a) != apid
    assert state(a)["want"] == "up" and supervise_pid(b) == bpid


# --- entries that are not services -----------------------------------------------
def test_bad_entries_are_reported_once_and_skipped(procs, tmp_path):
    d = scandir_with(tmp_path, "good")
    os.symlink(str(tmp_path / "nowhere"), os.path.join(d, "broken"))
    with open(os.path.join(d, "file"), "w") as f:
        f.write("not a service\n")
    os.symlink("loop", os.path.join(d, "loop"))       # ELOOP: os.stat fails otherwise
    locked = service(d, "locked")
    os.chmod(locked, 0)
    root = os.access(locked, os.R_OK | os.X_OK)       # root passes access checks
    errors = Errors(tmp_path)
    try:
        proc = procs.pv_scan(d, ["good"], stderr=errors.file)
        good = wait_pid(os.path.join(d, "good"))
        for n in range(2):   # two explicit rescans, each proved by a service it starts
            service(d, "new%d" % n)
            scan_command(d, "h")
            wait_pid(os.path.join(d, "new%d" % n))
    finally:
        os.chmod(locked, 0o755)
    lines = errors.lines()
    expected = {
        "broken": "broken symbolic link",
        "file": "not a directory",
        "loop": "Too many levels of symbolic links",
    }
    if not root:
        expected["locked"] = "permission denied"
    for name, reason in expected.items():
        line = "pv-scan: warning: unable to supervise %s/%s: %s" % (d, name, reason)
        assert lines.count(line) == 1, (line, lines)
    assert len(lines) == len(expected), lines
    assert supervise_pid(os.path.join(d, "good")) == good and proc.poll() is None
    for name in ("broken", "file", "loop"):
        assert marked_pids(os.path.join(d, name)) == []


def test_a_service_locked_by_another_supervisor_is_reported_once(procs, tmp_path):
    # pv-run already supervises D/a: pv-scan cannot lock it, says so once, and
    # takes it over on a later rescan once pv-run has gone.
    d = scandir_with(tmp_path, "a", "b")
    a = os.path.join(d, "a")
    run = procs.pv_run(a)
    apid = wait_pid(a)
    errors = Errors(tmp_path)
    procs.pv_scan(d, ["b"], stderr=errors.file)
    for n in range(2):
        service(d, "new%d" % n)
        scan_command(d, "h")
        wait_pid(os.path.join(d, "new%d" % n))
    line = ("pv-scan: warning: unable to lock %s/supervise/lock: another supervisor is running"
            % a)
    assert errors.lines().count(line) == 1, errors.lines()
    assert supervise_pid(a) == apid and state(a)["supervisor"] == run.pid
    run.send_signal(signal.SIGTERM)
    assert run.wait(timeout=SHORT_TIMEOUT) == 0
    scan_command(d, "h")
    wait_pid(a)
    assert state(a)["supervisor"] != run.pid


def test_broken_runs_do_not_disturb_the_others(procs, tmp_path):
    d = scandir_with(tmp_path, "good1", "good2", quick="#!/bin/sh\nexit 1\n")
    os.mkdir(os.path.join(d, "missing"))
    with open(os.path.join(service(d, "noexec"), "run"), "w") as f:
        f.write(SLEEP_RUN)
    os.chmod(os.path.join(d, "noexec", "run"), 0o644)
    errors = Errors(tmp_path)
    proc = procs.pv_scan(d, ["good1", "good2", "quick", "missing", "noexec"],
                   stderr=errors.file)
    goods = [os.path.join(d, n) for n in ("good1", "good2")]
    pids = [wait_pid(s) for s in goods]
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        assert [supervise_pid(s) for s in goods] == pids
        assert all(alive(p) for p in pids)
        time.sleep(0.05)
    for s in goods:
        assert state(s)["restarts"] == 0 and state(s)["state"] == "running"
    assert state(os.path.join(d, "quick"))["restarts"] >= 2
    text = errors.text()
    assert ("pv-scan %s/missing: warning: unable to start ./run: No such file or directory"
            % d) in text
    assert "pv-scan %s/noexec: warning: unable to start ./run: Permission denied" % d in text
    assert proc.poll() is None


# --- the log pipe ------------------------------------------------------------------
def test_log_subdirectory_is_joined_by_a_pipe(procs, tmp_path):
    d = scandir_with(tmp_path)
    s = service(d, "x", run="#!/bin/sh\necho hello from run\nexec sleep 1000\n",
                log__run="#!/bin/sh\nexec cat >> ../logged\n")
    procs.pv_scan(d, ["x", "x/log"])
    wait_until(lambda: read(os.path.join(s, "logged")) == "hello from run\n",
               what="the line to reach the logger")
    pid, logpid = wait_pid(s), wait_pid(os.path.join(s, "log"))
    assert os.readlink("/proc/%d/fd/1" % pid) == os.readlink("/proc/%d/fd/0" % logpid)
    # A restarted service writes into the same pipe.
    os.kill(pid, signal.SIGKILL)
    wait_pid(s, not_pid=pid)
    wait_until(lambda: read(os.path.join(s, "logged")) == "hello from run\n" * 2)
    assert supervise_pid(os.path.join(s, "log")) == logpid


# --- taking everything down -----------------------------------------------------------
@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "x"])
def test_everything_goes_down_in_parallel_then_exit_0(procs, tmp_path, how):
    d = scandir_with(tmp_path)
    names = ["deaf1", "deaf2"]
    for name in names:
        service(d, name, run=DEAF_RUN, timeout_kill="1000")
    proc = procs.pv_scan(d, names)
    pids = [wait_pid(os.path.join(d, n)) for n in names]
    begin = time.monotonic()
    if how == "x":
        scan_command(d, "x")
    else:
        proc.send_signal(getattr(signal, how))
    assert proc.wait(timeout=SHORT_TIMEOUT) == 0
    took = time.monotonic() - begin
    assert 0.9 < took, took      # each waited out its timeout-kill (1 s)
    # In parallel: both went down together; one after the other they would be
    # a timeout-kill (1 s) apart.  (Compared this way, a loaded machine that
    # slows the whole shutdown cannot fail the test.)
    downs = [state(os.path.join(d, n))["since"] for n in names]
    assert abs(downs[0] - downs[1]) < 0.5, downs
    assert not any(alive(p) for p in pids) and marked_pids(d) == []
    for name in names:
        s = os.path.join(d, name)
        assert read(os.path.join(s, "supervise", "stat")) == "down\n"
        assert state(s)["exit_signal"] == signal.SIGKILL and not is_supervised(s)


def test_sigterm_with_nothing_running_exits_at_once(procs, tmp_path):
    d = scandir_with(tmp_path)
    service(d, "down", down="")
    proc = procs.pv_scan(d, ["down"])
    wait_state(os.path.join(d, "down"), "down")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=SHORT_TIMEOUT) == 0


# --- the command line --------------------------------------------------------------
def test_second_pv_scan_on_the_same_directory_exits_111(procs, tmp_path):
    d = scandir_with(tmp_path, "a")
    first = procs.pv_scan(d, ["a"])
    pid = wait_pid(os.path.join(d, "a"))
    second = subprocess.run([bin_path("pv-scan"), d], stderr=subprocess.PIPE,
                            timeout=SHORT_TIMEOUT)
    assert second.returncode == 111
    assert second.stderr.decode() == (
        "pv-scan: fatal: unable to lock %s/.pv-scan/lock: another pv-scan is running\n" % d)
    assert first.poll() is None and supervise_pid(os.path.join(d, "a")) == pid


def test_usage_and_not_a_directory_exit_100(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    cases = [([str(f)], "pv-scan: fatal: unable to scan %s: not a directory\n" % f),
             ([str(tmp_path / "none")],
              "pv-scan: fatal: unable to scan %s: file does not exist\n" % (tmp_path / "none")),
             ([], "pv-scan: usage: pv-scan [-h] DIR\n"),
             (["a", "b"], "pv-scan: usage: pv-scan [-h] DIR\n"),
             (["-v", "a"], "pv-scan: usage: pv-scan [-h] DIR\n")]
    for args, message in cases:
        r = subprocess.run([bin_path("pv-scan")] + args, stderr=subprocess.PIPE,
                           timeout=SHORT_TIMEOUT)
        assert (r.returncode, r.stderr.decode()) == (100, message)
    r = subprocess.run([bin_path("pv-scan"), "--help"], stdout=subprocess.PIPE,
                       timeout=SHORT_TIMEOUT)
    assert r.returncode == 0 and r.stdout.startswith(b"usage: pv-scan")


# --- crash and restart ------------------------------------------------------------
def test_restart_after_kill_9_never_runs_two_instances_and_keeps_want(procs, tmp_path):
    d = scandir_with(tmp_path, "app", "off")
    app, off = os.path.join(d, "app"), os.path.join(d, "off")
    first = procs.pv_scan(d, ["app", "off"])
    old = wait_pid(app)
    wait_pid(off)
    svc(off, "d")
    wait_state(off, "down")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=SHORT_TIMEOUT)
    assert alive(old) and not is_supervised(app)    # orphaned, still running
    errors = Errors(tmp_path)
    second = procs.pv_scan(d, stderr=errors.file)
    deadline = time.monotonic() + SHORT_TIMEOUT
    while not (supervise_pid(app) not in (0, old) and state(app).get("state") == "running"):
        assert len(sessions(app)) <= 1, "two instances of app alive at once"
        assert time.monotonic() < deadline, "app never came back"
        time.sleep(0.005)
    new = supervise_pid(app)
    assert not alive(old) and alive(new) and sessions(app) == {new}
    assert ("pv-scan %s: warning: taking down 1 process(es) left running by a previous "
            "supervisor: %d" % (app, old)) in errors.lines()
    wait_until(lambda: state(off).get("supervisor") == second.pid)
    assert state(off)["want"] == "down" and state(off)["state"] == "down"
    assert marked_pids(off) == []


# --- pv-scan as process 1 -----------------------------------------------------------
def test_reaps_orphans_as_pid_1_of_a_pid_namespace(procs, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("unshare --pid needs root")
    try:
        probe = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"],
                               stderr=subprocess.DEVNULL, timeout=SHORT_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        pytest.skip("unshare is not available")
    if probe.returncode != 0:
        pytest.skip("unshare --pid --fork --mount-proc fails here")
    d = scandir_with(tmp_path)
    # Each subshell starts a sleep and exits at once: five orphans that exit 0.5 s later.
    s = service(d, "orphans", run="#!/bin/sh\nfor i in 1 2 3 4 5; do\n"
                "  (sleep 0.5 & echo $! >> orphans)\ndone\nexec sleep 1000\n")
    procs.markers.append(d)
    unshare = procs.start(["unshare", "--pid", "--fork", "--mount-proc",
                           bin_path("pv-scan"), d])
    scan = wait_until(lambda: next(iter(children(unshare.pid)), 0), what="pv-scan to start")
    try:
        wait_until(lambda: ns_pid(scan) == "1" and is_supervised(s),
                   what="pv-scan to run as pid 1")
        wait_until(lambda: len(read(os.path.join(s, "orphans"), "").split()) == 5,
                   what="five orphans")
        orphans = set(read(os.path.join(s, "orphans")).split())
        run = str(wait_until(lambda: supervise_pid(s)))    # a pid in the namespace

        def orphans_left():
            return [pid for pid in children(scan) if ns_pid(pid) in orphans]
        wait_until(lambda: len(orphans_left()) == 5, what="pv-scan to inherit the orphans")
        wait_until(lambda: not orphans_left(), what="the orphans to be reaped")
        kids = children(scan)
        assert "Z" not in kids.values()
        assert [ns_pid(pid) for pid in kids] == [run]
    finally:
        # unshare ignores SIGTERM: stop pv-scan itself, and the namespace ends with it.
        os.kill(scan, signal.SIGTERM)
    assert unshare.wait(timeout=SHORT_TIMEOUT) == 0


def ns_pid(pid):
    """``pid`` as the innermost pid namespace sees it (None if it is gone)."""
    nspid = proc_status(pid, "NSpid")
    return nspid[-1] if nspid else None


# --- resources -------------------------------------------------------------------------
def vm_rss_kb(pid):
    return int(proc_status(pid, "VmRSS")[0])


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def test_fds_and_memory_stay_flat_over_many_respawns(procs, tmp_path):
    d = scandir_with(tmp_path, "a", "b")
    a = os.path.join(d, "a")
    proc = procs.pv_scan(d, ["a", "b"])
    pid = wait_pid(a)

    def respawn(pid):
        svc(a, "k")
        # Quick deaths back off; 'u' in backoff starts at once (and resets the count).
        def next_pid():
            if state(a).get("state") == "backoff":
                svc(a, "u")
            return supervise_pid(a) if _running_anew(a, pid) else 0
        return wait_until(next_pid, what="a new pid of a")

    for _ in range(30):     # warm up: every code path taken, every lazy import done
        pid = respawn(pid)
    fds, rss = fd_count(proc.pid), vm_rss_kb(proc.pid)
    for _ in range(300):
        pid = respawn(pid)
    assert fd_count(proc.pid) == fds
    assert vm_rss_kb(proc.pid) - rss <= 1024, (rss, vm_rss_kb(proc.pid))
    assert state(a)["restarts"] >= 100


def _running_anew(service_dir, old):
    new = supervise_pid(service_dir)
    return new not in (0, old) and state(service_dir).get("state") == "running" and alive(new)


def test_services_get_the_file_limit_pv_scan_was_started_with(procs, tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 256:
        pytest.skip("the hard limit leaves no room to raise")
    d = scandir_with(tmp_path)
    s = service(d, "u", run="#!/bin/sh\nulimit -n > nofile\nexec sleep 1000\n")

    def low_soft_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    procs.pv_scan(d, ["u"], preexec_fn=low_soft_limit)
    wait_until(lambda: read(os.path.join(s, "nofile")))
    assert read(os.path.join(s, "nofile")) == "256\n"


def test_stops_every_service_when_its_own_files_are_gone(procs, tmp_path):
    """An upgrade removed pv's files under a running pv-scan: SIGTERM still
    takes every service down (the stop path imports nothing: before, the
    needs graph was first loaded at shutdown, and pv-scan died of it)."""
    tree = tmp_path / "pv"
    for part in ("bin", "lib"):
        shutil.copytree(os.path.join(TOP, part), str(tree / part))
    d = tmp_path / "sv"
    for name in ("db", "app"):
        (d / name).mkdir(parents=True)
        (d / name / "run").write_text(SLEEP_RUN)
        (d / name / "run").chmod(0o755)
    procs.markers.append(str(d))
    scan = procs.start([str(tree / "bin" / "pv-scan"), str(d)], stderr=subprocess.PIPE)
    pids = [wait_pid(str(d / name)) for name in ("db", "app")]
    shutil.rmtree(str(tree))
    scan.send_signal(signal.SIGTERM)
    _, err = scan.communicate(timeout=SHORT_TIMEOUT)
    assert (scan.returncode, err) == (0, b"")
    assert not any(alive(pid) for pid in pids) and marked_pids(str(d)) == []
