"""The names of ``S/supervise/``: the files svc, svstat, sv and pv's clients open.

Split from pv.servicedir (the knobs, which need the os module) so that
pv-svc can send its letters having loaded neither os nor the knob parsers:
``os`` alone is a millisecond of its start (bench/README, "pv-svc -t -w up,
step by step").  Nothing here imports more than ``posix``'s own names.
"""

from posix import fspath

SUPERVISE = "supervise"

LOCK_FILE = "lock"
CONTROL_FIFO = "control"
OK_FIFO = "ok"
STATUS_FILE = "status"
STAT_FILE = "stat"
PID_FILE = "pid"
STATE_FILE = "state"
EVENT_DIR = "event"


def join(directory, name):
    """os.path.join for one relative ``name``, without the os module."""
    directory = fspath(directory)
    if not directory or directory.endswith("/"):
        return directory + name
    return directory + "/" + name


def supervise_dir(service):
    """``service/supervise``, followed if it is a symlink."""
    return join(service, SUPERVISE)
