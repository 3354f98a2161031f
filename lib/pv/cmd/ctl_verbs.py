"""pv-ctl's verbs: each takes (Context, args) and returns an exit code.

The command half of pv-ctl, split from pv.cmd.ctl to keep modules small:
only these functions print.
"""

import os
import sys

from pv import diag
from pv.cmd.ctl_base import HELP, PROG, VERSION, parse_common, print_line, report_action, resolve_targets, usage


def do_status(ctx, args):
    from pv.ctl import status as ctl_status
    targets, _, unknown = resolve_targets(ctx, args, default_all=True)
    rows = ctl_status.read_rows(targets)
    if ctx.json:
        print_line(ctx, ctl_status.as_json(rows))
    elif rows:
        # One write for the whole table: with PYTHONUNBUFFERED (or a terminal)
        # a line at a time would be a write(2) per service.
        lines = ctl_status.table(rows, colour=ctl_status.want_colour(ctx.out))
        ctx.out.write("\n".join(lines) + "\n")
    code = ctl_status.status_code(rows, unknown)
    # A scan directory that cannot be read leaves its services unknown (LSB 4),
    # not "nothing to report": resolve_targets has already warned about it.
    if any("/" not in word for word in args or ["all"]) and not os.path.isdir(ctx.scandir):
        code = max(code, ctl_status.STATUS_UNKNOWN)
    return code


def do_check(ctx, args):
    from pv.ctl import status as ctl_status
    targets, _, unknown = resolve_targets(ctx, args, default_all=True)
    code, line = ctl_status.check(ctl_status.read_rows(targets), unknown)
    print_line(ctx, line)
    return code


def _action(verb):
    def run(ctx, args):
        from pv.ctl import ops as ctl_ops
        targets, codes, _ = resolve_targets(ctx, args)
        result = ctl_ops.act(verb, targets, ctx.wait_secs, ctx.wait, ctx.explicit_wait)
        if ctx.wait and verb in ("start", "restart"):
            from pv.ctl import started       # wait out start-secs, as supervisorctl does
            result = started.settle(result, ctx.wait_secs if ctx.explicit_wait else None)
        report_action(ctx, result, codes, show_ok=ctx.wait)
        return diag.worst(codes)
    run.__name__ = "do_" + verb
    return run


def do_signal(ctx, args):
    from pv.ctl import ops as ctl_ops
    if not args:
        raise diag.UsageError("signal SIG NAME...")
    letter = ctl_ops.signal_letter(args[0])
    targets, codes, _ = resolve_targets(ctx, args[1:])
    for target, exc in ctl_ops.signal_all(targets, letter):
        diag.warn(PROG, exc.message())
        codes.append(exc.code)
    return diag.worst(codes)


def do_pid(ctx, args):
    from pv.ctl import status as ctl_status
    targets, codes, _ = resolve_targets(ctx, args)
    for target in targets:
        row = ctl_status.read_row(target)
        if row.state in (ctl_status.NOT_SUPERVISED, ctl_status.UNREADABLE):
            diag.warn(PROG, "unable to control %s: %s" % (target.name, ctl_status.explain(row, 0)))
            codes.append(diag.EXIT_NOT_SUPERVISED)
            continue
        pid = row.pid if row.state in ("starting", "running", "ready", "stopping") else 0
        print_line(ctx, "%d" % pid if len(targets) == 1 else "%s %d" % (target.name, pid))
    return diag.worst(codes)


def _tail_options(args):
    follow, count, rest = False, 10, []
    args = list(args)
    while args:
        arg = args.pop(0)
        if arg == "-f":
            follow = True
        elif arg.startswith("-n"):
            value = arg[2:] or (args.pop(0) if args else "")
            if not value.isdigit():
                raise diag.UsageError("tail: -n takes a number of lines")
            count = int(value)
        elif arg.startswith("-") and arg != "-":
            raise diag.UsageError("tail [-f] [-n N] NAME")
        else:
            rest.append(arg)
    if len(rest) != 1:
        raise diag.UsageError("tail [-f] [-n N] NAME")
    return follow, count, rest[0]


def do_tail(ctx, args):
    from pv.ctl import tail as ctl_tail
    follow, count, word = _tail_options(args)
    targets, codes, _ = resolve_targets(ctx, [word])
    if not targets:
        return diag.worst(codes)
    directory = ctl_tail.log_dir(targets[0].path)
    if not os.path.isdir(directory):
        raise diag.PermanentError("tail", targets[0].name, "no log directory")
    follower = ctl_tail.Follower(directory) if follow else None
    for line in ctl_tail.last_lines(directory, count) if count else []:
        print_line(ctx, ctl_tail.render(line))
    ctx.out.flush()
    if follower is None:
        return diag.EXIT_OK
    try:
        for line in follower.lines():
            print_line(ctx, ctl_tail.render(line))
            ctx.out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        follower.close()
    return diag.EXIT_OK


def _add_options(args):
    opts = {"group": "", "down": False, "size": None, "keep": None}
    if "--" not in args:
        raise diag.UsageError("add NAME [--group G] [--down] [--log-size N] [--log-keep N] -- CMD")
    split = args.index("--")
    head, command = list(args[:split]), args[split + 1:]
    names = []
    while head:
        arg = head.pop(0)
        key = {"--group": "group", "--log-size": "size", "--log-keep": "keep"}.get(arg)
        if arg == "--down":
            opts["down"] = True
        elif key:
            if not head:
                raise diag.UsageError("add: %s needs a value" % arg)
            value = head.pop(0)
            if key != "group" and not value.isdigit():
                raise diag.UsageError("add: %s takes a number" % arg)
            opts[key] = value if key == "group" else int(value)
        else:
            names.append(arg)
    if len(names) != 1 or not command:
        raise diag.UsageError("add NAME [options] -- CMD [ARG...]")
    if opts["group"] and len(opts["group"].split()) != 1:
        raise diag.UsageError("add: --group takes one word")
    return names[0], command, opts


def do_add(ctx, args):
    from pv.ctl import add as ctl_add
    name, command, opts = _add_options(args)
    path = ctl_add.add(ctx.scandir, name, command, **opts)
    print_line(ctx, "%s: added %s" % (name, path))
    return diag.EXIT_OK


def _remove_entries(ctx, targets):
    """{entry path: (name, [targets to take down])}: the instances of an
    ``instances`` directory are taken down one by one, the entry removed once."""
    from pv.servicedir import service_of
    entries = {}
    for target in targets:
        entry = service_of(target.path)
        name = target.name.rpartition(":")[0] if entry != target.path else target.name
        entries.setdefault(entry, (name, []))[1].append(target)
    return entries


def _take_down(ctx, targets):
    """Stop ``targets`` and end their supervision; False if one stays up or supervised."""
    from pv import control
    from pv.ctl import add as ctl_add
    from pv.ctl import ops as ctl_ops
    live = [t for t in targets if control.is_supervised(t.path)]
    if not live:
        return True
    _, late, failed = ctl_ops.act("stop", live, ctx.wait_secs, True, ctx.explicit_wait)
    if late or failed:
        return False
    ctl_ops.send_all(live, "x")
    return all(ctl_add.wait_unsupervised(t.path, ctx.wait_secs) for t in live)


def do_remove(ctx, args):
    from pv.ctl import add as ctl_add
    outside = "--outside" in args
    targets, codes, _ = resolve_targets(ctx, [a for a in args if a != "--outside"])
    for path, (name, group) in _remove_entries(ctx, targets).items():
        try:
            kind = ctl_add.removable(ctx.scandir, path, outside)
        except diag.PvError as exc:
            diag.warn(PROG, exc.message())
            codes.append(exc.code)
            continue
        if not _take_down(ctx, group):
            diag.warn(PROG, "unable to remove %s: it did not go down" % name)
            codes.append(diag.EXIT_NO)
            continue
        try:
            ctl_add.delete(path, kind)
        except diag.PvError as exc:
            diag.warn(PROG, exc.message())
            codes.append(exc.code)
            continue
        print_line(ctx, "%s: removed" % diag.printable(name))
    return diag.worst(codes)


def do_metrics(ctx, args):
    from pv.cmd.http import ctl_metrics
    return ctl_metrics(ctx, args)


# The verbs of pv.cmd.ctl_import and ctl_events, loaded only when one runs:
# pv-ctl status, which must start fast, need not load them.
def do_import(ctx, args):
    from pv.cmd import ctl_import
    return ctl_import.do_import(ctx, args)


def do_reread(ctx, args):
    from pv.cmd import ctl_import
    return ctl_import.do_reread(ctx, args)


def do_update(ctx, args):
    from pv.cmd import ctl_import
    return ctl_import.do_update(ctx, args)


def do_watch(ctx, args):
    from pv.cmd import ctl_events
    return ctl_events.do_watch(ctx, args)


def do_listen(ctx, args):
    from pv.cmd import ctl_events
    return ctl_events.do_listen(ctx, args)


def do_version(ctx, args):
    print_line(ctx, VERSION)
    return diag.EXIT_OK


def do_help(ctx, args):
    if args:
        from pv.ctl import shell as ctl_shell
        text = ctl_shell.verb_help(args[0])
        if text is None:
            raise diag.UsageError("no such verb: %s" % args[0])
        print_line(ctx, text)
    else:
        ctx.out.write(HELP)
    return diag.EXIT_OK


def do_shell(ctx, args):
    from pv.ctl import shell as ctl_shell
    return ctl_shell.Shell(ctx, dispatch, parse_common, sys.stdin, ctx.out).loop()


VERBS = {
    "status": do_status, "check": do_check,
    "start": _action("start"), "stop": _action("stop"),
    "restart": _action("restart"), "once": _action("once"),
    "signal": do_signal, "pid": do_pid, "tail": do_tail,
    "add": do_add, "remove": do_remove, "reread": do_reread, "update": do_update,
    "import": do_import, "metrics": do_metrics,
    "version": do_version, "help": do_help, "shell": do_shell,
    "watch": do_watch, "listen": do_listen,
}


def dispatch(ctx, verb, args):
    """Run one verb; the exit code."""
    if ctx.scandir is None:
        from pv.ctl.names import default_scandir
        ctx.scandir = default_scandir()
    handler = VERBS.get(verb)
    if handler is None:
        return usage(diag.UsageError("unknown verb %s (try pv-ctl help)" % verb))
    try:
        return handler(ctx, args)
    except diag.UsageError as exc:
        return usage(exc)
    except diag.PvError as exc:
        diag.fatal(PROG, exc.message())
        return exc.code
