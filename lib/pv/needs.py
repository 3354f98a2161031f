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
    """The name in the scan directory (the entry, even where it is a link)."""
    return os.path.basename(service.label)


def graph(services, report):
    """{name: [names it needs]} over ``services``, without unknown names or cycles."""
    by_name = {name_of(s): s for s in services}
    edges = {}
    for name, service in by_name.items():
        wanted = []
        for other in servicedir.read_needs(service.path):
            if other in by_name and other != name:
                wanted.append(other)
            else:
                report(service, "needs: no service named %s here; ignored" % other)
        edges[name] = wanted
    for name in in_cycles(edges):
        report(by_name[name], "needs: part of a cycle; its needs are ignored")
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


def may_start(service, services, report):
    """Whether every service ``service`` needs is up."""
    edges = graph(services, report)
    by_name = {name_of(s): s for s in services}
    return all(by_name[other].is_up() for other in edges.get(name_of(service), ()))


def may_stop(service, services, report):
    """At shutdown: whether no other live service needs ``service``."""
    edges = graph(services, report)
    mine = name_of(service)
    return not any(mine in edges[name_of(s)] for s in services if s is not service)
