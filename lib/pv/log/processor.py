"""The ``!processor`` of a log directory, run as svlogd runs it.

On rotation current becomes ``@T.u``; ``sh -c PROCESSOR`` runs in the log
directory with ``@T.u`` on stdin, ``@T.t`` on stdout, ``state`` on fd 4 and
``newstate`` on fd 5.  Exit 0: ``@T.t`` becomes ``@T.s`` (mode 0744), ``@T.u``
goes, ``newstate`` becomes ``state``.  Otherwise ``@T.t`` goes and the
processor is started again.  One processor at a time per directory: a
rotation waits for the previous one.
"""

import fcntl
import os
import subprocess

from pv.diag import reason_of



def _onto_4_and_5(state, newstate):
    """For the child only: state on fd 4, newstate on fd 5 (svlogd's layout).

    dup2 leaves 4 and 5 inheritable; every other descriptor of pv-log is
    close-on-exec (PEP 446), so close_fds=False leaks nothing else.
    """
    def move():
        os.dup2(state, 4)
        os.dup2(newstate, 5)
    return move


class Processor:
    def __init__(self, dirname, dirfd, command, report):
        self.dirname = dirname
        self.dirfd = dirfd
        self.command = command
        self.report = report
        self.popen = None
        self.source = None     # the @T.u being processed

    def running(self):
        return self.popen is not None

    def start(self, source):
        self.source = source
        fds = []
        try:
            fds.append(self._open(source, os.O_RDONLY))
            fds.append(self._open(source[:-1] + "t", os.O_WRONLY | os.O_CREAT | os.O_TRUNC))
            fds.append(self._open(self._state(), os.O_RDONLY))
            fds.append(self._open("newstate", os.O_WRONLY | os.O_CREAT | os.O_TRUNC))
            self.popen = subprocess.Popen(
                ["/bin/sh", "-c", self.command], stdin=fds[0], stdout=fds[1],
                close_fds=False, preexec_fn=_onto_4_and_5(fds[2], fds[3]),
                cwd=self.dirname, start_new_session=True)
        except OSError as exc:
            self.report("warning", "unable to start processor for %s: %s"
                        % (self.dirname, reason_of(exc)))
            self.popen = None
        finally:
            for fd in fds:
                os.close(fd)

    def _state(self):
        """``state``, created empty if missing (svlogd does the same)."""
        os.close(self._open("state", os.O_WRONLY | os.O_CREAT))
        return "state"

    def _open(self, name, flags):
        fd = os.open(name, flags | os.O_CLOEXEC, 0o644, dir_fd=self.dirfd)
        high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)   # so dup2 onto 4/5 clobbers none
        os.close(fd)
        return high

    def poll(self):
        """Finish up if the processor has exited; True once nothing runs."""
        if self.popen is None:
            return True
        if self.popen.poll() is None:
            return False
        self._finish(self.popen.returncode)
        return self.popen is None

    def wait(self):
        """Block until the current file has been processed successfully."""
        while self.popen is not None:
            self.popen.wait()
            self._finish(self.popen.returncode)

    def _finish(self, code):
        self.popen = None
        temp = self.source[:-1] + "t"
        if code != 0:
            self.report("warning", "processor failed, restart: %s/%s" % (self.dirname, self.source))
            self._quiet(os.unlink, temp)
            self.start(self.source)
            return
        done = self.source[:-1] + "s"
        try:
            os.rename(temp, done, src_dir_fd=self.dirfd, dst_dir_fd=self.dirfd)
            os.chmod(done, 0o744, dir_fd=self.dirfd)
            os.unlink(self.source, dir_fd=self.dirfd)
            os.rename("newstate", "state", src_dir_fd=self.dirfd, dst_dir_fd=self.dirfd)
        except OSError as exc:
            self.report("warning", "unable to finish processing %s/%s: %s"
                        % (self.dirname, self.source, reason_of(exc)))

    def _quiet(self, fn, name):
        try:
            fn(name, dir_fd=self.dirfd)
        except OSError:
            pass
