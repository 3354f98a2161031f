"""``instances``: one service directory supervised N times.

Instance k runs ``S/run`` in ``S`` with ``PV_INSTANCE=k`` and keeps its
records in ``S/instance/k/supervise``, so each instance is a service of its
own to sv, pv-svc and pv-ctl (``NAME:k``).  They share S's logger, through
the pipe held by instance 0.  To the scanner the group is one entry; to the
host (the Runner) each member is a Service of its own.
"""

from pv import servicedir
from pv.supervise.service import Service


def make(path, label, host):
    """A Service, or an Instances group if ``path`` asks for instances; ``host``
    is the Runner (host.Host)."""
    try:
        count = servicedir.read_instances(path)
    except (servicedir.KnobError, OSError) as exc:
        from pv import diag
        diag.warn(host.prog, "%s: bad knob %s; supervising one instance" % (label, exc))
        count = None
    if count is None:
        return Service(path, label, host)
    return Instances(path, label, host, count)


class Instances:
    """N Services of one directory, opened, begun and ended together."""

    def __init__(self, path, label, host, count):
        self.path, self.label = path, label
        first = Service(path, "%s:0" % label, host, instance=0, entry=self)
        self.members = [first] + [Service(path, "%s:%d" % (label, k), host, instance=k,
                                          first=first, entry=self) for k in range(1, count)]
        self.stopping = False

    @property
    def gone(self):
        """Every member is down for good and released."""
        return all(m.gone for m in self.members)

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
