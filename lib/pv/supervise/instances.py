"""``instances``: one service directory supervised N times.

Instance k runs ``S/run`` in ``S`` with ``PV_INSTANCE=k`` and keeps its
records in ``S/instance/k/supervise``, so each instance is a service of its
own to sv, pv-svc and pv-ctl (``NAME:k``).  They share S's logger, through
the pipe held by instance 0.  To the scanner the group is one entry.
"""

from pv import servicedir
from pv.supervise.service import Service


def make(path, label, host):
    """A Service, or an Instances group if ``path`` asks for instances."""
    try:
        count = servicedir.read_instances(path)
    except (servicedir.KnobError, OSError) as exc:
        from pv import diag
        diag.warn(getattr(host, "prog", None) or host.runner.prog,
                  "%s: bad knob %s; supervising one instance" % (label, exc))
        count = None
    if count is None:
        return Service(path, label, host)
    return Instances(path, label, host, count)


class Instances:
    """N Services of one directory, opened, begun and ended together."""

    def __init__(self, path, label, host, count):
        self.path, self.label, self.host = path, label, host
        self.loop = host.loop
        first = Service(path, "%s:0" % label, self, instance=0)
        self.members = [first] + [Service(path, "%s:%d" % (label, k), self, instance=k,
                                          first=first) for k in range(1, count)]
        self.gone = False
        self.stopping = False

    def open(self):
        """Open every member; on failure, release those already opened and raise."""
        opened = []
        try:
            for member in self.members:
                member.open()
                opened.append(member)
        except Exception:
            for member in reversed(opened):
                member.close_unbegun()
            raise

    def begin(self):
        for member in self.members:
            member.begin()

    def exit(self):
        for member in self.members:
            if not member.gone:
                member.exit()

    # --- the host interface, for the members -----------------------------------------
    def __getattr__(self, name):
        # track, known_pids, report, unit_fatal, needs_met, service_changed,
        # child_nofile: as the scanner (or pv-run's runner) answers them.
        return getattr(self.host, name)

    def service_gone(self, member):
        runner = getattr(self.host, "runner", self.host)
        if member in runner.services:
            runner.services.remove(member)
        if all(m.gone for m in self.members) and not self.gone:
            self.gone = True
            self.host.service_gone(self)
