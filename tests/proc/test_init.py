"""pv-run --init: exit codes, signals, reaping, leftovers, process 1 (pv-run(1), INIT MODE)."""

import os
import select
import signal
import subprocess
import sys
import time

import pytest

from support import SHORT_TIMEOUT, bin_path, proc_list, proc_stat, wait_until, write_exec

PY = sys.executable

# Prints "ready" once its handler is in place; "Caught TERM" and exits 3 on SIGTERM.
TERM_CHILD = """import signal, sys, time
def caught(signum, frame):
    print("Caught TERM", flush=True)
    sys.exit(3)
signal.signal(signal.SIGTERM, caught)
print("ready", flush=True)
time.sleep(60)
"""

# Writes its pid to argv[1] (after ignoring SIGTERM if argv[2] == "ignore"), then sleeps.
LEFTOVER = """import os, signal, sys, time
if sys.argv[2] == "ignore":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
"""


@pytest.fixture
def init(procs, tmp_path):
    """start(*command, env=..., stdout=...) -> the Popen of pv-run --init -- command.

    Every pid written to tmp_path/*.pid is killed afterwards, as is pv-run's session.
    """
    def start(*command, **kwargs):
        env = dict(os.environ)
        env.update(kwargs.pop("env", {}))
        kwargs.setdefault("stderr", subprocess.PIPE)
        return procs.start([bin_path("pv-run"), "--init", "--"] + list(command),
                           cwd=str(tmp_path), env=env, **kwargs)
    write_exec(str(tmp_path / "leftover"), "#!%s\n%s" % (PY, LEFTOVER))
    yield start
    for name in os.listdir(str(tmp_path)):
        if name.endswith(".pid"):
            try:
                os.kill(int(read_text(tmp_path / name)), signal.SIGKILL)
            except (OSError, ValueError):
                pass


def read_text(path):
    with open(str(path)) as f:
        return f.read()


def finish(proc, timeout=SHORT_TIMEOUT):
    """(returncode, stderr text) once ``proc`` exits; fail after ``timeout``."""
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, (err or b"").decode()


def read_line(stream, timeout=SHORT_TIMEOUT):
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, "no line within %.0f s" % timeout
    return stream.readline().decode().strip()


def zombie_children(ppid):
    return [pid for pid, letter, parent in proc_list() if parent == ppid and letter == "Z"]


def pid_in(path):
    return wait_until(lambda: os.path.exists(str(path)) and int(read_text(path)),
                      what="a pid in %s" % path)


@pytest.mark.parametrize("code", [0, 1, 7, 100])
def test_exit_code_is_the_commands(init, code):
    assert finish(init("sh", "-c", "exit %d" % code)) == (code, "")


def test_death_by_signal_is_reraised(init):
    code, err = finish(init("sh", "-c", "kill -USR1 $$"))
    assert code == -signal.SIGUSR1 and err == ""


def test_command_not_found_exits_127(init):
    code, err = finish(init("pv-no-such-command"))
    assert code == 127
    assert err == "pv-run: fatal: unable to start pv-no-such-command: No such file or directory\n"


def test_command_not_executable_exits_126(init, tmp_path):
    path = tmp_path / "script"
    path.write_text("#!/bin/sh\nexit 0\n")
    os.chmod(str(path), 0o644)
    code, err = finish(init(str(path)))
    assert code == 126 and err.endswith(": Permission denied\n"), err


def test_no_command_is_usage():
    out = subprocess.run([bin_path("pv-run"), "--init", "--"], stderr=subprocess.PIPE,
                         timeout=SHORT_TIMEOUT)
    assert out.returncode == 100 and b"usage: pv-run" in out.stderr


def test_command_found_through_path(init):
    assert finish(init("true")) == (0, "")


def test_term_is_forwarded_to_the_command(init):
    proc = init(PY, "-c", TERM_CHILD, stdout=subprocess.PIPE)
    assert read_line(proc.stdout) == "ready"
    proc.send_signal(signal.SIGTERM)
    assert read_line(proc.stdout) == "Caught TERM"
    assert finish(proc) == (3, "")


def test_signals_reach_the_commands_process_group(init, tmp_path):
    # The sleeper, a grandchild in the command's group, ignores TERM: with a 20 s
    # grace only the forwarded USR1 can end it in time.
    script = "trap 'exit 4' USR1; ./leftover x.pid ignore & wait"
    proc = init("sh", "-c", script, env={"PV_INIT_GRACE_MS": "20000"})
    sleeper = pid_in(tmp_path / "x.pid")
    proc.send_signal(signal.SIGUSR1)
    wait_until(lambda: proc_stat(sleeper) is None, what="the grandchild to die of SIGUSR1")
    assert finish(proc) == (4, "")


def test_orphaned_zombie_is_reaped(init, tmp_path):
    os.mkfifo(str(tmp_path / "go"))
    # ( ... & ) double-forks: the grandchild is orphaned and reparented to pv-run.
    write_exec(str(tmp_path / "orphan"), "#!/bin/sh\necho $$ > g.pid; read x < go\n")
    proc = init("sh", "-c", "(./orphan &); exec sleep 60")
    grandchild = pid_in(tmp_path / "g.pid")
    wait_until(lambda: (proc_stat(grandchild) or ("", 0))[1] == proc.pid,
               what="the orphan to be reparented to pv-run")
    with open(str(tmp_path / "go"), "w") as f:
        f.write("\n")
    wait_until(lambda: proc_stat(grandchild) is None, what="the orphan to be reaped")
    assert zombie_children(proc.pid) == []
    assert proc_stat(proc.pid)[0] != "Z"   # pv-run still serves its command


def test_leftovers_are_terminated_at_once(init, tmp_path):
    script = "./leftover a.pid normal & while [ ! -s a.pid ]; do sleep 0.01; done; exit 5"
    started = time.monotonic()
    proc = init("sh", "-c", script, env={"PV_INIT_GRACE_MS": "20000"})
    assert finish(proc) == (5, "")
    assert time.monotonic() - started < 10     # TERM did it, not the 20 s deadline
    assert proc_stat(int(read_text(tmp_path / "a.pid"))) is None


def test_leftovers_ignoring_term_are_killed_at_the_deadline(init, tmp_path):
    # One stays in the group, one escapes into its own session: both are descendants.
    script = ("./leftover a.pid ignore & setsid ./leftover b.pid ignore & "
              "while [ ! -s a.pid ] || [ ! -s b.pid ]; do sleep 0.01; done; exit 6")
    proc = init("sh", "-c", script, env={"PV_INIT_GRACE_MS": "600"})
    pids = [pid_in(tmp_path / "a.pid"), pid_in(tmp_path / "b.pid")]
    started = time.monotonic()
    assert finish(proc) == (6, "")
    elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 5, elapsed
    assert [proc_stat(pid) for pid in pids] == [None, None]


def unshare_works():
    if os.geteuid() != 0:
        return False
    try:
        return subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"],
                              stderr=subprocess.DEVNULL, timeout=SHORT_TIMEOUT).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


# Inside the namespace: orphan a grandchild, let it exit, check process 1 reaped it.
PID1_SCRIPT = """
[ "$(cut -d' ' -f4 /proc/$$/stat)" = 1 ] || exit 2   # our parent is process 1
(./orphan &)
while [ ! -s g.pid ]; do sleep 0.01; done
g=$(cat g.pid)
echo > go
i=0
while [ -e /proc/$g ]; do
    i=$((i+1)); [ $i -lt 500 ] || exit 1; sleep 0.01
done
exit 9
"""


@pytest.fixture
def pid1(procs, tmp_path):
    if not unshare_works():
        pytest.skip("unshare --pid --fork --mount-proc is not available (needs root)")

    def start(*command):
        return procs.start(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
                            bin_path("pv-run"), "--init", "--"] + list(command),
                           cwd=str(tmp_path), stderr=subprocess.PIPE)
    return start


def test_as_process_1_orphans_are_reaped_and_the_code_propagates(pid1, tmp_path):
    os.mkfifo(str(tmp_path / "go"))
    write_exec(str(tmp_path / "orphan"), "#!/bin/sh\necho $$ > g.pid; read x < go\n")
    assert finish(pid1("sh", "-c", PID1_SCRIPT)) == (9, "")


def test_as_process_1_death_by_signal_is_128_plus_n(pid1):
    assert finish(pid1("sh", "-c", "kill -USR1 $$")) == (128 + signal.SIGUSR1, "")
