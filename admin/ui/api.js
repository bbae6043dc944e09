// Talking to the API with a named bearer token (a read token to watch, a
// write token for changes), asked for when the server wants one and kept
// in sessionStorage (this tab only).

import { h } from './dom.js';

const TOKEN_KEY = 'cdnsteer.admin-token';

// APIError is an error answer, with what the server said about it.
export class APIError extends Error {
  constructor(status, statusText, message, field) {
    super(message);
    this.status = status;
    this.statusText = statusText;
    this.field = field || '';
  }
}

// Cancelled is thrown when the user closes the token dialog.
export class Cancelled extends Error {}

// describe turns any error into a sentence a person can act on.
export function describe(err) {
  if (err instanceof APIError) {
    let s = `${err.status} ${err.statusText}: ${err.message}`;
    if (err.field && !err.message.startsWith(err.field)) s += ` (field “${err.field}”)`;
    if (err.status === 403 && /disabled/.test(err.message)) s += '. Writes are switched off on this server.';
    return s;
  }
  if (err && err.name === 'AbortError') return 'the server did not answer in time';
  if (err instanceof TypeError) return 'the server cannot be reached (' + err.message + ')';
  return String(err && err.message ? err.message : err);
}

async function answer(res) {
  if (res.status === 204) return null;
  let body = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  if (!res.ok) {
    const msg = body && body.error ? body.error : 'the server answered ' + res.status;
    throw new APIError(res.status, res.statusText, msg, body && body.field);
  }
  return body;
}

// declined is set when the token dialog was cancelled on a read: the
// polls then fail quietly instead of asking every second, until the
// header's "enter token" asks again.
let declined = false;
// asking is the open token dialog, shared by every request waiting on it.
let asking = null;

function tokenFromUser(note) {
  if (!asking) asking = askToken(note).finally(() => { asking = null; });
  return asking;
}

// send makes a request with the kept token. A 401 (no token, or one the
// server does not know) asks for a token and tries again; so does a 403
// for a read-only token on a write, asking for a write token.
async function send(method, path, body, timeoutMs, interactive) {
  let token = sessionStorage.getItem(TOKEN_KEY);
  let note = '';
  for (;;) {
    const headers = body ? { 'Content-Type': 'application/json' } : {};
    if (token) headers.Authorization = 'Bearer ' + token;
    const res = await fetch(path, {
      method, cache: 'no-store', signal: AbortSignal.timeout(timeoutMs), headers,
      body: body ? JSON.stringify(body) : undefined,
    });
    const readOnly = res.status === 403 && token && res.headers.get('WWW-Authenticate')?.includes('insufficient_scope');
    if (res.status !== 401 && !readOnly) {
      if (token && token !== sessionStorage.getItem(TOKEN_KEY)) {
        sessionStorage.setItem(TOKEN_KEY, token);
        declined = false;
        tokenChanged();
      }
      return answer(res);
    }
    if (!interactive && declined) return answer(res);
    const b = await res.clone().json().catch(() => ({}));
    if (res.status === 401 && token) {
      forgetToken();
      tokenChanged();
    }
    note = readOnly ? 'That token may only read: enter a write token for this change.'
      : token ? 'The server refused that token: ' + (b.error || '401') + '. Enter it again.'
        : 'The server asks for a token: a read token to watch, a write token for changes.';
    token = await tokenFromUser(note);
    if (!token) {
      if (!interactive) { declined = true; tokenChanged(); return answer(res); }
      throw new Cancelled('cancelled');
    }
  }
}

// getJSON reads an API path; a request that takes longer than 8 s is
// abandoned, so a hung connection cannot stall the updates.
export async function getJSON(path) {
  return send('GET', path, undefined, 8000, false);
}

export function hasToken() { return !!sessionStorage.getItem(TOKEN_KEY); }
export function forgetToken() { sessionStorage.removeItem(TOKEN_KEY); }

// write sends a change. Without a token it asks for one; a token the
// server refuses (401), or a read-only one, is asked for again.
export async function write(method, path, body) {
  return send(method, path, body, 10000, true);
}

// askToken shows the token dialog; it resolves to the token, or null when
// cancelled.
function askToken(note) {
  const dlg = document.getElementById('token-dialog');
  const form = document.getElementById('token-form');
  const input = document.getElementById('token-input');
  document.getElementById('token-msg').textContent = note;
  input.value = '';
  return new Promise((resolve) => {
    const done = (v) => {
      form.onsubmit = null;
      document.getElementById('token-cancel').onclick = null;
      dlg.oncancel = null;
      if (dlg.open) dlg.close();
      resolve(v);
    };
    form.onsubmit = (e) => {
      e.preventDefault();
      const v = input.value.trim();
      if (v) done(v);
    };
    document.getElementById('token-cancel').onclick = () => done(null);
    dlg.oncancel = (e) => { e.preventDefault(); done(null); };
    dlg.showModal();
    input.focus();
  });
}

// tokenChanged shows in the header whose token is kept, with a way to
// forget it (on a shared screen, say), or a way to enter one.
export function tokenChanged() {
  const box = document.getElementById('token-state');
  if (!hasToken()) {
    box.replaceChildren(declined ? 'no token: nothing to show' : 'no token kept', h('button', {
      className: 'small', type: 'button', textContent: 'enter token', id: 'token-enter',
      onclick: async () => {
        const t = await tokenFromUser('A read token to watch, a write token for changes.');
        if (t) { sessionStorage.setItem(TOKEN_KEY, t); declined = false; tokenChanged(); }
      },
    }));
    return;
  }
  const label = h('span', { id: 'token-who', textContent: 'token kept for this tab' });
  box.replaceChildren(label, h('button', {
    className: 'small', type: 'button', textContent: 'forget',
    onclick: () => { forgetToken(); tokenChanged(); },
  }));
  // Whose token, and whether it may write.
  send('GET', '/api/v1/whoami', undefined, 8000, false).then((w) => {
    if (w && w.name) label.textContent = `token “${w.name}” (${w.role}) kept for this tab`;
  }).catch(() => {});
}

// toast shows a message in the corner: errors stay until closed or for
// 30 s, confirmations for 5 s. At most five are shown. A confirmation
// has no close button: the corner lies over the rows' action buttons, and
// a button there would take the click meant for them.
export function toast(title, text, ok = false) {
  const box = document.getElementById('toasts');
  const t = h('div', { className: ok ? 'toast ok' : 'toast', role: ok ? 'status' : 'alert' },
    ok ? null : h('button', { className: 'small secondary', type: 'button', textContent: '×', 'aria-label': 'close', onclick: () => t.remove() }),
    h('b', { textContent: title }), text ? h('span', { textContent: text }) : null);
  box.prepend(t);
  while (box.children.length > 5) box.lastElementChild.remove();
  setTimeout(() => t.remove(), ok ? 5000 : 30000);
}

// attempt runs a write for a button and reports the outcome; a cancelled
// token dialog is not an error.
export async function attempt(what, fn, okText) {
  try {
    const r = await fn();
    if (okText) toast(okText, '', true);
    return r;
  } catch (err) {
    if (!(err instanceof Cancelled)) toast(what + ' failed', describe(err));
    return undefined;
  }
}
