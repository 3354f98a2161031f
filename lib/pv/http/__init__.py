"""pv-http: Supervisor's XML-RPC, a JSON API, a web page and metrics over one scan directory.

Every route is in one fixed table (``routes``); nothing is looked up by a
name taken from a request.

server    listeners (unix socket 0600, TCP), one thread per connection,
          request deadlines enforced from the accepting loop (no wake-ups
          when there is no client)
handler   the HTTP side: bounds, identity, CSRF rule, the route table
access    who is asking (SO_PEERCRED, loopback owner, Basic auth) and what
          they may do (the ``access`` knob of a service)
model     the services of the scan directory as Supervisor sees them:
          group, process name, state code, the info struct
rpc       the XML-RPC method table, faults, multicall
rpcops    the methods that act (start, stop, signal, groups, reread, update)
logs      reading a service's log by offset; the streams behind tail -f
mainlog   the transition record as Supervisor's main log (maintail)
journal   pv-http's own action log (who did what), in memory
jsonapi   /v1/; sse its event stream
metrics   Prometheus text (also ``pv-ctl metrics``)
page      the HTML page and its script

It reads and controls services only through pv.ctl, pv.control and pv.wait,
as pv-ctl does; it never opens a FIFO or parses a status file itself.
"""
