"""The route table of pv-http: (method, path) -> function(request, rest, query, body)."""

import time
from urllib.parse import unquote

from pv.http import jsonapi, logs, mainlog, metrics, model, page, rpc, sse

XML = "text/xml; charset=utf-8"


def rpc2(req, rest, query, body):
    call = rpc.Call(req.app.scandir, req.caller, req.app.wait_secs, req.app.journal,
                    req.app.rows)
    req.reply(200, XML, rpc.handle(call, body))


def logtail(req, rest, query, body):
    """``/logtail/NAME[/stdout]``: the log, then what is appended (supervisorctl tail -f)."""
    name, _, channel = unquote(rest).partition("/")
    hits, is_group = model.find(model.entries(req.app.scandir), name)
    if is_group or len(hits) != 1 or channel not in ("", "stdout", "stderr"):
        req.text(404, "no such process or channel")
        return
    if channel == "stderr":     # pv logs both together: stdout has it all
        req.stream("text/plain; charset=utf-8", logs.nothing(req.connection))
        return
    follow = logs.Follow(logs.current_path(hits[0].target.path))
    try:
        req.stream("text/plain; charset=utf-8", follow.chunks(req.connection))
    finally:
        follow.close()


def mainlogtail(req, rest, query, body):
    """The transition record as log lines, then each new one (maintail -f)."""
    req.stream("text/plain; charset=utf-8",
               mainlog.follow(req.app.scandir, req.app.journal, req.connection))


def actions(req, rest, query, body):
    """pv-http's own action log: who did what."""
    req.reply(200, "text/plain; charset=utf-8", req.app.journal.read(0, 0))


def index(req, rest, query, body):
    req.reply(200, "text/html; charset=utf-8", page.HTML.encode("utf-8"),
              [("Content-Security-Policy", page.CSP), ("X-Frame-Options", "DENY")])


def script(req, rest, query, body):
    req.reply(200, "text/javascript; charset=utf-8", page.SCRIPT.encode("utf-8"))


def metrics_text(req, rest, query, body):
    req.reply(200, metrics.CONTENT_TYPE, metrics.render(req.app.scandir, time.time()).encode())


ROUTES = {
    ("POST", "/RPC2"): rpc2,
    ("GET", "/mainlogtail"): mainlogtail,
    ("GET", "/v1/actions"): actions,
    ("GET", "/"): index,
    ("GET", "/app.js"): script,
    ("GET", "/metrics"): metrics_text,
    ("GET", "/v1/services"): jsonapi.list_services,
    ("GET", "/v1/events"): sse.events,
    ("POST", "/v1/reread"): jsonapi.reread,
    ("POST", "/v1/update"): jsonapi.update,
}
PREFIXES = (
    ("GET", "/logtail/", logtail),
    ("GET", "/v1/services/", jsonapi.get_service),
    ("POST", "/v1/services/", jsonapi.post_service),
)


def find(method, path):
    """(function, the rest of the path) or (None, "")."""
    route = ROUTES.get((method, path))
    if route is not None:
        return route, ""
    for verb, prefix, function in PREFIXES:
        if verb == method and path.startswith(prefix) and len(path) > len(prefix):
            return function, path[len(prefix):]
    return None, ""


def exists(path):
    """Whether some method serves ``path`` (405 rather than 404)."""
    return any(p == path for _, p in ROUTES) or \
        any(path.startswith(prefix) and len(path) > len(prefix) for _, prefix, _ in PREFIXES)
