/**
 * The operations page's three files, shipped in the package as strings (no build step copies assets, no CDN): the
 * HTML, its script and its style sheet. `String.raw` keeps the script's escapes (`\n`) as the browser must read them;
 * the script holds no template literal.
 */

/** Escapes text for an HTML attribute or element. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page. `base` is the URL path it was served under (e.g. `/admin`): its script, style sheet and API live below.
 * No inline script or style: the script reads `data-base` from the body.
 */
export function adminHtml(base: string): string {
  const b = escapeHtml(base);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Operations · nest-redis-kit</title>
<link rel="stylesheet" href="${b}/assets/admin.css">
<script src="${b}/assets/admin.js" defer></script>
</head>
<body data-base="${b}">
<header><h1>Operations</h1><span id="mode"></span><span id="status" role="status"></span></header>
<main>
<section id="charts-section"><h2>Rates (per second)</h2><div id="charts" class="charts"></div></section>
<section><h2>Redis</h2><table id="server"></table></section>
<section><h2>Streams</h2><table id="streams"></table></section>
<section id="dlq-section" hidden>
  <h2>Dead letters of <span id="dlq-stream"></span> (<span id="dlq-total">0</span>)</h2>
  <div class="bar">
    <input id="dlq-error" placeholder="error contains" aria-label="error contains">
    <input id="dlq-group" placeholder="group" aria-label="group">
    <button id="dlq-redrive-filtered" class="change">Redrive matching</button>
    <button id="dlq-redrive-all" class="change">Redrive all</button>
    <button id="dlq-delete-all" class="change danger">Delete all</button>
  </div>
  <table id="dlq"></table>
  <div class="bar"><button id="dlq-first">First page</button><button id="dlq-next">Next page</button></div>
  <pre id="dlq-detail" hidden></pre>
</section>
<section><h2>Sessions of a user</h2>
  <div class="bar"><input id="user-id" placeholder="user id" aria-label="user id"><button id="user-load">Show sessions</button>
  <button id="user-revoke-all" class="change danger">Revoke all</button></div>
  <table id="sessions"></table>
</section>
<section><h2>Locks and semaphores</h2><table id="locks"></table></section>
<section><h2>Cache</h2><table id="cache"></table><div class="bar"><button id="cache-clear" class="change danger">Clear the cache</button></div></section>
<section><h2>Scheduled jobs</h2><table id="jobs"></table></section>
</main>
</body>
</html>
`;
}

/** The page's style sheet. */
export const ADMIN_CSS = String.raw`
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d232a; background: #f5f6f8; }
header { display: flex; gap: 1rem; align-items: baseline; padding: .6rem 1rem; background: #1d232a; color: #fff; }
header h1 { font-size: 1.1rem; margin: 0; }
#mode { color: #ffd666; }
#status { margin-left: auto; font-size: .85rem; }
main { padding: 0 1rem 2rem; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: .5rem .8rem; margin-top: 1rem; }
h2 { font-size: 1rem; margin: .2rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid #eef0f3; vertical-align: top; }
th { font-weight: 600; color: #4a5360; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: flex; gap: .5rem; margin: .4rem 0; flex-wrap: wrap; }
button { cursor: pointer; border: 1px solid #aab2bd; background: #fff; border-radius: 4px; padding: .2rem .6rem; }
button.danger { border-color: #d9534f; color: #b52b27; }
body.read-only .change { display: none; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: .6rem; }
.chart { border: 1px solid #eef0f3; border-radius: 4px; padding: .3rem; }
.chart .label { font-size: .8rem; color: #4a5360; display: flex; justify-content: space-between; }
.chart canvas { width: 100%; height: 60px; display: block; }
pre { background: #f5f6f8; padding: .5rem; overflow: auto; max-height: 20rem; }
.error { color: #b52b27; }
`;

/** The page's script: polls the JSON API, draws the rate charts on canvases, runs the actions after a confirmation. */
export const ADMIN_JS = String.raw`(function () {
  'use strict';
  var base = document.body.getAttribute('data-base') || '';
  var api = base + '/api';
  var state = { overview: null, stream: null, after: null, pages: [], readOnly: false };
  var SERIES = [
    ['added', 'messaging', 'Messages added'],
    ['handled', 'messaging', 'Messages handled'],
    ['failed', 'messaging', 'Attempts failed'],
    ['deadLettered', 'messaging', 'Dead-lettered'],
    ['hits', 'cache', 'Cache hits'],
    ['misses', 'cache', 'Cache misses'],
    ['ops', 'server', 'Redis commands']
  ];
  var history = {};
  var POINTS = 60;

  function $(id) { return document.getElementById(id); }
  function status(text, bad) { var s = $('status'); s.textContent = text; s.className = bad ? 'error' : ''; }

  function call(method, path, body) {
    var init = { method: method, credentials: 'same-origin', headers: { accept: 'application/json' } };
    if (body !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(api + path, init).then(function (res) {
      return res.text().then(function (text) {
        var data = text ? JSON.parse(text) : null;
        if (!res.ok) {
          var message = (data && data.message) || res.statusText;
          throw new Error(res.status + ': ' + (Array.isArray(message) ? message.join(', ') : message));
        }
        return data;
      });
    });
  }

  function cell(row, text, cls) {
    var td = document.createElement('td');
    td.textContent = text === null || text === undefined ? '-' : String(text);
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }
  function table(id, headers, rows) {
    var t = $(id);
    t.textContent = '';
    var head = document.createElement('tr');
    headers.forEach(function (h) { var th = document.createElement('th'); th.textContent = h; head.appendChild(th); });
    t.appendChild(head);
    rows.forEach(function (r) { t.appendChild(r); });
    if (rows.length === 0) { var tr = document.createElement('tr'); var td = cell(tr, 'none'); td.colSpan = headers.length; t.appendChild(tr); }
  }
  function row() { return document.createElement('tr'); }
  function button(parent, text, cls, onClick) {
    var b = document.createElement('button');
    b.textContent = text;
    if (cls) b.className = cls;
    b.addEventListener('click', onClick);
    parent.appendChild(b);
    return b;
  }
  function act(question, work) {
    if (state.readOnly) return;
    if (!window.confirm(question)) return;
    status('working…');
    work().then(function (r) { status('done: ' + JSON.stringify(r)); $('dlq-detail').hidden = true; refreshAll(); }, function (e) { status(e.message, true); });
  }
  function ms(n) { return n === null || n === undefined ? '-' : n < 1000 ? n + ' ms' : (n / 1000).toFixed(1) + ' s'; }
  function mb(n) { return (n / 1048576).toFixed(1) + ' MB'; }

  // Charts: one canvas per series, the rate between two polls, drawn by hand.
  function chartFor(key, label) {
    var box = $('chart-' + key);
    if (box) return box;
    box = document.createElement('div');
    box.className = 'chart';
    box.id = 'chart-' + key;
    var l = document.createElement('div');
    l.className = 'label';
    var name = document.createElement('span'); name.textContent = label;
    var value = document.createElement('span'); value.className = 'value'; value.textContent = '-';
    l.appendChild(name); l.appendChild(value);
    var c = document.createElement('canvas');
    c.width = 220; c.height = 60;
    box.appendChild(l); box.appendChild(c);
    $('charts').appendChild(box);
    return box;
  }
  function draw(key, label, points) {
    var box = chartFor(key, label);
    var c = box.querySelector('canvas');
    var g = c.getContext('2d');
    var w = c.width, h = c.height;
    g.clearRect(0, 0, w, h);
    var max = Math.max.apply(null, points.concat([1]));
    g.strokeStyle = '#eef0f3';
    g.beginPath(); g.moveTo(0, h - 0.5); g.lineTo(w, h - 0.5); g.stroke();
    g.strokeStyle = '#2f6fdf';
    g.lineWidth = 1.5;
    g.beginPath();
    points.forEach(function (p, i) {
      var x = points.length > 1 ? (i / (POINTS - 1)) * w : 0;
      var y = h - 2 - (p / max) * (h - 6);
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
    var last = points.length ? points[points.length - 1] : 0;
    box.querySelector('.value').textContent = (Math.round(last * 10) / 10) + '/s · max ' + Math.round(max);
  }
  function valueOf(o, series) {
    if (series[1] === 'server') return o.opsPerSecond;
    var group = o[series[1]];
    return group ? group[series[0]] : null;
  }
  function pollOverview() {
    return call('GET', '/overview').then(function (o) {
      state.readOnly = o.readOnly;
      document.body.classList.toggle('read-only', o.readOnly);
      $('mode').textContent = o.readOnly ? 'read-only' : '';
      var prev = state.overview;
      state.overview = o;
      SERIES.forEach(function (s) {
        var now = valueOf(o, s);
        if (now === null || now === undefined) return;
        var rate;
        if (s[1] === 'server') rate = now;
        else if (!prev) return;
        else rate = Math.max(0, (now - valueOf(prev, s)) / Math.max(0.001, (o.atMs - prev.atMs) / 1000));
        var h = history[s[0]] || (history[s[0]] = []);
        h.push(rate);
        if (h.length > POINTS) h.shift();
        draw(s[0], s[2], h);
      });
      status('updated ' + new Date(o.atMs).toLocaleTimeString());
    }, function (e) { status(e.message, true); });
  }

  function loadServer() {
    return call('GET', '/server').then(function (r) {
      table('server', ['node', 'version', 'role', 'memory', 'ops/s', 'clients', 'keys', 'uptime'], r.servers.map(function (s) {
        var tr = row();
        cell(tr, s.node); cell(tr, s.version); cell(tr, s.role); cell(tr, mb(s.usedMemoryBytes), 'num');
        cell(tr, s.opsPerSecond, 'num'); cell(tr, s.clients, 'num'); cell(tr, s.keys, 'num'); cell(tr, s.uptimeSeconds + ' s', 'num');
        return tr;
      }));
    });
  }

  function loadStreams() {
    return call('GET', '/streams').then(function (r) {
      var rows = [];
      r.streams.forEach(function (s) {
        var tr = row();
        tr.setAttribute('data-stream', s.name);
        cell(tr, s.name); cell(tr, s.length, 'num');
        var d = cell(tr, s.deadLetters, 'num dlq-count');
        cell(tr, s.delayed + (s.nextDueAtMs ? ' (next ' + new Date(s.nextDueAtMs).toISOString() + ')' : ''), 'num');
        cell(tr, s.groups.map(function (g) {
          return g.name + ': pending ' + g.pending + ', lag ' + (g.lag === null ? '?' : g.lag) + ', oldest ' + ms(g.oldestPendingAgeMs) +
            ' [' + g.consumers.map(function (c) { return c.name + ' ' + c.pending + ' pending, idle ' + ms(c.idleMs); }).join('; ') + ']';
        }).join(' | '));
        var actions = cell(tr, '');
        actions.textContent = '';
        button(actions, 'Dead letters', 'browse', function () { openDlq(s.name); });
        rows.push(tr);
        if (state.stream === s.name) $('dlq-total').textContent = String(s.deadLetters);
        d.title = 'dead letters';
      });
      table('streams', ['stream', 'length', 'DLQ', 'delayed', 'groups (pending, lag, oldest pending, consumers)', ''], rows);
    });
  }

  function openDlq(name) {
    state.stream = name; state.after = null; state.pages = [];
    $('dlq-section').hidden = false;
    $('dlq-stream').textContent = name;
    $('dlq-detail').hidden = true;
    return loadDlq();
  }
  function dlqPath() { return '/streams/' + encodeURIComponent(state.stream) + '/dlq'; }
  function loadDlq() {
    if (!state.stream) return Promise.resolve();
    var q = '?limit=20' + (state.after ? '&after=' + encodeURIComponent(state.after) : '');
    return call('GET', dlqPath() + q).then(function (page) {
      $('dlq-total').textContent = String(page.total);
      $('dlq-next').disabled = !page.next;
      state.next = page.next;
      table('dlq', ['id', 'failed at', 'group', 'attempts', 'error', ''], page.items.map(function (m) {
        var tr = row();
        tr.setAttribute('data-id', m.id);
        cell(tr, m.id); cell(tr, m.failedAt); cell(tr, m.group); cell(tr, m.attempts, 'num'); cell(tr, m.error, 'error');
        var a = cell(tr, ''); a.textContent = '';
        button(a, 'Read', 'read', function () { readOne(m.id); });
        button(a, 'Redrive', 'change redrive', function () {
          act('Redrive dead letter ' + m.id + ' to stream ' + state.stream + '?', function () { return call('POST', dlqPath() + '/' + m.id + '/redrive'); });
        });
        button(a, 'Delete', 'change danger delete', function () {
          act('Delete dead letter ' + m.id + ' for good?', function () { return call('DELETE', dlqPath() + '/' + m.id); });
        });
        return tr;
      }));
    });
  }
  function readOne(id) {
    call('GET', dlqPath() + '/' + id).then(function (m) {
      var p = $('dlq-detail');
      p.hidden = false;
      p.textContent = 'Failure: ' + m.error + '\nAttempts: ' + m.attempts + ', group ' + m.group + ', consumer ' + m.consumer +
        '\n\n' + (m.message !== null ? JSON.stringify(m.message, null, 2) : m.data);
    }, function (e) { status(e.message, true); });
  }
  function filterBody() {
    var f = {};
    if ($('dlq-error').value) f.error = $('dlq-error').value;
    if ($('dlq-group').value) f.group = $('dlq-group').value;
    return { filter: f };
  }

  function loadSessions() {
    var user = $('user-id').value.trim();
    if (!user) return Promise.resolve();
    return call('GET', '/users/' + encodeURIComponent(user) + '/sessions').then(function (r) {
      table('sessions', ['session', 'created', 'expires', 'ip', 'user agent', ''], r.sessions.map(function (s) {
        var tr = row();
        tr.setAttribute('data-sid', s.id);
        cell(tr, s.id.slice(0, 8) + '…'); cell(tr, s.createdAt); cell(tr, s.expiresAt); cell(tr, s.ip); cell(tr, s.userAgent);
        var a = cell(tr, ''); a.textContent = '';
        button(a, 'Revoke', 'change danger revoke', function () {
          act('Revoke this session of user ' + user + '?', function () {
            return call('DELETE', '/users/' + encodeURIComponent(user) + '/sessions/' + encodeURIComponent(s.id));
          });
        });
        return tr;
      }));
    }, function (e) { status(e.message, true); });
  }

  function loadLocks() {
    return call('GET', '/locks').then(function (r) {
      var rows = r.locks.map(function (l) {
        var tr = row(); cell(tr, 'lock'); cell(tr, l.resource); cell(tr, l.holder); cell(tr, ms(l.leaseLeftMs), 'num'); cell(tr, l.fence, 'num'); return tr;
      });
      r.semaphores.forEach(function (s) {
        s.permits.forEach(function (p) {
          var tr = row(); cell(tr, 'semaphore'); cell(tr, s.name); cell(tr, p.holder); cell(tr, ms(p.leaseLeftMs), 'num'); cell(tr, null); rows.push(tr);
        });
      });
      table('locks', ['kind', 'name', 'holder', 'lease left', 'fence'], rows);
    });
  }
  function loadCache() {
    if (!state.overview || !state.overview.cache) { table('cache', ['cache'], []); return Promise.resolve(); }
    var c = state.overview.cache;
    var tr = row();
    cell(tr, c.hitRatio === null ? '-' : (c.hitRatio * 100).toFixed(1) + ' %', 'num');
    cell(tr, c.hits, 'num'); cell(tr, c.misses, 'num'); cell(tr, c.outages, 'num'); cell(tr, c.errors, 'num'); cell(tr, c.staleServed, 'num');
    table('cache', ['hit ratio', 'hits', 'misses', 'outages', 'errors', 'stale served'], [tr]);
    return Promise.resolve();
  }
  function loadJobs() {
    if (!state.overview || !state.overview.features.schedule) { table('jobs', ['jobs'], []); return Promise.resolve(); }
    return call('GET', '/schedule').then(function (r) {
      table('jobs', ['job', 'trigger', 'next run', 'last run', 'last took', 'last result', 'runs', 'failures', 'running'], r.jobs.map(function (j) {
        var tr = row();
        cell(tr, j.name); cell(tr, j.trigger); cell(tr, j.nextRunAt ? new Date(j.nextRunAt).toISOString() : null);
        cell(tr, j.lastRunAt ? new Date(j.lastRunAt).toISOString() : null); cell(tr, ms(j.lastDurationMs));
        cell(tr, j.lastResult === 'failed' ? 'failed: ' + j.lastError : j.lastResult, j.lastResult === 'failed' ? 'error' : '');
        cell(tr, j.runs, 'num'); cell(tr, j.failures, 'num'); cell(tr, j.running ? 'yes' : 'no');
        return tr;
      }));
    });
  }

  function refreshAll() {
    return pollOverview().then(function () {
      return Promise.all([loadServer(), loadStreams(), loadDlq(), loadSessions(), loadLocks(), loadCache(), loadJobs()]);
    }).then(function () { document.body.setAttribute('data-loaded', 'true'); }, function (e) { status(e.message, true); });
  }

  $('dlq-first').addEventListener('click', function () { state.after = null; loadDlq(); });
  $('dlq-next').addEventListener('click', function () { if (state.next) { state.after = state.next; loadDlq(); } });
  $('dlq-redrive-filtered').addEventListener('click', function () {
    act('Redrive every dead letter of ' + state.stream + ' matching the filter?', function () { return call('POST', dlqPath() + '/redrive', filterBody()); });
  });
  $('dlq-redrive-all').addEventListener('click', function () {
    act('Redrive ALL dead letters of ' + state.stream + '?', function () { return call('POST', dlqPath() + '/redrive', { all: true }); });
  });
  $('dlq-delete-all').addEventListener('click', function () {
    act('Delete ALL dead letters of ' + state.stream + ' for good?', function () { return call('POST', dlqPath() + '/delete', { all: true }); });
  });
  $('user-load').addEventListener('click', function () { loadSessions(); });
  $('user-revoke-all').addEventListener('click', function () {
    var user = $('user-id').value.trim();
    if (user) act('Revoke every session of user ' + user + '?', function () { return call('DELETE', '/users/' + encodeURIComponent(user) + '/sessions'); });
  });
  $('cache-clear').addEventListener('click', function () {
    act('Clear the whole cache namespace?', function () { return call('POST', '/cache/clear'); });
  });

  refreshAll();
  setInterval(pollOverview, 2000);
  setInterval(function () { Promise.all([loadServer(), loadStreams(), loadLocks(), loadCache(), loadJobs()]).catch(function (e) { status(e.message, true); }); }, 5000);
})();
`;
