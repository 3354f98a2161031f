"""pv-ctl's output: one line to the command's stream, and the sv(8)-style
lines that report what start/stop/restart (and update) did."""

from pv import diag
from pv.cmd.ctl import PROG


def print_line(ctx, text):
    ctx.out.write(text + "\n")


def report_action(ctx, result, codes, show_ok):
    """Print ``ctl_ops.act``'s (done, late, failed) as sv does; add exit codes to ``codes``."""
    from pv import ctl_ops, ctl_status
    done, late, failed = result
    for _, exc in failed:
        diag.warn(PROG, exc.message())
        codes.append(exc.code)
    for target in late:
        print_line(ctx, ctl_ops.sv_line("timeout", ctl_status.read_row(target)))
        codes.append(diag.EXIT_NO)
    if show_ok:
        for target in done:
            print_line(ctx, ctl_ops.sv_line("ok", ctl_status.read_row(target)))
