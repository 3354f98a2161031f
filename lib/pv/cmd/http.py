"""pv-http: serve Supervisor's XML-RPC, a JSON API, a web page and metrics (pv-http(1))."""

import grp
import os
import signal
import sys
import time

from pv import diag
from pv.ctl.names import default_scandir
from pv.http import access, handler, journal, metrics, server

PROG = "pv-http"
SYNOPSIS = ("pv-http [-d DIR] [--listen unix:PATH|HOST:PORT]... [--socket-mode MODE] "
            "[--socket-group GROUP] [--credentials FILE] [-w SECS] [--max-connections N] "
            "[--request-secs SECS] [--allow-host NAME]...")
HELP = """\
usage: %s

  -d DIR                the scan directory (default as pv-ctl: $PV_SCANDIR, ...)
  --listen unix:PATH    a unix socket (default unix:DIR/.pv-http.sock), mode 0600
  --listen HOST:PORT    TCP; beyond loopback only with --credentials
  --socket-mode MODE    octal mode of unix sockets (default 600)
  --socket-group GROUP  group of unix sockets (to share them with a team)
  --credentials FILE    USER:PASSWORD (or USER:{SHA}hex) for HTTP Basic on TCP
  -w SECS               how long start/stop wait for the state (default 10)
  --max-connections N   connections served at once (default 256)
  --request-secs SECS   to send a request, or to idle between two (default 30)
  --allow-host NAME     a Host name TCP requests may carry (besides addresses, localhost)
""" % SYNOPSIS
VALUED = ("-d", "-w", "--listen", "--socket-mode", "--socket-group", "--credentials",
          "--max-connections", "--request-secs", "--allow-host")


class Options:
    def __init__(self):
        self.scandir = None
        self.listen = []
        self.socket_mode = 0o600
        self.socket_group = None
        self.credentials = None
        self.wait_secs = 10.0
        self.max_conns = 256
        self.request_secs = 30.0
        self.hosts = []


def _number(text, what, convert=float, low=0):
    try:
        value = convert(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise diag.UsageError("%s takes a number" % what)
    return value


def _set(opts, name, value):
    if name == "-d":
        opts.scandir = value
    elif name == "--listen":
        opts.listen.append(value)
    elif name == "--socket-mode":
        opts.socket_mode = _number(value, name, lambda v: int(v, 8))
    elif name == "--socket-group":
        opts.socket_group = value
    elif name == "--credentials":
        opts.credentials = value
    elif name == "-w":
        opts.wait_secs = _number(value, name)
    elif name == "--allow-host":
        opts.hosts.append(value)
    elif name == "--request-secs":
        opts.request_secs = _number(value, name)
    else:
        opts.max_conns = _number(value, name, int, 1)


def parse(argv):
    opts = Options()
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-h", "--help"):
            return None
        name, eq, value = arg.partition("=")
        if name not in VALUED:
            raise diag.UsageError("unknown option %s" % arg)
        if not eq:
            if not args:
                raise diag.UsageError("option %s needs a value" % name)
            value = args.pop(0)
        _set(opts, name, value)
    return opts


def _gid(name):
    if name.isdigit():
        return int(name)
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise diag.UsageError("no such group: %s" % name) from None


def open_listeners(opts, credentials):
    """Every listener asked for; TCP beyond loopback refused without credentials."""
    gid = _gid(opts.socket_group) if opts.socket_group else None
    found = []
    for where in opts.listen or ["unix:" + os.path.join(opts.scandir, ".pv-http.sock")]:
        if where.startswith("unix:"):
            found.append(server.open_unix(where[5:], opts.socket_mode, gid))
            continue
        host, _, port = where.rpartition(":")
        host = host.strip("[]")
        if not host or not port.isdigit():
            raise diag.UsageError("--listen takes unix:PATH or HOST:PORT, not %s" % where)
        if credentials is None and not access.is_loopback(host):
            raise diag.PermanentError("listen on", where,
                                      "TCP beyond loopback needs --credentials")
        found.append(server.open_tcp(host, int(port)))
    return found


class Stop(Exception):
    pass


def _stop(signum, frame):
    raise Stop()


def _credentials(opts):
    if not opts.credentials:
        return None
    try:
        return access.read_credentials(opts.credentials)
    except OSError as exc:
        raise diag.PermanentError("read", opts.credentials, diag.reason_of(exc)) from None
    except ValueError:
        raise diag.PermanentError("read", opts.credentials, "not USER:PASSWORD") from None


def serve(opts):
    """Listen and serve until SIGTERM or SIGINT (handled from the start: the
    socket file is removed however early the signal comes)."""
    credentials = _credentials(opts)
    old = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)}
    listeners, srv = [], None
    try:
        listeners = open_listeners(opts, credentials)
        app = handler.App(os.path.abspath(opts.scandir), journal.Journal(), credentials,
                          opts.wait_secs, opts.request_secs, hosts=opts.hosts)
        app.journal.add("pv-http started on %s" % " ".join(l.where for l in listeners))
        srv = server.Server(listeners, handler.serve_connection(app), opts.max_conns)
        srv.serve()
    except Stop:
        pass
    finally:
        for signum, handler_was in old.items():
            signal.signal(signum, handler_was)
        if srv is not None:
            srv.close()
        else:
            server.close_listeners(listeners)
    return diag.EXIT_OK


def run(argv):
    try:
        opts = parse(argv)
        if opts is None:
            sys.stdout.write(HELP)
            return diag.EXIT_OK
        if opts.scandir is None:
            opts.scandir = default_scandir()
        return serve(opts)
    except diag.UsageError as exc:
        diag.say(PROG, "fatal", exc.message())
        return diag.usage(PROG, SYNOPSIS)
    except diag.PvError as exc:
        diag.fatal(PROG, exc.message())
        return exc.code


def main(argv=None):
    return diag.guard(PROG, run, sys.argv[1:] if argv is None else argv)


def ctl_metrics(ctx, args):
    """``pv-ctl metrics``: the /metrics text on stdout (node_exporter's textfile collector)."""
    if args:
        raise diag.UsageError("metrics takes no NAME")
    ctx.out.write(metrics.render(ctx.scandir, time.time()))
    return diag.EXIT_OK
