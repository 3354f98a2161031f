"""The transition record: every change of every service, in order, on disk.

journal (the writer the supervisor appends to: sequence numbers, one write(2)
per record, rotation, recovery after a crash), reader (a cursor over the
journal, woken by inotify, never by the writer), record (one record: the
line's fields, the human line, the environment for ``watch --exec``),
supervisor (pv's records as Supervisor's events: names and payloads), protocol
(the event-listener protocol spoken to one listener process).

The supervisor imports only ``journal``; everything else is for pv-ctl.
"""
