"""Making and unmaking service directories in a scan directory (``pv-ctl add/remove``).

``add`` builds the directory under ``D/.NAME.tmp-PID`` -- a name every
scanner ignores -- and renames it into place, so a scanner sees either
nothing or the whole service.  ``rescan`` asks pv-scan to look again by
writing ``h`` to ``D/.pv-scan/control``.
"""

import os
import shlex
import sys
import sysconfig
import time

from pv import control
from pv.diag import PermanentError, TempError, reason_of
from pv.servicedir import SCAN_CONTROL, SCAN_DIR

LOG_SUBDIR = "main"
PV_LOG = "pv-log"


def pv_log_candidates():
    """Where the pv-log that belongs with this pv may be, best first.

    Next to the command being run (a checkout's bin/, or the scripts
    directory pip installed pv-ctl into, also through a symlink); then this
    interpreter's scripts directory; then PATH; then the checkout's bin/
    (this file's ../../../bin), which works for a checkout run by path.
    """
    here = []
    command = sys.argv[0] if sys.argv and sys.argv[0] else ""
    if os.path.basename(command).startswith("pv-"):
        here += [os.path.dirname(os.path.abspath(command)),
                 os.path.dirname(os.path.realpath(command))]
    here.append(sysconfig.get_path("scripts"))
    here += os.environ.get("PATH", os.defpath).split(os.pathsep)
    lib = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
    here.append(os.path.join(os.path.dirname(lib), "bin"))
    return [os.path.join(d, PV_LOG) for d in here if d and os.path.isabs(d)]


def pv_log_path():
    """The absolute path of the first executable pv-log of ``pv_log_candidates``.

    Absolute, because log/run is run later by a supervisor whose PATH may not
    hold it; the last candidate (the checkout's) when none is executable.
    """
    candidates = pv_log_candidates()
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return candidates[-1]


def check_name(name):
    """PermanentError unless ``name`` can be a service name in a scan directory."""
    bad = (not name or name.startswith(".") or "/" in name or name == "all"
           or any(ch in name for ch in "*?[]:") or name != name.strip() or "\n" in name)
    if bad:
        raise PermanentError("add", repr(name), "not a valid service name")


def run_script(argv):
    return "#!/bin/sh\nexec 2>&1\nexec %s\n" % " ".join(shlex.quote(a) for a in argv)


def log_script(size=None, keep=None):
    words = [pv_log_path(), "-tt"]
    if size is not None:
        words += ["-s", str(size)]
    if keep is not None:
        words += ["-n", str(keep)]
    return "#!/bin/sh\nexec %s ./%s\n" % (" ".join(shlex.quote(w) for w in words), LOG_SUBDIR)


def _write(path, text, mode=0o644):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)


def _fill(temp, argv, group, down, size, keep):
    os.mkdir(temp, 0o755)
    _write(os.path.join(temp, "run"), run_script(argv), 0o755)
    os.makedirs(os.path.join(temp, "log", LOG_SUBDIR))
    _write(os.path.join(temp, "log", "run"), log_script(size, keep), 0o755)
    if group:
        _write(os.path.join(temp, "group"), group + "\n")
    if down:
        _write(os.path.join(temp, "down"), "")


def add(scandir, name, argv, group="", down=False, size=None, keep=None):
    """Create ``scandir/name`` atomically; return its path."""
    import shutil
    check_name(name)
    if not argv:
        raise PermanentError("add", name, "no command given")
    final = os.path.join(scandir, name)
    if os.path.lexists(final):
        raise PermanentError("add", name, "already exists")
    temp = os.path.join(scandir, ".%s.tmp-%d" % (name, os.getpid()))
    try:
        _fill(temp, argv, group, down, size, keep)
        if os.path.lexists(final):      # someone was quicker
            raise PermanentError("add", name, "already exists")
        os.rename(temp, final)
    except OSError as exc:
        shutil.rmtree(temp, ignore_errors=True)
        raise TempError("add", name, reason_of(exc)) from None
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return final


def wait_unsupervised(path, secs):
    """Poll until nobody supervises ``path`` or ``secs`` pass; True if nobody does."""
    deadline = time.monotonic() + secs
    delay = 0.005
    while control.is_supervised(path):
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
    return True


def removable(scandir, path, outside=False):
    """How ``remove`` may take away ``path``: "link" (unlink it) or "dir" (delete the tree).

    PermanentError, before anything is stopped, unless ``path`` is an entry
    of ``scandir`` (or, with ``outside``, any directory) that is a service
    directory: one with a ``run``, and neither the scan directory nor one
    that holds it.
    """
    if not os.path.lexists(path):
        raise PermanentError("remove", path, "no such file or directory")
    real, home = os.path.realpath(path), os.path.realpath(scandir)
    parent = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    if real == home or home.startswith(real.rstrip("/") + "/") or real == "/":
        raise PermanentError("remove", path, "it is or holds the scan directory")
    if parent != home and not outside:
        raise PermanentError("remove", path, "not in %s (confirm with --outside)" % scandir)
    if not os.path.isdir(path) or not os.path.lexists(os.path.join(real, "run")):
        raise PermanentError("remove", path, "not a service directory (no run)")
    if os.path.islink(path):
        return "link"
    return "dir"


def delete(path, kind):
    """Remove the service directory ``path``, or only the link if ``kind`` is "link".

    The tree is deleted without following a link inside it (rmtree unlinks
    a symlinked supervise/ and leaves what it points to), and not at all
    if ``path`` has turned into something else since ``removable``.
    """
    import shutil
    try:
        if os.path.islink(path) != (kind == "link"):
            raise PermanentError("remove", path, "it changed while being removed")
        if kind == "link":
            os.unlink(path)
        else:
            shutil.rmtree(path)
    except OSError as exc:
        raise TempError("remove", path, reason_of(exc)) from None


def rescan(scandir):
    """Write ``h`` to pv-scan's control FIFO; NotSupervised if pv-scan is not running."""
    control.write_letters(os.path.join(scandir, SCAN_DIR, SCAN_CONTROL), control.SCAN_RESCAN,
                          scandir, verb="rescan", absent="pv-scan not running")
