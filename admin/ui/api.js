// Talking to the API: reads, and writes with the bearer token, which is
// asked for once and kept in sessionStorage (this tab only).

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
    if (err.status === 403) s += '. Writes are switched off on this server.';
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

// getJSON reads an API path; a request that takes longer than 8 s is
// abandoned, so a hung connection cannot stall the updates.
export async function getJSON(path) {
  const res = await fetch(path, { cache: 'no-store', signal: AbortSignal.timeout(8000) });
  return answer(res);
}

export function hasToken() { return !!sessionStorage.getItem(TOKEN_KEY); }
export function forgetToken() { sessionStorage.removeItem(TOKEN_KEY); }

// write sends a change. Without a token it asks for one; a token the
// server refuses (401) is forgotten and asked for again.
export async function write(method, path, body) {
  let token = sessionStorage.getItem(TOKEN_KEY);
  let note = '';
  for (;;) {
    if (!token) {
      token = await askToken(note);
      if (!token) throw new Cancelled('cancelled');
    }
    const res = await fetch(path, {
      method,
      cache: 'no-store',
      signal: AbortSignal.timeout(10000),
      headers: { Authorization: 'Bearer ' + token, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status === 401) {
      forgetToken();
      token = null;
      const b = await res.json().catch(() => ({}));
      note = 'The server refused that token: ' + (b.error || '401') + '. Enter it again.';
      continue;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    tokenChanged();
    return answer(res);
  }
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

// tokenChanged shows in the header whether a token is kept, with a way
// to forget it (on a shared screen, say).
export function tokenChanged() {
  const box = document.getElementById('token-state');
  if (!hasToken()) {
    box.replaceChildren('read-only until a change asks for the token');
    return;
  }
  box.replaceChildren('token kept for this tab', h('button', {
    className: 'small', type: 'button', textContent: 'forget',
    onclick: () => { forgetToken(); tokenChanged(); },
  }));
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
