"""The only place pv starts processes.

Through ``subprocess.Popen``, which restores SIGPIPE and SIGXFSZ to their
defaults in the child (a raw fork/exec would leak Python's ignored SIGPIPE
into the service), with close_fds, and in a new session so the service's
process group can be signalled as a whole.  The caller reaps: it waits for
every child with waitpid(-1) and hands the status back with ``reaped``.
"""

import subprocess


def spawn(argv, cwd, env, stdin=None, stdout=None):
    """Start ``argv`` in its own session; return the Popen. OSError if exec fails."""
    return subprocess.Popen(argv, cwd=cwd, env=env, stdin=stdin, stdout=stdout,
                            close_fds=True, start_new_session=True, restore_signals=True)


def reaped(process, status):
    """Tell ``process`` its wait status was collected elsewhere.

    Without this, Popen.__del__ would file it for a later waitpid() of a pid
    that may by then belong to someone else.
    """
    process.returncode = status
