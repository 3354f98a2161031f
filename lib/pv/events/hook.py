"""The supervisor's side of the record: a unit's table step -> journal lines.

Unit.handle calls the runner's ``record`` once per step of the transition
table, before the step's effects run; ``step`` here turns it into records
(the exit, want changes, a kill, the change of phase), and ``note`` writes
the supervisor's own.  Facts the unit already holds (exit code, failed
starts, next try) are read here, so the unit passes only what the step is.
"""

import os
import time

from pv.events.journal import Journal

EXIT_EVENT = "exit"


def exit_status_code(code, signum):
    """A shell's number for an ending: the code, or 128 + the signal."""
    return 128 + signum if signum else (code or 0)


# The record a change of phase makes (pv-events(5)); the others are named by the phase.
PHASE_WHY = {"starting": "spawn", "running": "spawn", "stopping": "stop",
             "stopping-leftovers": "cleanup", "finishing": "finish"}


def step_why(old, event, new):
    """The name of the record for a step from ``old`` to ``new`` on ``event``, or None
    (a step that changes no phase, or one the next step describes better)."""
    if event == "spawned":
        return "spawn"
    if new == old:
        return None
    if new == "starting" and event != "spawned":
        return None           # the spawn effect follows: its "spawned" step is the record
    if old == "starting" and new == "running":
        return "up"
    return PHASE_WHY.get(new, new)


class Recorder:
    """The journal of one supervisor process, and how it names its units."""

    def __init__(self, directory, base_label, base_name):
        self.journal = Journal(directory, time.time)
        self.base_label = base_label      # a unit label starts with this ...
        self.base_name = base_name        # ... which the record shows as this
        self.spawning = {}                # unit -> its phase when a table step asked to spawn

    def open(self):
        """OSError if the directory cannot be made or current cannot be opened."""
        self.journal.open()

    def name(self, label, instance):
        if label.startswith(self.base_label):
            label = self.base_name + label[len(self.base_label):]
        if instance is not None:
            label = label.rpartition(":")[0] or label
        return label

    def transition(self, unit, frm, to, why, fields):
        record = unit.record
        if why == EXIT_EVENT:
            code, signum = record.exit_code, record.exit_signal
            fields["code"] = code
            fields["signal"] = signum
            # policy.succeeded, spelt out: pv.events does not import the core back.
            fields["expected"] = signum is None and code in unit.policy.exit_codes
        elif why in ("spawn", "backoff", "fatal"):
            fields["tries"] = record.fails
            if why == "backoff" and record.next_try:
                fields["delay"] = round(max(0.0, record.next_try - time.time()), 3)
        pid = unit.current_pid()
        if why == EXIT_EVENT and not pid:
            pid = unit.session      # a unit that forgets its run before the step: its group
        self.journal.append(why, self.name(unit.label, unit.instance), pid,
                            frm, to, unit.instance, **fields)

    def step(self, unit, old, event, new, effects):
        """The records of one step of a transition table (``table.step``'s
        ``(old, event) -> (new, effects)``), written before its effects run: the
        exit, the want changes the effects make, then the change of phase."""
        if event == "config":       # not a table event: the digest changed at a start
            self.transition(unit, old, new, "config", {})
            return
        if event == "run-exited":
            self.transition(unit, old, "exited", EXIT_EVENT, {})
        for effect in effects:
            if effect[0] == "want" and effect[1] != unit.want:
                by = event if len(event) == 1 else (
                    "shutdown" if event == "shutdown" else
                    "on-exit" if ("end_all",) in effects else "policy")
                self.transition(unit, old, old, "want", {"want": effect[1], "was": unit.want,
                                                         "by": by})
        if event == "kill-timer":
            self.transition(unit, old, new, "kill", {"signal": 9})
        why = step_why(old, event, new)
        if ("spawn",) in effects:       # recorded at "spawned", from the phase before
            self.spawning[unit] = old
        elif why == "spawn":
            old = self.spawning.pop(unit, old)
        if why is not None:
            fields = {"signal": e[1] for e in effects if e[0] == "signal_all"} \
                if why == "stop" else {}
            self.transition(unit, old, new, why, fields)

    def service(self, event, service):
        """``added`` or ``removed`` for a Service (one record per instance)."""
        main = service.main
        self.journal.append(event, self.name(main.label, main.instance), 0, "", "",
                            main.instance)

    def note(self, event, **fields):
        """The supervisor's own records: started, stopping, stopped."""
        self.journal.append(event, "", os.getpid(), "", "", None, **fields)

    def close(self):
        self.journal.close()
