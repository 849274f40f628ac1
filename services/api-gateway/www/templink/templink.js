// templink.js - the page of a temporary QR link (/temp-qr/{token}).
// Polls /temp-qr/{token}/state: shows the QR as it rotates, "Connected"
// once the session is WORKING, and why when the link is gone. The token
// is in the address only; nothing is stored in the browser.
//
// Copyright (c) 2026 the Wharf authors. Apache-2.0.
(function () {
    'use strict';
    var POLL_MS = 2000;
    var stateUrl = window.location.pathname.replace(/\/+$/, '') + '/state';
    var img = document.getElementById('qr-image');
    var waiting = document.getElementById('waiting');
    var state = document.getElementById('state');
    var expiry = document.getElementById('expiry');
    var hint = document.getElementById('hint');
    var box = document.getElementById('qr-box');
    var shown = '';
    var timer = null;

    function show(text, status, cls) {
        state.textContent = text;
        state.setAttribute('data-status', status);
        state.className = cls || '';
    }

    function hideQr() {
        img.hidden = true;
        img.removeAttribute('src');
        img.removeAttribute('data-value');
        shown = '';
    }

    function stop(text, status) {
        hideQr();
        box.hidden = true;
        waiting.hidden = true;
        hint.hidden = true;
        expiry.textContent = '';
        show(text, status, 'gone');
        if (timer) {
            clearTimeout(timer);
            timer = null;
        }
    }

    function render(s) {
        expiry.textContent = s.expiresIn > 0
            ? 'This link works for ' + Math.ceil(s.expiresIn / 60) + ' more minute(s).'
            : '';
        box.hidden = !!s.connected;
        if (s.connected) {
            hideQr();
            waiting.hidden = true;
            hint.hidden = true;
            show('Connected: WhatsApp is linked. You can close this page.',
                 s.status, 'connected');
            return;
        }
        if (s.qr && s.qr.image) {
            if (s.qr.value !== shown) {
                img.src = s.qr.image;
                img.setAttribute('data-value', s.qr.value);
                shown = s.qr.value;
            }
            img.hidden = false;
            waiting.hidden = true;
            show('Scan the code with WhatsApp', s.status, '');
        } else {
            hideQr();
            waiting.hidden = false;
            show(s.status === 'STOPPED' || s.status === 'FAILED'
                 ? 'The session is not running (' + s.status + '); ask the sender to start it.'
                 : 'Waiting for the code (' + s.status + ')', s.status, '');
        }
    }

    function poll() {
        timer = null;
        fetch(stateUrl, { cache: 'no-store', credentials: 'omit',
                          headers: { Accept: 'application/json' } })
            .then(function (r) {
                return r.json().catch(function () { return {}; })
                    .then(function (body) { return { status: r.status, body: body }; });
            })
            .then(function (res) {
                if (res.status === 200) {
                    render(res.body);
                } else if (res.status === 404 || res.status === 410) {
                    stop(res.body.message || 'This link is no longer valid.',
                         String(res.status));
                    return;
                } else {
                    show(res.body.message || 'Could not reach the server; retrying.',
                         String(res.status), '');
                }
                timer = setTimeout(poll, POLL_MS);
            })
            .catch(function () {
                show('Could not reach the server; retrying.', 'offline', '');
                timer = setTimeout(poll, POLL_MS);
            });
    }

    poll();
}());
