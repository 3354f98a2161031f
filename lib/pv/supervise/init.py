"""Init mode: one command as a container's process 1 (tini's and dumb-init's job).

The command runs in its own process group, in our session (it keeps the
terminal; when we hold the terminal's foreground we hand it over, as a shell
does for a job).  Signals we get are forwarded to that group; SIGCHLD drives
the reaping of every zombie (we are process 1, or a child subreaper).  When
the command exits, whatever it left behind is sent SIGTERM, then SIGKILL at
the grace deadline, and we wait for it before reporting how the command
ended.  The loop blocks between events: no polling.

A process group rather than a session (dumb-init's ``setsid``): the command
keeps the controlling terminal without the TIOCSCTTY dance, and a group is
what ``killpg`` needs.  Without the handover, a command reading the terminal
from a background group would be stopped by SIGTTIN.
"""

import errno
import os

from pv.supervise import procs
from pv.supervise import spawn
from pv.supervise.loop import Loop
from pv.signames import signal

FORWARDED = tuple(getattr(signal, "SIG" + name) for name in (
    "TERM", "INT", "HUP", "QUIT", "USR1", "USR2", "WINCH", "ALRM", "CONT"))
# Reset in the command: everything we catch or ignore (SIGTTIN/SIGTTOU are
# ignored here so that a background pv-run can still write to the terminal).
RESET = tuple(sorted(set(spawn.RESET_SIGNALS + FORWARDED + (
    signal.SIGTTIN, signal.SIGTTOU, signal.SIGCHLD))))
DEFAULT_GRACE = 5.0     # seconds from the command's exit to SIGKILL for what it left
KILL_WAIT = 1.0         # seconds we wait after SIGKILL before giving up on stragglers


class StartError(Exception):
    """The command could not be executed; ``code`` is what sh would exit with."""

    def __init__(self, command, exc):
        super().__init__(command, exc)
        self.command = command
        self.reason = exc.strerror or os.strerror(exc.errno or 0)
        self.code = 127 if exc.errno == errno.ENOENT else 126


class Init:
    """Run ``argv`` until it and everything it left are gone; ``run()`` -> wait status."""

    def __init__(self, argv, grace=DEFAULT_GRACE):
        self.argv = list(argv)
        self.grace = grace
        self.loop = Loop()
        self.pid = 0            # the command's pid, and its process group's id
        self.status = None      # the command's wait status, once reaped
        self.draining = False
        self._kill_timer = None

    def run(self):
        """Start the command, serve until everything is gone; StartError if exec fails."""
        if os.getpid() != 1:
            procs.become_subreaper()
        for signum in (signal.SIGTTIN, signal.SIGTTOU):
            signal.signal(signum, signal.SIG_IGN)
        self.loop.on_signal(signal.SIGCHLD, self._on_sigchld)
        for signum in FORWARDED:
            self.loop.on_signal(signum, self._forward)
        try:
            self.pid = self._spawn()
        except OSError as exc:
            raise StartError(self.argv[0], exc) from None
        hand_terminal_to(self.pid)
        self._on_sigchld(signal.SIGCHLD)   # a SIGCHLD may have come before the loop runs
        self.loop.run()
        return self.status

    def _spawn(self):
        return os.posix_spawnp(self.argv[0], self.argv, dict(os.environ), setpgroup=0,
                               setsigmask=(), setsigdef=RESET)

    def close(self):
        self.loop.close()
        for signum in (signal.SIGTTIN, signal.SIGTTOU):
            signal.signal(signum, signal.SIG_DFL)

    # --- events -----------------------------------------------------------
    def _forward(self, signum):
        send(self._leftovers() if self.draining else (), signum, self.pid)

    def _on_sigchld(self, signum):
        for pid, status in procs.reap():
            if pid == self.pid:
                self.status = status
            # else: an orphan adopted as subreaper or process 1, now reaped
        if self.status is not None and not self.draining:
            self._drain()
        if self.draining and not has_children():
            self.loop.stop()

    def _drain(self):
        """The command is gone: TERM (and CONT) to what it left, KILL at the deadline."""
        self.draining = True
        left = self._leftovers()
        if not left and not has_children():
            return
        for signum in (signal.SIGTERM, signal.SIGCONT):
            send(left, signum, self.pid)
        self._kill_timer = self.loop.call_later(self.grace, self._kill)

    def _kill(self):
        send(self._leftovers(), signal.SIGKILL, self.pid)
        # A process in uninterruptible sleep may never die: do not wait forever.
        self.loop.call_later(KILL_WAIT, self.loop.stop)

    def _leftovers(self):
        """Live descendants of ours (the command is gone; orphans were reparented to us)."""
        table = procs.proc_table()
        me = os.getpid()
        return sorted(pid for pid in procs.with_descendants(table, [me])
                      if pid != me and pid in table and not table[pid].zombie)


def send(pids, signum, group):
    """``signum`` to process group ``group`` and each of ``pids``; the gone and the
    forbidden (a descendant that changed its user) are skipped."""
    try:
        os.killpg(group, signum)
    except OSError:
        pass
    for pid in pids:
        try:
            os.kill(pid, signum)
        except OSError:
            pass


def has_children():
    """Whether any child (live or zombie) is left to us, without reaping it."""
    waitid = getattr(os, "waitid", None)
    if waitid is None:     # macOS: ask /proc, else assume the group tells
        me = os.getpid()
        return any(p.ppid == me for p in procs.proc_table().values())
    while True:
        try:
            waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            return True
        except ChildProcessError:
            return False
        except InterruptedError:
            continue


def hand_terminal_to(pgid):
    """Give the terminal's foreground to ``pgid`` if it is ours to give (as a shell does)."""
    try:
        if not os.isatty(0) or os.tcgetpgrp(0) != os.getpgrp():
            return
        os.tcsetpgrp(0, pgid)
    except OSError:
        return
    # The command may have touched the terminal from the background before
    # the handover and been stopped by SIGTTIN/SIGTTOU: let it go on.
    if stopped(pgid):
        send((), signal.SIGCONT, pgid)


def stopped(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            return f.read().rpartition(b")")[2].split()[0] == b"T"
    except (OSError, IndexError):
        return False


def grace_from(text):
    """Seconds from a PV_INIT_GRACE_MS value; ValueError if it is not a number >= 0."""
    value = int(text.strip())
    if value < 0:
        raise ValueError(text)
    return value / 1000.0


def exit_code(status):
    """The code for a wait status: the exit code, or 128+N for death by signal N."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return 1
