"""The host interface: what a process hosting services offers them, declared once.

``pv.supervise.runner.Runner`` implements it, for pv-run and for pv-scan
alike (pv-scan's Scanner only adds and drops entries: it is not a host).
Services, instances and units are given the Runner itself, never a
forwarder.  A Unit also asks its own Service a few things (``loop``,
``may_start``, ``unit_changed``, ``unit_fatal``): those are the Service's own
decisions, documented there, not part of this interface.
"""


class Host:
    """The methods and attributes every host has; each raises here."""

    prog = "pv"              # the program name, for messages
    loop = None              # the pv.supervise.loop.Loop everything runs in
    child_nofile = None      # the soft RLIMIT_NOFILE to give services, or None: as ours
    exiting = False          # True once it is taking every service down

    def track(self, pid, callback):
        """Call ``callback(wait_status)`` once when child ``pid`` has been reaped."""
        raise NotImplementedError

    def known_pids(self):
        """The pids some unit has asked to ``track`` and that are not reaped yet."""
        raise NotImplementedError

    def proc_table(self):
        """{pid: procs.Proc} of the system, read at most once per loop batch
        (empty where there is no /proc)."""
        raise NotImplementedError

    def marked(self, marker):
        """Live pids anywhere whose environment holds ``marker`` (b"PV_SERVICE=DIR").
        Every environment is read at most once per loop batch, however many
        services ask: 1000 adoptions cost one scan."""
        raise NotImplementedError

    def start_of(self, pid, told):
        """The start of ``pid`` as /proc/PID/stat gives it (0: gone): ``told``,
        the clock's word at its spawn (spawn.Child.start, or None), once the
        clock has been seen to agree with /proc; else from /proc."""
        raise NotImplementedError

    def write_later(self, unit):
        """Call ``unit.write_records()`` (guarded) at the end of this batch, once."""
        raise NotImplementedError

    def base_environment(self):
        """The environment every run starts from (ours less the manager's
        variables), made once: read-only to the caller, who copies it."""
        raise NotImplementedError

    def report(self, unit, level, text):
        """Print a diagnostic ("warning", ...) about ``unit`` on stderr."""
        raise NotImplementedError

    def needs_met(self, service):
        """Whether every service that ``service`` needs is up."""
        raise NotImplementedError

    def service_changed(self, service):
        """A unit of ``service`` published a change (``None``: the set changed)."""
        raise NotImplementedError

    def unit_fatal(self, service, unit):
        """``unit`` of ``service`` gave up: obey ``on-fatal``."""
        raise NotImplementedError

    def service_gone(self, service):
        """``service`` is down for good and released its supervise/ directory."""
        raise NotImplementedError

    def record(self, unit, old, event, new, effects):
        """One step of ``unit``'s table, ``old`` --``event``--> ``new`` with its
        ``effects``, for the transition record (pv-events(5)); before the
        effects are carried out.  Must not block."""
        raise NotImplementedError

    def end_all(self, unit):
        """``unit``'s essential run (``on-exit exit``) ended by itself, and its
        table left it wanting exit: warn, take every service down (from the
        loop, not from inside the unit's step), and exit with the run's status."""
        raise NotImplementedError
