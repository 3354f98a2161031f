"""pv-ctl watch and pv-ctl listen: parse, call pv.ctl.watch / pv.ctl.listen, print."""

import os

from pv import diag
from pv.cmd.ctl_base import PROG, print_line, resolve_targets

WATCH_USAGE = "watch [NAME...] [--json] [--since SEQ | --initial] [--exec CMD]"
DEFAULT_SOCKET = ".pv-http.sock"   # in DIR: pv-http's default socket (pv-http(1))
LISTEN_USAGE = ("listen [--events LIST] [--buffer N] [--pool NAME] [--cursor FILE] "
                "[--server-url URL] -- CMD [ARG...]")


def _watch_options(args):
    opts = {"since": None, "initial": False, "exec": None, "names": []}
    args = list(args)
    while args:
        arg = args.pop(0)
        if arg in ("--since", "--exec"):
            if not args:
                raise diag.UsageError(WATCH_USAGE)
            value = args.pop(0)
            if arg == "--since" and not value.isdigit():
                raise diag.UsageError("watch: --since takes a sequence number")
            opts[arg[2:]] = int(value) if arg == "--since" else value
        elif arg == "--initial":
            opts["initial"] = True
        elif arg.startswith("-"):
            raise diag.UsageError(WATCH_USAGE)
        else:
            opts["names"].append(arg)
    if opts["initial"] and opts["since"] is not None:
        raise diag.UsageError("watch: --since and --initial exclude each other")
    return opts


def do_watch(ctx, args):
    from pv.ctl import watch as ctl_watch
    from pv.events import record as ev_record
    opts = _watch_options(args)
    directory = ctl_watch.journal_dir(ctx.scandir)
    after = opts["since"]
    try:
        if opts["initial"]:
            from pv.ctl import status as ctl_status
            after = ctl_watch.last_seq(directory)
            targets, _, _ = resolve_targets(ctx, opts["names"], default_all=True)
            rows = [ctl_status.read_row(t) for t in targets]
            for record in ctl_watch.initial_records(rows, after):
                _emit(ctx, opts, record, None, ev_record)
            ctx.out.flush()
        out_fd = _fileno(ctx.out)
        for record, line in ctl_watch.stream(directory, after, opts["names"], out_fd):
            if record == "gap":
                diag.warn(PROG, "records %d to %d were rotated away before they were read"
                          % line)
                continue
            _emit(ctx, opts, record, line, ev_record)
            ctx.out.flush()
    except BrokenPipeError:
        _silence(ctx.out)     # the reader went away: a clean end, as head(1) expects
    except KeyboardInterrupt:
        pass
    return diag.EXIT_OK


def _emit(ctx, opts, record, line, ev_record):
    if line is None:
        from pv import jsonline
        line = jsonline.dumps(record).encode()
    if opts["exec"]:
        import subprocess
        env = dict(os.environ)
        env.update(ev_record.environment(record, line))
        subprocess.call(["/bin/sh", "-c", opts["exec"]], env=env)
    elif ctx.json:
        print_line(ctx, line.decode("utf-8", "replace"))
    else:
        print_line(ctx, ev_record.human(record))


def _fileno(out):
    try:
        return out.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def _silence(out):
    fd = _fileno(out)
    if fd is not None:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)


def _listen_options(args):
    if "--" not in args:
        raise diag.UsageError(LISTEN_USAGE)
    split = args.index("--")
    head, command = list(args[:split]), list(args[split + 1:])
    opts = {"events": "EVENT", "buffer": "10", "pool": None, "cursor": None,
            "server-url": None}
    while head:
        arg = head.pop(0)
        key = arg[2:] if arg.startswith("--") else None
        if key not in opts or not head:
            raise diag.UsageError(LISTEN_USAGE)
        opts[key] = head.pop(0)
    if not command or not opts["buffer"].isdigit() or int(opts["buffer"]) < 1:
        raise diag.UsageError(LISTEN_USAGE)
    return opts, command


def do_listen(ctx, args):
    import signal

    from pv.ctl import listen as ctl_listen
    from pv.ctl import watch as ctl_watch
    from pv.events import supervisor
    opts, command = _listen_options(args)
    wanted = [w.strip() for w in opts["events"].split(",") if w.strip()]
    bad = supervisor.unknown_names(wanted)
    if bad or not wanted:
        raise diag.UsageError("listen: unknown event type %s" % (bad[0] if bad else "(none)"))
    directory = ctl_watch.journal_dir(ctx.scandir)
    pool = opts["pool"] or os.path.basename(os.getcwd())
    env = listener_environment(os.environ, pool, opts["server-url"], ctx.scandir)
    listener = ctl_listen.Listener(directory, command, wanted, int(opts["buffer"]), pool,
                                   env, lambda text: diag.warn(PROG, text), opts["cursor"])

    def stop(signum, frame):
        for other in saved:      # one Stop: the clean-up that follows is not interrupted
            signal.signal(other, signal.SIG_IGN)
        raise ctl_listen.Stop()
    saved = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        listener.run()
    except ctl_listen.Stop:
        pass
    except OSError as exc:
        raise diag.TempError("run", command[0], exc.strerror or "failed") from None
    finally:
        listener.stop()
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    return diag.EXIT_OK


def listener_environment(environ, pool, url, scandir):
    """supervisord's variables for a listener.  SUPERVISOR_SERVER_URL: --server-url,
    else the one inherited, else pv-http's default socket in DIR (superlance's
    listeners refuse to start without one, even those that never call back)."""
    env = dict(environ)
    env.update({"SUPERVISOR_ENABLED": "1", "SUPERVISOR_PROCESS_NAME": pool,
                "SUPERVISOR_GROUP_NAME": pool})
    if url:
        env["SUPERVISOR_SERVER_URL"] = url
    elif not env.get("SUPERVISOR_SERVER_URL"):
        socket = os.path.join(os.path.abspath(scandir), DEFAULT_SOCKET)
        env["SUPERVISOR_SERVER_URL"] = "unix://" + socket
    return env
