"""The web page at / and its script at /app.js: plain HTML, a little JavaScript.

The script reads /v1/services every two seconds, and at once when the event
stream (/v1/events) reports a transition; it POSTs actions as JSON
(a content type a cross-site form cannot send); the Content-Security-Policy
allows scripts from pv-http only.
"""

CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; "
       "style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; form-action 'none'")

HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pv</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0.5em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.3em 0.5em; border-bottom: 1px solid #ddd; }
td.pid, td.uptime { font-variant-numeric: tabular-nums; }
.state { font-weight: bold; padding: 0.1em 0.4em; border-radius: 0.3em; color: #fff; }
.s-running, .s-ready { background: #2a7a2a; }
.s-starting, .s-stopping, .s-finishing, .s-backoff { background: #b07800; }
.s-down { background: #777; }
.s-fatal, .s-unsupervised, .s-unknown { background: #b02020; }
button { margin: 0.1em; padding: 0.3em 0.6em; }
pre#log { background: #111; color: #ddd; padding: 0.5em; max-height: 50vh; overflow: auto;
          white-space: pre-wrap; }
#message { color: #b02020; }
@media (max-width: 600px) { td.why, th.why, td.uptime, th.uptime { display: none; } }
</style></head>
<body>
<h1>pv</h1>
<p><button id="restart-all">restart all</button> <span id="message"></span></p>
<table><thead><tr><th>service</th><th>state</th><th>pid</th>
<th class="uptime">uptime</th><th class="why">why</th><th></th></tr></thead>
<tbody id="services"></tbody></table>
<div id="groups"></div>
<h2 id="log-title" hidden>log</h2>
<pre id="log" hidden></pre>
<script src="/app.js"></script>
</body></html>
"""

SCRIPT = r"""'use strict';
let logName = null, logOffset = null, logTimer = null;

function duration(s) {
  s = Math.max(0, Math.floor(s));
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + String(s % 60).padStart(2, '0') + 's';
  if (s < 86400)
    return Math.floor(s / 3600) + 'h' + String(Math.floor(s % 3600 / 60)).padStart(2, '0') + 'm';
  return Math.floor(s / 86400) + 'd' + String(Math.floor(s % 86400 / 3600)).padStart(2, '0') + 'h';
}

function cell(row, text, cls) {
  const td = document.createElement('td');
  if (cls) td.className = cls;
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function button(label, onclick, enabled) {
  const b = document.createElement('button');
  b.textContent = label;
  b.disabled = !enabled;
  b.addEventListener('click', onclick);
  return b;
}

async function act(name, verb) {
  const message = document.getElementById('message');
  message.textContent = verb + ' ' + name + '...';
  try {
    const r = await fetch('/v1/services/' + encodeURIComponent(name) + '/' + verb, {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'});
    const answer = await r.json();
    message.textContent = r.ok ? '' : (answer.error ||
      answer.results.filter(x => x.result !== 'ok').map(x => x.name + ': ' + x.result).join(', '));
  } catch (e) {
    message.textContent = String(e);
  }
  refresh();
}

function render(services) {
  const body = document.getElementById('services');
  body.textContent = '';
  const groups = {};
  for (const s of services) {
    const up = ['running', 'ready', 'starting', 'stopping'].includes(s.state);
    const row = document.createElement('tr');
    row.id = 'row-' + s.name;
    row.dataset.name = s.name;
    cell(row, s.name, 'name');
    const st = cell(row, '', 'state-cell');
    const badge = document.createElement('span');
    badge.className = 'state s-' + s.state;
    badge.textContent = s.state;
    st.appendChild(badge);
    cell(row, up && s.pid ? String(s.pid) : '-', 'pid');
    cell(row, s.uptime === null ? '-' : duration(s.uptime), 'uptime');
    cell(row, s.why || '', 'why');
    const tools = cell(row, '', 'tools');
    for (const verb of ['start', 'stop', 'restart']) {
      const b = button(verb, () => act(s.name, verb), s.may_control);
      b.className = verb;
      tools.appendChild(b);
    }
    tools.appendChild(button('log', () => showLog(s.name), true));
    body.appendChild(row);
    if (s.group && s.group !== s.name) (groups[s.group] = groups[s.group] || []).push(s);
  }
  const box = document.getElementById('groups');
  box.textContent = '';
  for (const g of Object.keys(groups).sort()) {
    const p = document.createElement('p');
    p.textContent = 'group ' + g + ': ';
    const may = groups[g].every(s => s.may_control);
    for (const verb of ['start', 'stop', 'restart'])
      p.appendChild(button(verb, () => act(g + ':*', verb), may));
    box.appendChild(p);
  }
}

async function refresh() {
  try {
    const r = await fetch('/v1/services');
    if (r.ok) render(await r.json());
  } catch (e) {
    document.getElementById('message').textContent = 'pv-http unreachable';
  }
}

async function pollLog() {
  if (logName === null) return;
  const q = logOffset === null ? '' : '?offset=' + logOffset;
  try {
    const r = await fetch('/v1/services/' + encodeURIComponent(logName) + '/log' + q);
    if (r.ok) {
      const answer = await r.json();
      const pre = document.getElementById('log');
      if (answer.size < (logOffset || 0)) pre.textContent = '';
      pre.textContent = (pre.textContent + answer.data).slice(-65536);
      pre.scrollTop = pre.scrollHeight;
      logOffset = answer.offset;
    }
  } catch (e) { /* shown by refresh() */ }
  logTimer = setTimeout(pollLog, 1000);
}

function showLog(name) {
  logName = name;
  logOffset = null;
  clearTimeout(logTimer);
  document.getElementById('log-title').hidden = false;
  document.getElementById('log-title').textContent = 'log of ' + name;
  const pre = document.getElementById('log');
  pre.hidden = false;
  pre.textContent = '';
  pollLog();
}

document.getElementById('restart-all').addEventListener('click', () => act('all', 'restart'));
refresh();
setInterval(refresh, 2000);
if (window.EventSource) {
  // every transition refreshes the table at once (polling stays as a fallback)
  let pending = null;
  new EventSource('/v1/events').onmessage = () => {
    if (pending === null) pending = setTimeout(() => { pending = null; refresh(); }, 100);
  };
}
"""
