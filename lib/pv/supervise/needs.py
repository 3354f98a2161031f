"""Ordering by ``needs``: who may start, and who must stop first.

A service's ``needs`` file names services of the same scan directory that
must be up (ready, where they declare readiness) before it starts.  At
shutdown the order is reversed: a service stops only once nothing that
needs it is still running.  Unknown names and cycles are reported once and
then ignored, so a mistake never leaves a service waiting forever.
"""

import os

from pv import servicedir


def name_of(service):
    """The name in the scan directory (the entry, even where it is a link);
    the instances of an ``instances`` directory all answer to its name."""
    name = os.path.basename(service.label)
    return name.rsplit(":", 1)[0] if service.main.instance is not None else name


def by_name(services):
    """{name: [services]}: one for a plain entry, all instances for an instanced one."""
    found = {}
    for service in services:
        found.setdefault(name_of(service), []).append(service)
    return found


def graph(services, report):
    """{name: [names it needs]} over ``services``, without unknown names or cycles."""
    named = by_name(services)
    edges = {}
    for name, group in named.items():
        service = group[0]
        wanted = []
        for other in servicedir.read_needs(service.path):
            if other == name:
                report(service, "needs: %s needs itself; ignored" % name)
            elif other in named:
                wanted.append(other)
            else:
                report(service, "needs: %s needs %s, but there is no such service here; ignored"
                       % (name, other))
        edges[name] = wanted
    for name in in_cycles(edges):
        report(named[name][0], "needs: %s is part of a cycle; its needs are ignored" % name)
        edges[name] = []
    return edges


def in_cycles(edges):
    """Names that lie on a cycle of ``edges`` (iterative depth-first search)."""
    on_cycle, done = set(), set()
    for root in edges:
        stack, path = [(root, iter(edges.get(root, ())))], [root]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                done.add(node)
            elif child in path:
                on_cycle.update(path[path.index(child):])
            elif child not in done:
                stack.append((child, iter(edges.get(child, ()))))
                path.append(child)
    return on_cycle


class Needs:
    """The ``needs`` graph of a set of services, built once per change of the set
    (reading every ``needs`` file for every start would cost pv-scan O(N^2))."""

    def __init__(self, services, report):
        self.named = by_name(services)
        self.edges = graph(services, report)
        self.needed_by = {}
        for name, others in self.edges.items():
            for other in others:
                self.needed_by.setdefault(other, set()).add(name)

    def may_start(self, service):
        """Whether every service ``service`` needs is up."""
        return all(s.is_up() for other in self.edges.get(name_of(service), ())
                   for s in self.named[other])

    def may_stop(self, service, live_names):
        """At shutdown: whether no other live service needs ``service``."""
        mine = name_of(service)
        return not (self.needed_by.get(mine, set()) & (live_names - {mine}))
