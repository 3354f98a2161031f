"""Telling our own service manager (systemd) how we are: sd_notify(3).

Used when ``NOTIFY_SOCKET`` is in the supervisor's own environment, so that
``Type=notify`` units work: ``READY=1`` once every service meant to be up is
up (ready, where it declares readiness), ``STATUS=`` with a summary,
``STOPPING=1`` at shutdown, and ``WATCHDOG=1`` every half ``WATCHDOG_USEC``.
"""

import os


class Notifier:
    def __init__(self, address, loop):
        import _socket  # the C module: socket.py would bring enum in
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self.sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_DGRAM)
        self.ready_sent = False
        self.last_status = None
        self.loop = loop

    @classmethod
    def from_environment(cls, loop):
        """A Notifier if systemd asked for one, else None."""
        address = os.environ.get("NOTIFY_SOCKET")
        if not address or address[0] not in "/@":
            return None
        notifier = cls(address, loop)
        notifier.start_watchdog()
        return notifier

    def send(self, text):
        try:
            self.sock.sendto(text.encode(), self.address)
        except OSError:
            pass  # the manager went away; we carry on supervising

    def update(self, services):
        """Send READY=1 the first time everything meant to be up is up, and STATUS=."""
        wanted = [s for s in services if s.main.want == "up"]
        up = [s for s in wanted if s.is_up()]
        status = "%d of %d services up" % (len(up), len(wanted))
        if status != self.last_status:
            self.last_status = status
            self.send("STATUS=" + status)
        if not self.ready_sent and len(up) == len(wanted):
            self.ready_sent = True
            self.send("READY=1")

    def stopping(self):
        self.send("STOPPING=1")

    def start_watchdog(self):
        usec = os.environ.get("WATCHDOG_USEC", "")
        pid = os.environ.get("WATCHDOG_PID", "")
        if not usec.isdigit() or int(usec) <= 0 or (pid and pid != str(os.getpid())):
            return
        interval = int(usec) / 2e6

        def tick():
            self.send("WATCHDOG=1")
            self.loop.call_later(interval, tick)
        tick()
