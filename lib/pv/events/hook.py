"""The supervisor's side of the record: a unit's transition -> one journal line.

The runner calls ``transition`` once per change a unit reports (pv.supervise
.unit's ``_set_phase``, its exits, want changes and kills) and ``note`` for
the supervisor's own events.  Facts the unit already holds (exit code, failed
starts, next try) are read here, so the unit passes only what it alone knows.
"""

import os
import time

from pv.events.journal import Journal
from pv.supervise import policy

EXIT_EVENT = "exit"


def exit_status_code(code, signum):
    """A shell's number for an ending: the code, or 128 + the signal."""
    return 128 + signum if signum else (code or 0)


class Recorder:
    """The journal of one supervisor process, and how it names its units."""

    def __init__(self, directory, base_label, base_name):
        self.journal = Journal(directory, time.time)
        self.base_label = base_label      # a unit label starts with this ...
        self.base_name = base_name        # ... which the record shows as this

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
            fields["expected"] = policy.succeeded(unit.policy, code, signum)
        elif why in ("spawn", "backoff", "fatal"):
            fields["tries"] = record.fails
            if why == "backoff" and record.next_try:
                fields["delay"] = round(max(0.0, record.next_try - time.time()), 3)
        self.journal.append(why, self.name(unit.label, unit.instance), unit.current_pid(),
                            frm, to, unit.instance, **fields)

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
