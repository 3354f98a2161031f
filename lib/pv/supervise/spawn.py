"""How the supervisors start a service's processes (run, finish, check, loggers).

With ``os.posix_spawn`` (vfork-fast, and it reports a failed exec as an
OSError, synchronously): in a new session so the service's process group can
be signalled as a whole; with every signal's disposition reset to its default
and an empty signal mask, so nothing of the supervisor's signal state leaks
into the service -- not even a signal ignored by whoever started pv-scan
(``trap '' QUIT`` in an entrypoint), which exec alone would pass on; every
other descriptor of ours is close-on-exec.  ``subprocess.Popen`` would do the same, but importing
it costs pv-scan 2.7 MB, a third of its budget, so it is used only where
posix_spawn cannot serve (no setsid support in the C library).

The caller reaps: it waits for every child with waitpid(-1) and records the
status with ``reaped``.
"""

import os
from pv.signames import signal

from pv.supervise import procs

# Every disposition is reset in the child: those the supervisor changes and
# those it inherited ignored.  KILL and STOP cannot be changed at all.
RESET_SIGNALS = tuple(sorted(set(signal.valid_signals()) - {signal.SIGKILL, signal.SIGSTOP}))


class Child:
    """A started process: its pid, its wait status once reaped, and its start
    time as /proc/PID/stat gives it where the clock told it (else None)."""

    __slots__ = ("pid", "returncode", "start")

    def __init__(self, pid, start=None):
        self.pid = pid
        self.returncode = None
        self.start = start


def spawn(argv, cwd, env, stdin=None, stdout=None, fds=None, spec=None, nofile=None,
          stderr=None):
    """Start ``argv`` in ``cwd`` in its own session; return a Child. OSError if exec fails.

    ``fds`` maps descriptor numbers in the child to ours (notification-fd);
    ``spec`` is an execknobs.Exec (user, umask, limits); ``nofile`` the soft
    RLIMIT_NOFILE the child gets where the supervisor raised its own.
    """
    fds = dict(fds or {})
    if stderr is not None:
        fds[2] = stderr
    if spec is not None and (spec.user or spec.limits):
        return _spawn_with_popen(argv, cwd, env, stdin, stdout, fds, spec, nofile)
    actions = []
    if stdin is not None:
        actions.append((os.POSIX_SPAWN_DUP2, stdin, 0))
    if stdout is not None:
        actions.append((os.POSIX_SPAWN_DUP2, stdout, 1))
    for child_fd, our_fd in fds.items():
        actions.append((os.POSIX_SPAWN_DUP2, our_fd, child_fd))
    # posix_spawn has no chdir, umask or rlimit: the supervisor is single-
    # threaded, so it sets its own for the spawn and puts them back at once.
    with _borrowed(cwd, spec.umask if spec else None, nofile):
        # The kernel stamps the child's start inside the call: a clock read on
        # either side that gives one tick gives it (99 times in 100), and
        # spares reading /proc of a child still in its exec (0.4 ms).
        before = procs.boot_ticks()
        try:
            pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsid=True,
                                 setsigmask=(), setsigdef=RESET_SIGNALS)
        except NotImplementedError:
            pid = None
        after = procs.boot_ticks()
    if pid is None:
        return _spawn_with_popen(argv, cwd, env, stdin, stdout, fds, spec, nofile)
    return Child(pid, before if before == after else None)


class _borrowed:
    """cwd, umask and the soft RLIMIT_NOFILE set for one spawn, then restored."""

    def __init__(self, cwd, umask, nofile):
        self.cwd, self.umask, self.nofile = cwd, umask, nofile
        self.saved_umask = self.saved_nofile = None

    def __enter__(self):
        os.chdir(self.cwd)
        if self.umask is not None:
            self.saved_umask = os.umask(self.umask)
        if self.nofile is not None:
            import resource
            self.saved_nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.saved_nofile[1]))
        return self

    def __exit__(self, *exc):
        if self.saved_nofile is not None:
            import resource
            resource.setrlimit(resource.RLIMIT_NOFILE, self.saved_nofile)
        if self.saved_umask is not None:
            os.umask(self.saved_umask)
        os.chdir("/")
        return False


def _spawn_with_popen(argv, cwd, env, stdin, stdout, fds, spec, nofile):
    """For what posix_spawn cannot do: switching user, and rlimits per service.

    Popen's restore_signals resets only PIPE, XFSZ (and XFZ), so the child
    resets every disposition and the mask itself, as posix_spawn does above.
    close_fds stays off: our descriptors are all close-on-exec, and the
    notification fd must be dup2'ed to its number in the child, which
    close_fds would close again (pass_fds cannot name a number not yet open).
    """
    import subprocess
    import resource   # here, not in the child: a switched user may not read the stdlib
    limits = dict(spec.limits) if spec else {}
    if nofile is not None and resource.RLIMIT_NOFILE not in limits:
        limits[resource.RLIMIT_NOFILE] = (nofile, None)
    setrlimit, getrlimit, dup2 = resource.setrlimit, resource.getrlimit, os.dup2

    def in_child():
        for which, (soft, hard) in limits.items():
            current_hard = getrlimit(which)[1]
            setrlimit(which, (soft, current_hard if hard is None else hard))
        _reset_signals()
        for child_fd, our_fd in fds.items():
            if child_fd == our_fd:
                os.set_inheritable(our_fd, True)
            else:
                dup2(our_fd, child_fd, inheritable=True)

    kwargs = {}
    if spec is not None and spec.user:
        kwargs.update(user=spec.uid, group=spec.gid, extra_groups=list(spec.groups))
    if spec is not None and spec.umask is not None:
        kwargs["umask"] = spec.umask
    try:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=stdin, stdout=stdout,
                                   close_fds=False, start_new_session=True,
                                   restore_signals=True, preexec_fn=in_child, **kwargs)
    except subprocess.SubprocessError:
        raise OSError(0, "unable to apply limits (a hard limit above the current one?)")
    child = Child(process.pid)
    process.returncode = 0   # we reap it ourselves; keep Popen.__del__ from waiting
    return child


def _reset_signals():
    """In a forked child: every disposition to its default, nothing blocked."""
    for signum in RESET_SIGNALS:
        try:
            signal.signal(signum, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, ())


def reaped(child, status):
    """Record the wait status collected by the supervisor's waitpid(-1)."""
    child.returncode = status
