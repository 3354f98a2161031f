"""What the transition table may know about a unit: ``Facts``.

``table.step`` reads these attributes and nothing else.  Tests give a plain
``Facts(**values)``; a ``unit.Unit`` gives a ``UnitFacts``, a live view
that reads each fact from the unit only when the table asks for it.
"""

import os

from pv import servicedir
from pv.signames import signal
from pv.supervise import policy
from pv.supervise.states import Want


class Facts:
    """What the table may know.  The Unit gives an object with these attributes,
    computing the costly ones (leftovers, needs_met, knob values) only when
    read; tests give a plain ``Facts(**values)``."""

    want = Want.UP
    fails = 0                # failed starts in a row so far
    is_log = False
    policy = policy.Policy()
    uptime = 0.0             # seconds the run that ended had lived
    exit_code = None
    exit_signal = None
    stop_asked = False       # the user asked for the stop (d, x, t, k): not a crash
    adopting = False         # cleaning up after an earlier supervisor
    leftovers = frozenset()  # live pids of the service (after run, or at begin)
    finish_present = False
    needs_met = True
    readiness = ""           # the run's readiness method, once spawned
    start_timeout = 0.0
    kill_timeout = 10.0
    finish_timeout = 5.0
    down_signal = signal.SIGTERM
    reason = ""              # why a spawn failed
    on_exit_exit = False     # on-exit says exit: the end of this run ends everything
    exiting = False          # the host is taking everything down already

    def __init__(self, **values):
        for name, value in values.items():
            if not hasattr(Facts, name):
                raise TypeError("no such fact: %s" % name)
            setattr(self, name, value)


class UnitFacts:
    """``Facts`` as a live view of one ``unit.Unit``: each fact is read only
    when the table asks for it (the /proc scan, the needs graph, the knobs)."""

    __slots__ = ("u",)

    def __init__(self, unit):
        self.u = unit

    want = property(lambda self: self.u.want)
    fails = property(lambda self: self.u.record.fails)
    is_log = property(lambda self: self.u.is_log)
    policy = property(lambda self: self.u.policy)
    uptime = property(lambda self: self.u.uptime)
    exit_code = property(lambda self: self.u.record.exit_code)
    exit_signal = property(lambda self: self.u.record.exit_signal)
    stop_asked = property(lambda self: self.u.stop_asked)
    adopting = property(lambda self: self.u.adopting)
    leftovers = property(lambda self: self.u.look_for_leftovers())
    finish_present = property(lambda self: os.access(
        os.path.join(self.u.path, servicedir.FINISH), os.X_OK))
    needs_met = property(lambda self: self.u.service.may_start(self.u))
    readiness = property(lambda self: self.u.readiness.kind)
    start_timeout = property(lambda self: self.u.knobs.start_timeout_secs())
    kill_timeout = property(lambda self: self.u.knobs.kill_timeout_secs())
    finish_timeout = property(lambda self: self.u.knobs.finish_timeout_secs())
    down_signal = property(lambda self: self.u.knobs.down_signal())
    reason = property(lambda self: self.u.failure)
    on_exit_exit = property(lambda self: _on_exit(self.u.path) == "exit")
    exiting = property(lambda self: self.u.host.exiting)


def _on_exit(path):
    """The ``on-exit`` knob's first line, or None; read each time a run ends."""
    try:
        return servicedir.read_first_line(os.path.join(path, servicedir.ON_EXIT))
    except OSError:
        return None
