"""The only place pv starts processes.

With ``os.posix_spawn`` (vfork-fast, and it reports a failed exec as an
OSError, synchronously): in a new session so the service's process group can
be signalled as a whole; with SIGPIPE, SIGXFSZ and every signal pv handles
reset to their defaults and an empty signal mask, so nothing of the
supervisor's signal state leaks into the service; every other descriptor of
ours is close-on-exec.  ``subprocess.Popen`` would do the same, but importing
it costs pv-scan 2.7 MB, a third of its budget, so it is used only where
posix_spawn cannot serve (no setsid support in the C library).

The caller reaps: it waits for every child with waitpid(-1) and records the
status with ``reaped``.
"""

import os
from pv.signames import signal

# Dispositions the supervisor changes, to be reset in the child.
RESET_SIGNALS = tuple(getattr(signal, name) for name in (
    "SIGPIPE", "SIGXFSZ", "SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGCHLD", "SIGALRM",
    "SIGUSR1", "SIGUSR2"))


class Child:
    """A started process: its pid, and its wait status once reaped."""

    __slots__ = ("pid", "returncode")

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None


def spawn(argv, cwd, env, stdin=None, stdout=None, fds=None):
    """Start ``argv`` in ``cwd`` in its own session; return a Child. OSError if exec fails.

    ``fds`` maps descriptor numbers in the child to ours (notification-fd).
    """
    actions = []
    if stdin is not None:
        actions.append((os.POSIX_SPAWN_DUP2, stdin, 0))
    if stdout is not None:
        actions.append((os.POSIX_SPAWN_DUP2, stdout, 1))
    for child_fd, our_fd in (fds or {}).items():
        actions.append((os.POSIX_SPAWN_DUP2, our_fd, child_fd))
    # posix_spawn has no chdir: the supervisor is single-threaded, so it
    # steps into the directory for the spawn and back out to / at once.
    os.chdir(cwd)
    try:
        pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsid=True,
                             setsigmask=(), setsigdef=RESET_SIGNALS)
    except NotImplementedError:
        if fds:
            raise OSError(0, "notification-fd needs posix_spawn with setsid") from None
        return _spawn_with_popen(argv, cwd, env, stdin, stdout)
    finally:
        os.chdir("/")
    return Child(pid)


def _spawn_with_popen(argv, cwd, env, stdin, stdout):
    import subprocess
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=stdin, stdout=stdout,
                               close_fds=True, start_new_session=True, restore_signals=True)
    child = Child(process.pid)
    process.returncode = 0   # we reap it ourselves; keep Popen.__del__ from waiting
    return child


def reaped(child, status):
    """Record the wait status collected by the supervisor's waitpid(-1)."""
    child.returncode = status
