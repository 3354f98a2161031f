"""pv-ctl's names: the scan directory, its services, and NAME resolution.

A service of the scan directory D is an entry that is a directory (or a
symlink to one) whose name does not start with ``.`` -- the rule pv-scan
uses, so a half-made ``.NAME.tmp-PID`` is never one.  A NAME given on the
command line is a name in D, a path to a service directory, ``GROUP:*``
(the services whose ``group`` file says GROUP), a glob over the names in
D, or ``all``.

Supervisor's names work too, as supervisorctl users type them: a service
without a ``group`` file is a group of its own name (``prog:*``); ``GROUP:X``
is the member X of GROUP, or the instance called X in an ``instance-names``
file (``laravel-worker:laravel-worker_03``); such an instance is shown by that
name.  ``NAME:k`` (a number) is instance k, unless an instance is called k.
"""

import os

from pv.servicedir import (GROUP, INSTANCE_DIR, INSTANCES, KnobError, instance_dir, read_first_line,
                           read_instances)

INSTANCE_NAMES = "instance-names"   # line k: the (Supervisor) name of instance k

ENV_SCANDIR = "PV_SCANDIR"
ROOT_SCANDIR = "/etc/pv/service"
ALL = "all"


def default_scandir(environ=None, uid=None):
    """``$PV_SCANDIR``, else /etc/pv/service for root, else the user's config dir."""
    environ = os.environ if environ is None else environ
    uid = os.getuid() if uid is None else uid
    if environ.get(ENV_SCANDIR):
        return environ[ENV_SCANDIR]
    if uid == 0:
        return ROOT_SCANDIR
    config = environ.get("XDG_CONFIG_HOME") or os.path.join(
        environ.get("HOME") or os.path.expanduser("~"), ".config")
    return os.path.join(config, "pv", "service")


def services(scandir):
    """Sorted names of the services in ``scandir``; OSError if unreadable."""
    names = []
    with os.scandir(scandir) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():   # follows symlinks, as pv-scan does
                    names.append(entry.name)
            except OSError:
                continue
    return sorted(names)


def group_of(path):
    """The one word in ``path/group``, or "" if there is none."""
    path = os.path.join(path, GROUP)
    if not os.access(path, os.F_OK):    # the common case, for less than a failed open
        return ""
    try:
        text = read_first_line(path)
    except OSError:
        return ""
    words = (text or "").split()
    return words[0] if words else ""


def group_or_self(scandir, name):
    """The group of service ``name``; without a group file, its own name (Supervisor's rule)."""
    return group_of(os.path.join(scandir, name)) or name


def instance_names(path):
    """The names in ``path/instance-names`` (one a line, at most 4096), or []."""
    try:
        with open(os.path.join(path, INSTANCE_NAMES), encoding="utf-8", errors="replace") as f:
            lines = f.read(1 << 16).split("\n")[:4096]
    except OSError:
        return []
    return [line.strip() for line in lines if line.strip()]


class Target:
    """One service to act on: its display name and its directory."""

    __slots__ = ("name", "path")

    def __init__(self, name, path):
        self.name = name
        self.path = path

    def __repr__(self):
        return "Target(%r, %r)" % (self.name, self.path)

    def __eq__(self, other):
        return isinstance(other, Target) and (self.name, self.path) == (other.name, other.path)

    def __hash__(self):
        return hash(self.path)


def is_glob(word):
    return any(ch in word for ch in "*?[")


def _is_path(word):
    return "/" in word or word in (".", "..")


def instances_of(target):
    """``[target]``, or one Target ``NAME:k`` per instance of an ``instances`` dir."""
    # Most services have no ``instances`` file: access(2) says so for less
    # than a failed open(2) and its exception cost (1,000 names: 2 ms).
    if not os.access(target.path + "/" + INSTANCES, os.F_OK):
        return [target]
    try:
        count = read_instances(target.path)
    except (KnobError, OSError):
        count = None
    if count is None:
        return [target]
    names = instance_names(target.path)
    group = group_of(target.path) or target.name
    return [Target("%s:%s" % ((group, names[k]) if k < len(names) else (target.name, k)),
                   instance_dir(target.path, k))
            for k in range(count)]


def _match_one(scandir, names, word):
    """The targets one NAME stands for (empty: no such service)."""
    found = []
    for target in _match_entries(scandir, names, word):
        found.extend([target] if _is_instance(target) else instances_of(target))
    return found


def _is_instance(target):
    return os.path.basename(os.path.dirname(target.path)) == INSTANCE_DIR


def _match_entries(scandir, names, word):
    """The entries of D (or the path) one NAME stands for; NAME:k is an instance."""
    join = os.path.join
    name, _, k = word.rpartition(":")
    if word == ALL:
        return [Target(n, join(scandir, n)) for n in names]
    if _is_path(word):
        path = word.rstrip("/") or "/"
        if os.path.isdir(path):
            return [Target(os.path.basename(os.path.abspath(path)), path)]
        return []
    if name and not is_glob(name):
        found = _in_group(scandir, names, name, k)
        if found or k in ("", "*") or not (k.isdigit() and name in names):
            return found
        path = instance_dir(join(scandir, name), int(k))
        return [Target(word, path)] if os.path.isdir(path) else []
    if is_glob(word):
        import fnmatch
        return [Target(n, join(scandir, n)) for n in names if fnmatch.fnmatchcase(n, word)]
    if word in names:
        return [Target(word, join(scandir, word))]
    return []


def _in_group(scandir, names, group, rest):
    """``GROUP:REST``: members of GROUP named REST (a glob; empty or * for all), or
    their instances so named in instance-names."""
    found = []
    for n in names:
        if group_or_self(scandir, n) != group:
            continue
        path = os.path.join(scandir, n)
        if _glob_ok(rest, n):
            found.append(Target(n, path))
            continue
        members = instances_of(Target(n, path))
        if members == [Target(n, path)]:
            if rest in instance_names(path)[:1]:
                found.append(members[0])
            continue
        found.extend(t for t in members if _glob_ok(rest, t.name.partition(":")[2]))
    return found


def _glob_ok(pattern, name):
    if pattern in ("", "*"):
        return True
    import fnmatch
    return fnmatch.fnmatchcase(name, pattern)


def resolve(scandir, words, names=None):
    """(targets in order without duplicates, unknown words).

    ``names`` are the services of ``scandir`` if already listed; they are
    read only when a word needs them.  An unreadable scan directory counts
    as empty (the caller reports it).
    """
    targets, unknown, seen = [], [], set()
    plain = None
    for word in words:
        if names is None and not _is_path(word):
            names = list_or_empty(scandir)
        if plain is None and names is not None:
            plain = _Plain(scandir, names)
        found = plain.match(word) if plain is not None else None
        if found is None:
            found = _match_one(scandir, names or [], word)
        if not found:
            unknown.append(word)
        for target in found:
            if target.path not in seen:
                seen.add(target.path)
                targets.append(target)
    return targets, unknown


class _Plain:
    """The words that are just a name in D (or ``all``), matched without a
    search: ``pv-ctl status s0001 ... s1000`` resolves 1,000 of them."""

    def __init__(self, scandir, names):
        self.names, self.known = names, set(names)
        self.prefix = os.path.join(scandir, "")    # + name: os.path.join(scandir, name)
        # Only a D that is some S/instance/ holds instances already.
        self.expand = not _is_instance(Target("", self.prefix + "x"))

    def match(self, word):
        """The targets of ``word`` if it is ``all`` or a plain name in D, else None."""
        if word == ALL:
            found = []
            for name in self.names:
                found += self.targets(name)
            return found
        if word in self.known and not _SPECIAL.intersection(word):
            return self.targets(word)
        return None

    def targets(self, name):
        target = Target(name, self.prefix + name)
        return instances_of(target) if self.expand else [target]


_SPECIAL = frozenset(":*?[")     # a group, an instance or a glob: the general path


def list_or_empty(scandir):
    try:
        return services(scandir)
    except OSError:
        return []


def groups(scandir, names=None):
    """Sorted group names used in ``scandir`` (for completion)."""
    names = list_or_empty(scandir) if names is None else names
    return sorted({g for g in (group_of(os.path.join(scandir, n)) for n in names) if g})
