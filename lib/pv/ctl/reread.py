"""``pv-ctl reread`` / ``update``: which services run with a configuration that changed.

The supervisor records ``servicedir.config_digest`` in ``supervise/state``
(``config``) each time it starts ``run``.  A service is

- ``changed``   when it is supervised and the digest of its directory now
  differs from the recorded one (a service never started since its
  supervisor began records none: it will start with what is there, so it
  counts as unchanged);
- ``unchanged`` when they agree;
- ``added``     when it is in the scan directory but nobody supervises it
  yet (pv-scan takes it up at the rescan);
- ``removed``   when processes still run for ``D/NAME`` (their ``PV_SERVICE``
  says so) but ``NAME`` is no longer in D (pv-scan takes it down at the
  rescan).  Found through /proc, so only where there is one.
"""

import os

from pv.diag import PvError

CHANGED, UNCHANGED, ADDED, REMOVED = "changed", "unchanged", "added", "removed"


class Change:
    """One service's answer: name, path, change word, whether it is wanted up."""

    __slots__ = ("name", "path", "change", "wanted_up")

    def __init__(self, name, path, change, wanted_up=False):
        self.name, self.path, self.change, self.wanted_up = name, path, change, wanted_up

    def as_dict(self):
        return {"name": self.name, "change": self.change}


def classify(target):
    """The Change of one ``ctl_names.Target`` in the scan directory."""
    from pv import control, servicedir, status
    if not control.is_supervised(target.path):
        return Change(target.name, target.path, ADDED)
    try:
        state, _ = status.Reader().records(target.path)
    except PvError:
        return Change(target.name, target.path, ADDED)
    recorded = getattr(state, "config", "") or ""
    now = servicedir.config_digest(servicedir.service_of(target.path))
    word = CHANGED if recorded and recorded != now else UNCHANGED
    return Change(target.name, target.path, word, state.want == "up")


def classify_all(scandir, targets):
    """[Change] for ``targets``, then the removed services of ``scandir``, by name."""
    changes = [classify(t) for t in targets]
    known = {t.name for t in targets}
    from pv.ctl.names import list_or_empty
    present = set(list_or_empty(scandir)) | known
    for name in sorted(running_names(scandir) - present):
        changes.append(Change(name, os.path.join(scandir, name), REMOVED))
    return changes


def running_names(scandir, proc="/proc"):
    """Names NAME for which some live process carries ``PV_SERVICE=<scandir>/NAME``."""
    from pv.servicedir import MARKER_VAR
    prefixes = {("%s=%s%s" % (MARKER_VAR, where, os.sep)).encode()
                for where in (os.path.abspath(scandir), os.path.realpath(scandir))}
    names = set()
    try:
        pids = [p for p in os.listdir(proc) if p.isdigit()]
    except OSError:
        return names
    for pid in pids:
        try:
            with open(os.path.join(proc, pid, "environ"), "rb") as f:
                env = f.read()
        except OSError:
            continue        # gone, or another user's
        for var in env.split(b"\0"):
            for prefix in prefixes:
                if var.startswith(prefix):
                    name = os.fsdecode(var[len(prefix):]).split(os.sep)[0]
                    if name and not name.startswith("."):
                        names.add(name)
    return names
