"""Writing import Plans into a scan directory, changing only what changed.

A new service directory is built under ``D/.NAME.tmp-PID`` (a name pv-scan
ignores) and renamed into place, as ``pv-ctl add`` does.  In an existing one
each file whose content differs is written to a temp file beside it and
renamed over it; equal files are not touched (their mtime stays), and
``supervise/`` never is.  Knob files the importer manages and the new plan
no longer has are removed; a ``log/`` no longer wanted is left in place.
A directory not made by importing the same file is left alone.
"""

import os

from pv.diag import TempError, reason_of
from pv.importer.plan import MARKER_FILE

MANAGED = ("run", "down", "restart", "exit-codes", "start-secs", "max-retries", "down-signal",
           "timeout-kill", "user", "user-env", "umask", "environment", "instances",
           "instance-names", "instance-logs", "group", "retry-delay", "priority", "socket",
           MARKER_FILE)
LOG_RUN = os.path.join("log", "run")
LOG_RUNS = {LOG_RUN: "log", os.path.join("log-stderr", "run"): "log-stderr"}   # -> their dir


class Outcome:
    """What importing did to one service: added, changed (files), unchanged, skipped, gone."""

    def __init__(self, name, change, files=(), note=""):
        self.name, self.change, self.files, self.note = name, change, list(files), note


def apply(scandir, plans):
    """Write every plan into ``scandir``; [Outcome] in plan order, then the gone ones."""
    try:
        os.makedirs(scandir, exist_ok=True)
    except OSError as exc:
        raise TempError("create", scandir, reason_of(exc)) from None
    outcomes = []
    for plan in plans:
        path = os.path.join(scandir, plan.name)
        try:
            outcomes.append(_apply_one(scandir, path, plan))
        except OSError as exc:
            raise TempError("import", path, reason_of(exc)) from None
    if plans:
        outcomes += _gone(scandir, plans)
    return outcomes


def _apply_one(scandir, path, plan):
    if not os.path.lexists(path):
        _create(scandir, plan)
        return Outcome(plan.name, "added")
    source = plan.files[MARKER_FILE][0]
    if _read(os.path.join(path, MARKER_FILE)) != source.encode():
        return Outcome(plan.name, "skipped", note="exists and was not imported from this file")
    files, note = _update(path, plan)
    return Outcome(plan.name, "changed" if files else "unchanged", files, note)


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def _write_new(path, text, mode):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)


def _fill(directory, files):
    for relpath, (text, mode) in files.items():
        full = os.path.join(directory, relpath)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        _write_new(full, text, mode)
    for relpath, subdir in LOG_RUNS.items():
        if relpath in files:
            os.makedirs(os.path.join(directory, subdir, "main"), exist_ok=True)


def _create(scandir, plan):
    """Build the directory under a dot name, then rename it into place."""
    import shutil
    temp = os.path.join(scandir, ".%s.tmp-%d" % (plan.name, os.getpid()))
    try:
        os.mkdir(temp, 0o755)
        _fill(temp, plan.files)
        os.rename(temp, os.path.join(scandir, plan.name))
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def _replace(path, text, mode):
    """Write ``path`` by temp file and rename (the temp name starts with a dot)."""
    temp = os.path.join(os.path.dirname(path), ".%s.tmp-%d" % (os.path.basename(path),
                                                               os.getpid()))
    try:
        _write_new(temp, text, mode)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def _update(path, plan):
    """Bring an existing directory in line with ``plan``: (changed files, note)."""
    changed, note = [], ""
    for relpath, (text, mode) in sorted(plan.files.items()):
        full = os.path.join(path, relpath)
        if relpath in LOG_RUNS and not os.path.isdir(os.path.join(path, LOG_RUNS[relpath])):
            _create_log(path, LOG_RUNS[relpath], (text, mode))
            changed.append(relpath)
            continue
        if _read(full) == text.encode():
            if os.stat(full).st_mode & 0o7777 != mode:
                os.chmod(full, mode)
                changed.append(relpath)
            continue
        _replace(full, text, mode)
        changed.append(relpath)
    for relpath in MANAGED:
        if relpath not in plan.files and os.path.lexists(os.path.join(path, relpath)):
            os.unlink(os.path.join(path, relpath))
            changed.append(relpath)
    for relpath, subdir in LOG_RUNS.items():
        if relpath not in plan.files and os.path.isdir(os.path.join(path, subdir)):
            note = "no log wanted any more; %s/ left in place (remove it by hand)" % subdir
    return [c for c in changed if c != MARKER_FILE], note


def _create_log(path, subdir, run):
    """A new log/ (or log-stderr/) in an existing service: built under a dot name,
    renamed into place."""
    import shutil
    temp = os.path.join(path, ".%s.tmp-%d" % (subdir, os.getpid()))
    try:
        os.mkdir(temp, 0o755)
        _fill(temp, {"run": run})
        os.makedirs(os.path.join(temp, "main"), exist_ok=True)
        os.rename(temp, os.path.join(path, subdir))
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def _gone(scandir, plans):
    """Services imported from the same file whose program is no longer in it."""
    from pv.ctl.names import list_or_empty
    source = plans[0].files[MARKER_FILE][0].encode()
    wanted = {plan.name for plan in plans}
    return [Outcome(name, "gone", note="no longer in the file; left in place "
                    "(pv-ctl remove %s)" % name)
            for name in list_or_empty(scandir)
            if name not in wanted and _read(os.path.join(scandir, name, MARKER_FILE)) == source]
