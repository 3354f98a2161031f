"""pv's records as Supervisor's events: the names, the payloads, the hierarchy.

pv has more states than Supervisor (ready, waiting, finishing, ...) and
records things Supervisor has no event for (want, kill, config); ``Mapper``
turns one record into zero, one or two Supervisor events, keeping each
process's last Supervisor state so that ``from_state`` is what a listener
written for supervisord expects.  The table is in pv-ctl(1), LISTEN.
"""

STOPPED, STARTING, RUNNING, BACKOFF = "STOPPED", "STARTING", "RUNNING", "BACKOFF"
STOPPING, EXITED, FATAL = "STOPPING", "EXITED", "FATAL"

# The abstract names a listener may subscribe to, and EVENT for everything.
PARENTS = ("PROCESS_STATE", "PROCESS_GROUP", "SUPERVISOR_STATE_CHANGE", "TICK",
           "PROCESS_LOG", "PROCESS_COMMUNICATION")
KNOWN = ("EVENT", "PROCESS_STATE_STOPPED", "PROCESS_STATE_STARTING", "PROCESS_STATE_RUNNING",
         "PROCESS_STATE_BACKOFF", "PROCESS_STATE_STOPPING", "PROCESS_STATE_EXITED",
         "PROCESS_STATE_FATAL", "PROCESS_STATE_UNKNOWN", "PROCESS_GROUP_ADDED",
         "PROCESS_GROUP_REMOVED", "SUPERVISOR_STATE_CHANGE_RUNNING",
         "SUPERVISOR_STATE_CHANGE_STOPPING", "TICK_5", "TICK_60", "TICK_3600",
         "PROCESS_LOG_STDOUT", "PROCESS_LOG_STDERR") + PARENTS
TICKS = (5, 60, 3600)


def subscribed(name, wanted):
    """Whether event ``name`` is one of ``wanted`` or below one of them."""
    return any(w == "EVENT" or name == w or (w in PARENTS and name.startswith(w + "_"))
               for w in wanted)


def unknown_names(wanted):
    return [w for w in wanted if w not in KNOWN]


def envelope(name, payload, serial, pool, poolserial, server="supervisor"):
    """The header line and payload, as bytes, exactly as supervisord writes them."""
    body = payload.encode("utf-8", "surrogateescape")
    head = "ver:3.0 server:%s serial:%d pool:%s poolserial:%d eventname:%s len:%d\n" % (
        server, serial, pool, poolserial, name, len(body))
    return head.encode("utf-8", "surrogateescape") + body


class Mapper:
    def __init__(self):
        self.states = {}     # (service, instance) -> the Supervisor state last sent
        self.pids = {}       # (service, instance) -> the last pid a record named

    def events(self, record):
        """[(event name, payload)] for one pv record (a dict)."""
        event = record.get("event")
        service = record.get("service") or ""
        if event == "started":
            return [("SUPERVISOR_STATE_CHANGE_RUNNING", "")]
        if event == "stopping":
            return [("SUPERVISOR_STATE_CHANGE_STOPPING", "")]
        if not service or "/" in service:      # supervisor records, or a logger
            return []
        if event in ("added", "removed"):
            return [("PROCESS_GROUP_" + event.upper(), "groupname:%s\n" % service)]
        key = (service, record.get("instance"))
        if record.get("pid"):
            self.pids[key] = record["pid"]
        out = []
        for state in self._states_for(record, self.states.get(key, STOPPED)):
            out.append(("PROCESS_STATE_" + state, self._payload(record, state, key)))
            self.states[key] = state
        return out

    def pid(self, key):
        """The pid of (service, instance) as the records last named it; 0 if none."""
        return self.pids.get(key, 0)

    def _states_for(self, record, now):
        """The Supervisor states a record moves the process through."""
        event, frm, to = record.get("event"), record.get("from"), record.get("to")
        if event == "spawn":
            return [STARTING] + ([RUNNING] if to in ("running", "ready") else [])
        if event == "up" or (event == "ready" and now == STARTING):
            return [RUNNING]
        if event == "exit":
            if frm == "stopping":
                return [STOPPED]
            return [BACKOFF] if frm == "starting" else [EXITED]
        if event == "backoff" and now in (STARTING, RUNNING):
            return [BACKOFF]
        if event == "fatal" and now != FATAL:
            return [FATAL]
        if event == "stop" and now in (STARTING, RUNNING):
            return [STOPPING]
        if event == "down" and now in (STOPPING, BACKOFF, STARTING, RUNNING):
            return [STOPPED]
        return []

    def _payload(self, record, state, key):
        service, instance = key
        name = service if instance is None else "%s_%d" % (service, instance)
        parts = ["processname:%s" % name, "groupname:%s" % service,
                 "from_state:%s" % self.states.get(key, STOPPED)]
        if state in (STARTING, BACKOFF):
            parts.append("tries:%d" % (record.get("tries") or 0))
        elif state == EXITED:
            parts.append("expected:%d" % (1 if record.get("expected") else 0))
            parts.append("pid:%d" % (record.get("pid") or 0))
        elif state in (RUNNING, STOPPING, STOPPED):
            parts.append("pid:%d" % (record.get("pid") or 0))
        return " ".join(parts)


def tick_payload(when):
    return "when:%d" % when
