"""The HTTP side of pv-http: bounds, identity, the CSRF rule and the route table.

Every route is in ROUTES (exact paths) or PREFIXES (a path under a fixed
prefix); the rest is 404.  Only POST changes anything; a POST must carry a
JSON or XML content type (which a cross-site form cannot send without a
CORS preflight, which pv-http never grants) and, if it has an ``Origin``,
one equal to the page's own.
"""

import http.server
import ipaddress
import pwd
import traceback

from pv.http import access, routes
from pv.http.model import RowCache

MAX_BODY = 1 << 20              # bytes in one request body
MAX_LINE = 65536                # bytes in the request line (as http.server)
METHODS = ("GET", "HEAD", "POST")
REQUEST_SECS = 30.0             # to send a whole request, or to idle between two
XML_TYPES = ("text/xml", "application/xml")
JSON_TYPE = "application/json"


class App:
    """What every request needs: the scan directory, options, the journal."""

    def __init__(self, scandir, journal, credentials=None, wait_secs=10.0,
                 request_secs=REQUEST_SECS, max_body=MAX_BODY, hosts=()):
        self.scandir, self.journal, self.credentials = scandir, journal, credentials
        self.hosts = {h.lower() for h in hosts} | {"localhost"}
        self.wait_secs, self.request_secs, self.max_body = wait_secs, request_secs, max_body
        self.rows = RowCache()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pv-http/0.1"
    sys_version = ""

    def __init__(self, sock, listener, server, app, caller):
        self.listener, self.pv_server, self.app, self.caller = listener, server, app, caller
        super().__init__(sock, ("", 0), server)

    def log_message(self, format, *args):   # noqa: A002 - the library does not print
        pass

    def handle_one_request(self):
        """Read one request and dispatch it by a fixed set of methods.

        Replaces http.server's, which looks up ``do_`` + the request's
        method among the handler's attributes: no name from a request is
        looked up here.  The deadline covers reading the request.
        """
        self.pv_server.arm(self.connection, self.app.request_secs)
        try:
            self.raw_requestline = self.rfile.readline(MAX_LINE + 1)
        except OSError:         # the deadline shut the socket down, or a reset
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > MAX_LINE:
            self.requestline = self.request_version = self.command = ""
            self.close_connection = True
            self.send_error(414)
            return
        if not self.parse_request():
            return
        if self.command not in METHODS:
            self.send_error(501, "Unsupported method")
            return
        self._dispatch()
        self.wfile.flush()

    # --- replies --------------------------------------------------------------------
    def reply(self, status, ctype, body, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def text(self, status, message, headers=()):
        self.reply(status, "text/plain; charset=utf-8", (message + "\n").encode(), headers)

    def stream(self, ctype, chunks):
        """Send ``chunks`` with chunked encoding, then close the connection."""
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        try:
            for data in chunks:
                if data:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass            # the client went away

    # --- requests -------------------------------------------------------------------
    def _body(self):
        """The request body, or None after an error reply."""
        if self.command != "POST":
            if self.headers.get("Content-Length", "0") != "0" or \
                    self.headers.get("Transfer-Encoding"):
                self.close_connection = True    # a body we do not read: never a next request
            return b""
        if self.headers.get("Transfer-Encoding"):
            self.text(411, "send a Content-Length")
            return None
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.text(411, "send a Content-Length")
            return None
        if length < 0 or length > self.app.max_body:
            self.close_connection = True
            self.text(413, "request body too large")
            return None
        body = self.rfile.read(length)
        if len(body) != length:
            self.close_connection = True
            return None
        return body

    def _authorised(self):
        """Basic auth on TCP when credentials are set; the Caller is the admin then."""
        if self.listener.kind != "tcp" or self.app.credentials is None:
            return True
        if access.check_basic(self.headers.get("Authorization"), self.app.credentials):
            self.caller = access.Caller(admin=True, label="basic %s" % self.app.credentials[0])
            return True
        self.text(401, "authentication required", [("WWW-Authenticate", 'Basic realm="pv"')])
        return False

    def _foreign_host(self):
        """On TCP, a Host that is neither an address, localhost nor --allow-host: refuse it.

        A browser led to 127.0.0.1 by a hostile DNS name (DNS rebinding)
        sends that name as Host.
        """
        if self.listener.kind != "tcp":
            return False
        host = (self.headers.get("Host") or "").strip().lower()
        name = host[1:host.find("]")] if host.startswith("[") else host.rsplit(":", 1)[0] \
            if host.count(":") == 1 else host
        try:
            ipaddress.ip_address(name)
            return False
        except ValueError:
            pass
        if name in self.app.hosts:
            return False
        self.text(421, "unknown Host (see --allow-host)")
        return True

    def _cross_site(self, path):
        """A POST a browser could have sent from another site: refuse it."""
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        wanted = XML_TYPES if path == "/RPC2" else (JSON_TYPE,)
        if ctype not in wanted:
            self.text(415, "a POST here must be %s" % " or ".join(wanted))
            return True
        origin = self.headers.get("Origin")
        if origin is not None and origin != "http://%s" % self.headers.get("Host", ""):
            self.text(403, "cross-site request refused")
            return True
        return False

    def _dispatch(self):
        path, _, query = self.path.partition("?")
        body = self._body()
        self.pv_server.disarm(self.connection)
        if body is None or self._foreign_host() or not self._authorised():
            return
        if self.command == "POST" and self._cross_site(path):
            return
        method = "GET" if self.command == "HEAD" else self.command
        route, rest = routes.find(method, path)
        if route is None:
            allowed = routes.exists(path)
            self.text(405 if allowed else 404, "method not allowed" if allowed else "not found")
            return
        try:
            route(self, rest, query, body)
        except Exception:   # noqa: BLE001 - one request's bug is a 500, not a dead server
            self.app.journal.add("internal error: %s" % traceback.format_exc(limit=3)
                                 .replace("\n", " | "))
            self.close_connection = True
            try:
                self.text(500, "internal error")
            except OSError:
                pass


def serve_connection(app):
    """The function Server runs for each accepted connection."""
    def serve(sock, listener, server):
        sock.settimeout(app.request_secs)
        caller = _identify(sock, listener)
        Handler(sock, listener, server, app, caller)
    return serve


def _identify(sock, listener):
    if listener.kind == "unix":
        try:
            return access.peer_of_unix(sock)
        except OSError:
            return access.Caller(label="unix unknown")
    client, here = sock.getpeername(), sock.getsockname()
    if access.is_loopback(client[0]):
        uid = access.loopback_owner(client, here)
        if uid is not None:
            try:
                gid = pwd.getpwuid(uid).pw_gid
            except KeyError:
                gid = None
            return access.for_uid(uid, gid, "tcp")
    return access.Caller(label="tcp %s" % client[0])
