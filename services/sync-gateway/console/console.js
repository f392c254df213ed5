'use strict';
/*
 * The admin console: plain DOM code over the admin API of this same origin, authenticated with
 * the admin token kept in sessionStorage (this tab only). Every value shown goes through
 * textContent, never innerHTML, so data from laptops cannot inject markup.
 */
(() => {
  const TOKEN_KEY = 'outpost-admin-token';
  const $ = (selector) => document.querySelector(selector);
  const views = ['clients', 'inbox', 'conflicts', 'refusals'];
  let inboxClient = null;

  const token = () => sessionStorage.getItem(TOKEN_KEY);

  function say(text, isError = false) {
    const message = $('#message');
    message.textContent = text;
    message.className = isError ? 'error' : '';
  }

  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${token()}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const error = json && json.error;
      const failure = new Error(error ? `${error.message} (${error.code})` : `HTTP ${res.status}`);
      failure.status = res.status;
      throw failure;
    }
    return json;
  }

  function cell(row, value, className) {
    const td = document.createElement('td');
    td.textContent = value === null || value === undefined ? '–' : String(value);
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function button(parent, label, onClick, className) {
    const b = document.createElement('button');
    b.textContent = label;
    if (className) b.className = className;
    b.addEventListener('click', () => run(onClick));
    parent.appendChild(b);
    return b;
  }

  async function run(action) {
    try {
      await action();
    } catch (err) {
      if (err.status === 401) return signOut('The admin token was refused; sign in again.');
      say(err.message, true);
    }
  }

  function show(view) {
    for (const name of views) $(`#${name}-view`).hidden = name !== view;
    for (const tab of document.querySelectorAll('nav .tab')) {
      tab.classList.toggle('active', tab.dataset.view === view);
    }
  }

  const ago = (seconds) =>
    seconds === null
      ? ''
      : seconds < 120
        ? ` (oldest ${seconds}s)`
        : ` (oldest ${Math.round(seconds / 60)}m)`;

  async function loadClients() {
    const [clients, lag] = await Promise.all([api('GET', '/admin/clients'), api('GET', '/admin/lag')]);
    const lagOf = new Map(lag.map((l) => [l.name, l]));
    const body = $('#clients tbody');
    body.replaceChildren();
    for (const c of clients) {
      const l = lagOf.get(c.name);
      const row = document.createElement('tr');
      row.dataset.client = c.name;
      cell(row, c.name);
      cell(row, c.userLogin);
      cell(row, c.status, `status-${c.status}`);
      cell(
        row,
        c.lastSyncAt
          ? `${c.lastSyncAt}${c.lastSyncResult && !c.lastSyncResult.ok ? ' (failed)' : ''}`
          : 'never',
      );
      cell(row, l ? `${l.inbox.pendingFiles}${ago(l.inbox.oldestPendingAgeSeconds)}` : '');
      cell(row, l ? l.inbox.quarantinedFiles : '', l && l.inbox.quarantinedFiles ? 'status-quarantined' : '');
      cell(row, l ? `${l.outbound.unackedFiles}${ago(l.outbound.oldestUnackedAgeSeconds)}` : '');
      const actions = cell(row, '');
      actions.textContent = '';
      button(actions, 'Inbox', () => openInbox(c.name));
      if (c.status === 'active') {
        button(
          actions,
          'Deactivate',
          () => clientAction(c.name, 'deactivate', `Deactivate ${c.name}?`),
          'danger',
        );
      } else {
        button(actions, 'Reactivate', () => clientAction(c.name, 'reactivate'));
      }
      button(actions, 'Rotate secret', async () => {
        if (!confirm(`Issue a new secret for ${c.name}? The old one stops working.`)) return;
        showSecret(await api('POST', `/admin/clients/${encodeURIComponent(c.name)}/rotate-secret`));
      });
      button(actions, 'Re-extract', () =>
        clientAction(c.name, 'reextract', `Rebuild the database of ${c.name} on its next sync?`),
      );
      body.appendChild(row);
    }
    const route = lag[0] && lag[0].route;
    $('#route').textContent = route
      ? `Router: ${route.pendingLogEntries} server changes not routed yet${ago(route.oldestPendingAgeSeconds)}.`
      : '';
  }

  async function clientAction(name, action, question) {
    if (question && !confirm(question)) return;
    await api('POST', `/admin/clients/${encodeURIComponent(name)}/${action}`);
    say(`${name}: ${action} done.`);
    await loadClients();
  }

  function showSecret(result) {
    const box = $('#secret');
    box.hidden = false;
    box.textContent = `Secret of ${result.client.name} (shown only this once; give it to the laptop now): ${result.secret}`;
  }

  async function openInbox(name) {
    inboxClient = name;
    $('#inbox-client').textContent = name;
    show('inbox');
    await loadInbox();
  }

  async function loadInbox() {
    const files = await api('GET', `/admin/clients/${encodeURIComponent(inboxClient)}/inbox`);
    const body = $('#inbox tbody');
    body.replaceChildren();
    for (const f of files) {
      const row = document.createElement('tr');
      row.dataset.fileSeq = String(f.fileSeq);
      cell(row, f.fileSeq);
      const status = f.waiting ? 'waiting' : f.status;
      cell(row, status, `status-${status}`);
      cell(row, f.txnCount);
      cell(row, f.size);
      cell(row, f.receivedAt);
      cell(row, f.status === 'rejected' ? `rejected: ${f.rejection} (was: ${f.reason})` : f.reason);
      const actions = cell(row, '');
      actions.textContent = '';
      if (f.status === 'quarantined') {
        button(actions, 'Retry', async () => {
          await api('POST', `/admin/clients/${encodeURIComponent(inboxClient)}/inbox/${f.fileSeq}/retry`);
          say(`File ${f.fileSeq} is back in line to be applied.`);
          await loadInbox();
        });
        button(
          actions,
          'Reject',
          async () => {
            const reason = prompt(`Why is file ${f.fileSeq} rejected? Its changes will be refused.`);
            if (!reason) return;
            await api('POST', `/admin/clients/${encodeURIComponent(inboxClient)}/inbox/${f.fileSeq}/reject`, {
              reason,
            });
            say(`File ${f.fileSeq} is rejected.`);
            await loadInbox();
          },
          'danger',
        );
      }
      body.appendChild(row);
    }
  }

  const json = (value) => (value === undefined ? '' : JSON.stringify(value, null, 1));

  async function loadConflicts() {
    const conflicts = await api('GET', '/admin/conflicts');
    const body = $('#conflicts tbody');
    body.replaceChildren();
    for (const c of conflicts) {
      const row = document.createElement('tr');
      cell(row, c.at);
      cell(row, c.clientOrigin);
      cell(row, c.kind);
      cell(row, `${c.table} ${c.rowId}`);
      cell(row, c.column);
      cell(row, json(c.serverValue), 'value');
      cell(row, json(c.clientValue), 'value');
      cell(row, c.winner);
      cell(row, c.policy);
      body.appendChild(row);
    }
  }

  /** Changes the server refused to apply: what was sent, by whom, and why (the laptop was told the same). */
  async function loadRefusals() {
    const refusals = await api('GET', '/admin/refusals');
    const body = $('#refusals tbody');
    body.replaceChildren();
    for (const r of refusals) {
      const row = document.createElement('tr');
      row.dataset.rowId = r.rowId;
      cell(row, r.at);
      cell(row, r.client);
      cell(row, r.userLogin);
      cell(row, `file ${r.fileSeq}, change ${r.txnSeq}`);
      cell(row, `${r.op} ${r.table} ${r.rowId}`);
      cell(row, r.code);
      cell(row, r.reason);
      body.appendChild(row);
    }
  }

  const loaders = {
    clients: loadClients,
    inbox: loadInbox,
    conflicts: loadConflicts,
    refusals: loadRefusals,
  };

  function signedIn() {
    $('#sign-in').hidden = true;
    $('#nav').hidden = false;
    show('clients');
    void run(loadClients);
  }

  function signOut(text = '') {
    sessionStorage.removeItem(TOKEN_KEY);
    $('#nav').hidden = true;
    for (const name of views) $(`#${name}-view`).hidden = true;
    $('#sign-in').hidden = false;
    say(text, Boolean(text));
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('#sign-in').addEventListener('submit', (event) => {
      event.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, $('#token').value);
      void run(async () => {
        await api('GET', '/admin/clients');
        say('');
        signedIn();
      });
    });
    $('#sign-out').addEventListener('click', () => signOut());
    $('#back').addEventListener('click', () => {
      show('clients');
      void run(loadClients);
    });
    for (const tab of document.querySelectorAll('nav .tab')) {
      tab.addEventListener('click', () => {
        show(tab.dataset.view);
        void run(loaders[tab.dataset.view]);
      });
    }
    $('#add-client').addEventListener('submit', (event) => {
      event.preventDefault();
      void run(async () => {
        showSecret(
          await api('POST', '/admin/clients', {
            name: $('#new-name').value,
            userLogin: $('#new-user').value,
          }),
        );
        $('#add-client').reset();
        await loadClients();
      });
    });
    if (token()) signedIn();
    else signOut();
  });
})();
