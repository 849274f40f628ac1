// Wharf dashboard: plain JavaScript, no build step, no dependencies.
// The API key lives in this tab's sessionStorage only.
(function () {
  'use strict';
  var KEY = 'wharf.apiKey';
  var $ = function (id) { return document.getElementById(id); };
  var state = { key: sessionStorage.getItem(KEY), selected: null,
                sessions: [], ws: null, wsRetry: 1000, timers: [] };

  function api(method, path, body, accept) {
    var headers = { 'X-Api-Key': state.key,
                    'Accept': accept || 'application/json' };
    var init = { method: method, headers: headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (r) {
      if (r.status === 401) { forget('The key was refused.'); throw new Error('401'); }
      if (accept && accept.indexOf('image/') === 0) {
        return r.ok ? r.blob() : Promise.reject(new Error(String(r.status)));
      }
      return r.text().then(function (t) {
        var v = null;
        try { v = t ? JSON.parse(t) : null; } catch (e) { v = t; }
        if (!r.ok) {
          var msg = v && v.message ? v.message : String(r.status);
          throw new Error(r.status + ': ' + (Array.isArray(msg) ? msg.join('; ') : msg));
        }
        return v;
      });
    });
  }

  // A session that just started may not be known to the gateway yet
  // (503 until its worker's next heartbeat): try a few times.
  function soon(fn, tries) {
    return fn().catch(function (e) {
      if (tries > 1 && /^503/.test(e.message)) {
        return new Promise(function (r) { setTimeout(r, 1000); })
          .then(function () { return soon(fn, tries - 1); });
      }
      throw e;
    });
  }

  function showError(e) { $('error').textContent = e ? String(e.message || e) : ''; }

  function el(tag, attrs, text) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text !== undefined) { n.textContent = text; }
    return n;
  }

  // --- key ---------------------------------------------------------
  function forget(why) {
    sessionStorage.removeItem(KEY);
    state.key = null;
    stop();
    $('app').hidden = true;
    $('login').hidden = false;
    $('key-error').textContent = why || '';
  }

  $('key-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var key = $('key-input').value.trim();
    if (!key) { return; }
    state.key = key;
    api('GET', '/api/sessions?all=true').then(function () {
      sessionStorage.setItem(KEY, key);
      $('key-input').value = '';
      start();
    }).catch(function (e) {
      if (String(e.message) !== '401') { $('key-error').textContent = e.message; }
    });
  });
  $('forget-key').addEventListener('click', function () { forget(''); });

  // --- sessions ----------------------------------------------------
  function action(name, what) {
    var enc = encodeURIComponent(name);
    var p = what === 'delete' ? api('DELETE', '/api/sessions/' + enc)
                              : api('POST', '/api/sessions/' + enc + '/' + what);
    p.then(function () { showError(null); refresh(); }).catch(showError);
  }

  function renderSessions() {
    var body = $('sessions').tBodies[0];
    body.textContent = '';
    var sel = $('send-session');
    var keep = sel.value;
    sel.textContent = '';
    state.sessions.forEach(function (s) {
      var tr = el('tr', { 'data-session': s.name });
      tr.appendChild(el('td', {}, s.name));
      var st = el('td');
      st.appendChild(el('span', { 'class': 'status ' + s.status,
                                  'data-status': s.status }, s.status));
      tr.appendChild(st);
      var me = s.me ? (s.me.id + (s.me.pushName ? ' (' + s.me.pushName + ')' : '')) : '';
      tr.appendChild(el('td', {}, me));
      var td = el('td');
      ['link', 'start', 'stop', 'restart', 'logout', 'delete'].forEach(function (a) {
        var b = el('button', { type: 'button', 'data-action': a }, a);
        b.addEventListener('click', function () {
          if (a === 'link') { select(s.name); return; }
          if ((a === 'delete' || a === 'logout') &&
              !window.confirm(a + ' session ' + s.name + '?')) { return; }
          action(s.name, a);
        });
        td.appendChild(b);
      });
      tr.appendChild(td);
      body.appendChild(tr);
      sel.appendChild(el('option', { value: s.name }, s.name));
    });
    if (keep) { sel.value = keep; }
    // The key form's scopes: admin, or one of the sessions
    var scope = $('keys-scope');
    var was = scope.value;
    scope.textContent = '';
    scope.appendChild(el('option', { value: '' }, 'admin'));
    state.sessions.forEach(function (s) {
      scope.appendChild(el('option', { value: s.name }, 'session ' + s.name));
    });
    scope.value = was;
    if (scope.value !== was) { scope.value = ''; }
  }

  function refresh() {
    return api('GET', '/api/sessions?all=true').then(function (list) {
      state.sessions = Array.isArray(list) ? list : [];
      renderSessions();
      $('status-line').textContent = state.sessions.length + ' session(s), ' +
        new Date().toLocaleTimeString();
      if (state.selected) { updateLink(); }
    }).catch(showError);
  }

  $('create-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var name = $('create-name').value.trim();
    api('POST', '/api/sessions', { name: name, start: $('create-start').checked })
      .then(function () { $('create-name').value = ''; showError(null); select(name); refresh(); })
      .catch(showError);
  });

  // --- QR and pairing code -----------------------------------------
  function select(name) {
    state.selected = name;
    $('link').hidden = false;
    $('link-session').textContent = name;
    $('pair-code').textContent = '';
    updateLink();
  }

  function current() {
    for (var i = 0; i < state.sessions.length; i++) {
      if (state.sessions[i].name === state.selected) { return state.sessions[i]; }
    }
    return null;
  }

  function updateLink() {
    var s = current();
    var enc = encodeURIComponent(state.selected);
    if (!s || s.status !== 'SCAN_QR_CODE') {
      $('qr-note').textContent = s ? 'Status ' + s.status +
        (s.status === 'WORKING' ? ': linked.' : ': no QR now.') : 'No such session.';
      $('qr-image').removeAttribute('src');
      $('qr-image').hidden = true;
      $('qr-value').textContent = '';
      return;
    }
    $('qr-note').textContent = 'Scan with WhatsApp \u2192 Linked devices. It rotates by itself.';
    api('GET', '/api/' + enc + '/auth/qr?format=raw').then(function (v) {
      if (v && v.value && v.value !== $('qr-value').textContent) {
        $('qr-value').textContent = v.value;
        return api('GET', '/api/' + enc + '/auth/qr', undefined, 'image/png')
          .then(function (blob) {
            var old = $('qr-image').src;
            $('qr-image').src = URL.createObjectURL(blob);
            $('qr-image').hidden = false;
            if (old && old.indexOf('blob:') === 0) { URL.revokeObjectURL(old); }
          });
      }
    }).catch(function () { /* the QR is not ready yet */ });
  }

  $('pair-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var enc = encodeURIComponent(state.selected);
    var phone = $('pair-phone').value.trim();
    soon(function () {
      return api('POST', '/api/' + enc + '/auth/request-code', { phoneNumber: phone });
    }, 8).then(function (v) { $('pair-code').textContent = v && v.code ? v.code : ''; showError(null); })
      .catch(showError);
  });

  // --- send --------------------------------------------------------
  $('send-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var msg = { session: $('send-session').value, chatId: $('send-chat').value.trim(),
                text: $('send-text').value };
    soon(function () { return api('POST', '/api/sendText', msg); }, 8)
      .then(function (m) { $('send-result').textContent = 'Sent: ' + (m && m.id ? m.id : 'ok'); })
      .catch(function (e) { $('send-result').textContent = 'Failed: ' + e.message; });
  });

  // --- API keys (/api/keys) ----------------------------------------
  var ACTIONS = ['read', 'send', 'control', 'setting', 'app', 'delete'];

  function renderKeys(list) {
    var body = $('keys').tBodies[0];
    body.textContent = '';
    list.forEach(function (k) {
      var tr = el('tr', { 'data-key': k.id, 'data-scope': k.isAdmin ? '' : (k.session || ''),
                          'data-active': String(!!k.isActive) });
      tr.appendChild(el('td', {}, k.id));
      tr.appendChild(el('td', {}, k.isAdmin ? 'admin' : 'session ' + (k.session || '?')));
      var acts = k.actions || {};
      tr.appendChild(el('td', {}, k.isAdmin ? 'all' :
        ACTIONS.filter(function (a) { return acts[a] !== false; }).join(', ')));
      tr.appendChild(el('td', {}, k.isActive ? 'yes' : 'no'));
      tr.appendChild(el('td', {}, k.createdAt ? new Date(k.createdAt).toLocaleString() : ''));
      var td = el('td');
      var toggle = el('button', { type: 'button', 'data-action': k.isActive ? 'deactivate' : 'activate' },
                      k.isActive ? 'deactivate' : 'activate');
      toggle.addEventListener('click', function () {
        api('PUT', '/api/keys/' + encodeURIComponent(k.id), { isActive: !k.isActive })
          .then(function () { showError(null); loadKeys(); }).catch(showError);
      });
      td.appendChild(toggle);
      var revoke = el('button', { type: 'button', 'data-action': 'revoke' }, 'revoke');
      revoke.addEventListener('click', function () {
        if (!window.confirm('revoke key ' + k.id + '?')) { return; }
        api('DELETE', '/api/keys/' + encodeURIComponent(k.id))
          .then(function () { showError(null); loadKeys(); }).catch(showError);
      });
      td.appendChild(revoke);
      tr.appendChild(td);
      body.appendChild(tr);
    });
  }

  function loadKeys() {
    return api('GET', '/api/keys').then(function (list) {
      renderKeys(Array.isArray(list) ? list : []);
    }).catch(showError);
  }

  $('keys-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var session = $('keys-scope').value;
    var body = { isAdmin: !session, isActive: true };
    if (session) {
      body.session = session;
      body.actions = {};
      ACTIONS.forEach(function (a) { body.actions[a] = $('keys-act-' + a).checked; });
    }
    api('POST', '/api/keys', body).then(function (made) {
      // Shown once: only its hash is kept
      $('keys-new-value').textContent = made && made.key ? made.key : '';
      $('keys-new').hidden = false;
      showError(null);
      loadKeys();
    }).catch(showError);
  });

  // --- events over /ws ---------------------------------------------
  function summary(e) {
    var p = e.payload || {};
    if (e.event === 'session.status') { return p.status || ''; }
    if (p.body !== undefined) { return (p.fromMe ? 'to ' + p.to : 'from ' + p.from) + ': ' + p.body; }
    if (p.ackName) { return p.id + ' ' + p.ackName; }
    return JSON.stringify(p).slice(0, 160);
  }

  function connect() {
    if (!state.key) { return; }
    var proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    var url = proto + '//' + location.host + '/ws?session=*&events=*&x-api-key=' +
              encodeURIComponent(state.key);
    var ws = new WebSocket(url);
    state.ws = ws;
    ws.onopen = function () { $('ws-state').textContent = 'open'; $('ws-state').className = 'badge open'; state.wsRetry = 1000; };
    ws.onmessage = function (m) {
      var e;
      try { e = JSON.parse(m.data); } catch (x) { return; }
      if (e.event === 'session.status') { refresh(); }
      if ($('events-pause').checked) { return; }
      var li = el('li', { 'data-event': e.event, 'data-session': e.session || '' });
      li.appendChild(el('span', { 'class': 'ev' }, e.event));
      li.appendChild(document.createTextNode(' ' + (e.session || '') + ' ' + summary(e)));
      var list = $('events');
      list.insertBefore(li, list.firstChild);
      while (list.children.length > 200) { list.removeChild(list.lastChild); }
    };
    ws.onclose = function () {
      $('ws-state').textContent = 'closed'; $('ws-state').className = 'badge';
      if (state.ws === ws && state.key) {
        state.timers.push(setTimeout(connect, state.wsRetry));
        state.wsRetry = Math.min(state.wsRetry * 2, 15000);
      }
    };
  }
  $('events-clear').addEventListener('click', function () { $('events').textContent = ''; });

  // --- life ----------------------------------------------------------
  function start() {
    $('login').hidden = true;
    $('app').hidden = false;
    refresh();
    loadKeys();
    connect();
    state.timers.push(setInterval(refresh, 2000));
    fetch('/api/server/version', { headers: { 'X-Api-Key': state.key } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (v) { if (v) { $('server').textContent = 'Wharf ' + v.version + ' \u00b7 ' + v.engine; } })
      .catch(function () {});
  }

  function stop() {
    $('keys-new-value').textContent = '';
    $('keys-new').hidden = true;
    $('keys').tBodies[0].textContent = '';
    state.timers.forEach(function (t) { clearTimeout(t); clearInterval(t); });
    state.timers = [];
    if (state.ws) { var ws = state.ws; state.ws = null; ws.close(); }
  }

  if (state.key) { start(); } else { $('login').hidden = false; }
}());
