"""pv-ctl's verbs for configuration: import, reread, update (see pv-ctl(1)).

``import`` turns a supervisord.conf into service directories; ``reread``
says which services run with a configuration that changed and asks pv-scan
to rescan; ``update`` does that and restarts the changed services.
"""


from pv import diag
from pv.cmd.ctl_base import PROG, print_line, report_action, resolve_targets

IMPORT_USAGE = ("import FILE [--into DIR] [--partial] | import Procfile [--into DIR] "
                "[--env FILE] [--formation TYPE=N,...] [--port-base N]")
_VALUED = ("--into", "--env", "--formation", "--port-base")


def _import_options(ctx, args):
    """(path, {option: value}) from import's arguments."""
    args, path, found = list(args), None, {"--into": ctx.scandir}
    while args:
        arg = args.pop(0)
        name = arg.split("=", 1)[0]
        if name in _VALUED:
            value = arg[len(name) + 1:] if "=" in arg else (args.pop(0) if args else "")
            if not value:
                raise diag.UsageError("import: %s needs a value" % name)
            found[name] = value
        elif arg == "--partial":
            found[arg] = True
        elif path is None and (arg == "-" or not arg.startswith("-")):
            path = arg
        else:
            raise diag.UsageError(IMPORT_USAGE)
    if path is None:
        raise diag.UsageError(IMPORT_USAGE)
    return path, found


def _build(path, options):
    from pv.importer import plan as importer
    from pv.importer import procfile
    if not procfile.is_procfile(path):
        if set(options) & {"--env", "--formation", "--port-base"}:
            raise diag.UsageError("import: --env, --formation and --port-base are for a Procfile")
        return importer.build(path, scandir=options["--into"])
    if "--partial" in options:
        raise diag.UsageError("import: --partial is for a supervisord.conf")
    base = options.get("--port-base", str(procfile.DEFAULT_PORT_BASE))
    if not base.isdigit():
        raise diag.UsageError("import: --port-base needs a number")
    return procfile.build(path, options.get("--env"), options.get("--formation"), int(base))


def do_import(ctx, args):
    from pv.importer import plan as importer
    from pv.importer import write as importer_write
    path, options = _import_options(ctx, args)
    plans, warnings = _build(path, options)
    lost = [w for w in warnings if w[3:] == (importer.LOST,)]
    for where, line, text in (w[:3] for w in warnings if w not in lost):
        diag.warn(PROG, "%s:%d: %s" % (where, line, text))
    if lost and not options.get("--partial"):
        for where, line, text in (w[:3] for w in lost):
            diag.warn(PROG, "%s:%d: %s" % (where, line, text))
        diag.fatal(PROG, "unable to import %s: %d part%s cannot be mapped (nothing written; "
                   "--partial imports the rest)" % (path, len(lost), "s" if len(lost) > 1 else ""))
        return diag.EXIT_USAGE
    for where, line, text in (w[:3] for w in lost):
        diag.warn(PROG, "%s:%d: %s (left out: --partial)" % (where, line, text))
    outcomes = importer_write.apply(options["--into"], plans)
    codes = []
    for outcome in outcomes:
        if outcome.change == "skipped":
            diag.warn(PROG, "unable to import %s: %s" % (outcome.name, outcome.note))
            codes.append(diag.EXIT_USAGE)
        elif outcome.note:
            diag.warn(PROG, "%s: %s" % (outcome.name, outcome.note))
    if ctx.json:
        import json
        print_line(ctx, json.dumps([{"name": o.name, "change": o.change, "files": o.files}
                                for o in outcomes]))
    else:
        for o in outcomes:
            if o.change != "skipped":
                print_line(ctx, "%s: %s%s" % (o.name, o.change,
                                          " (%s)" % ", ".join(o.files) if o.files else ""))
    return diag.worst(codes)


def _changes(ctx, args):
    from pv.ctl import reread as ctl_reread
    targets, codes, _ = resolve_targets(ctx, args, default_all=True)
    changes = [ctl_reread.classify(t) for t in targets]
    if not args or args == ["all"]:
        changes = ctl_reread.classify_all(ctx.scandir, targets)
    if ctx.json:
        import json
        print_line(ctx, json.dumps([c.as_dict() for c in changes]))
    else:
        for change in changes:
            print_line(ctx, "%s: %s" % (change.name, change.change))
    return changes, codes


def _rescan(ctx, codes):
    from pv.ctl import add as ctl_add
    try:
        ctl_add.rescan(ctx.scandir)
    except diag.PvError as exc:
        diag.warn(PROG, "unable to rescan %s: %s" % (ctx.scandir, exc.reason))
        codes.append(exc.code)


def do_reread(ctx, args):
    _, codes = _changes(ctx, args)
    _rescan(ctx, codes)
    return diag.worst(codes)


def do_update(ctx, args):
    """reread, then ``du`` to every changed service that is wanted up."""
    from pv.ctl import names as ctl_names
    from pv.ctl import ops as ctl_ops
    from pv.ctl import reread as ctl_reread
    changes, codes = _changes(ctx, args)
    _rescan(ctx, codes)
    targets = [ctl_names.Target(c.name, c.path) for c in changes
               if c.change == ctl_reread.CHANGED and c.wanted_up]
    if not targets:
        return diag.worst(codes)
    result = ctl_ops.act("restart", targets, ctx.wait_secs, ctx.wait, ctx.explicit_wait)
    report_action(ctx, result, codes, show_ok=ctx.wait and not ctx.json)
    return diag.worst(codes)
