// layout serve: the pages of the issue, their fit, and each round as it comes (server-sent events).
'use strict';

const DPIS = [50, 100, 200, 300];
const STATUS_WORD = { fits: 'fits', over: 'over', short: 'short', hole: 'hole', jumped: 'jumped' };
const view = { state: null, zoom: null, compare: false, selected: null, previousRound: null };
// What tests and the latency script read: each page image shown, and when.
window.layoutProofs = { ready: [], state: null, loadedAt: Date.now() };

const $ = (selector) => document.querySelector(selector);

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  return node;
}

function place(node, frac) {
  node.style.left = `${frac[0] * 100}%`;
  node.style.top = `${frac[1] * 100}%`;
  node.style.width = `${frac[2] * 100}%`;
  node.style.height = `${frac[3] * 100}%`;
  return node;
}

// -- what a slot says ----------------------------------------------------------------------------
function slotText(slot) {
  switch (slot.status) {
    case 'over': return `+${slot.over} lines over (≈${slot.words_over} words)`;
    case 'short': return `−${slot.short} lines short (≈${slot.words_short} words)`;
    case 'hole': {
      const columns = slot.column_short.map((s, i) => [i + 1, s]).filter(([, s]) => s > 2);
      return `hole: ${columns.map(([c, s]) => `col ${c} −${s}`).join(', ')}`;
    }
    case 'jumped': return slot.jump_to ? `fits, jumps to p${slot.jump_to}` : `continued from p${slot.continued_from}`;
    default: return slot.short ? `fits (−${slot.short})` : 'fits';
  }
}

// -- the pages -----------------------------------------------------------------------------------
function wantedDpi(sheet, page) {
  const width = sheet.getBoundingClientRect().width || view.zoom || 500;
  const need = (width * (window.devicePixelRatio || 1)) / (page.width / 72);
  return DPIS.find((dpi) => dpi >= need) || DPIS[DPIS.length - 1];
}

function nearView(node) {
  const box = node.getBoundingClientRect();
  const height = window.innerHeight;
  return box.bottom > -height && box.top < 2 * height;
}

// Load page ``page`` into ``sheet`` (sharp enough for its size); ``then(fresh)`` runs once it is shown
// (the last one given while the image loads: a state that came meanwhile may have its own).
function load(sheet, page, then) {
  const dpi = wantedDpi(sheet, page);
  if (sheet.dataset.key === page.key && Number(sheet.dataset.dpi) >= dpi) {
    if (then) then(false);
    return;
  }
  const want = `${page.key}@${dpi}`;
  if (then) sheet.pending = then;
  if (sheet.dataset.loading === want) return;
  sheet.dataset.loading = want;
  const image = new Image();
  image.alt = `page ${page.number}`;
  image.src = `/page/${page.key}.png?dpi=${dpi}`;
  image.decode().then(() => {
    if (sheet.dataset.loading !== want) return; // a newer round's image was asked for
    delete sheet.dataset.loading;
    const old = sheet.querySelector('img');
    if (old) old.replaceWith(image); else sheet.prepend(image);
    const fresh = sheet.dataset.key !== page.key;
    sheet.dataset.key = page.key;
    sheet.dataset.dpi = String(dpi);
    const callback = sheet.pending;
    sheet.pending = null;
    if (callback) callback(fresh);
  }).catch(() => {
    if (sheet.dataset.loading !== want) return;
    delete sheet.dataset.loading;
    setTimeout(() => { // the server may have been busy, or restarted: try again while the page is wanted
      const still = view.state && view.state.pages.find((p) => p.number === page.number);
      if (still && (still.key === page.key || sheet.classList.contains('previous'))) load(sheet, page, null);
    }, 1000);
  });
}

// Page ``number``'s image is on screen: draw the latest state's slots and marks on it.
function pageShown(number, fresh) {
  const state = view.state;
  const page = state && state.pages.find((p) => p.number === number);
  const figure = document.getElementById(`page-${number}`);
  if (!page || !figure) return;
  const current = figure.querySelector('.sheet.current');
  if (current.dataset.key !== page.key) return; // this round's image is still on its way
  drawSlots(current, page, state);
  drawAreas(current, page, state, 'current');
  figure.dataset.key = page.key;
  figure.dataset.round = String(state.pages_round);
  if (fresh) {
    figure.dataset.readyAt = String(Date.now());
    window.layoutProofs.ready.push({ page: page.number, key: page.key, round: state.pages_round, at: Date.now() });
  }
}

function figureFor(number) {
  let figure = document.getElementById(`page-${number}`);
  if (!figure) {
    figure = el('figure', { class: 'page', id: `page-${number}`, dataset: { page: number } },
      el('figcaption', {}, el('strong', {}, `Page ${number}`), el('span', { class: 'badge', hidden: '' }, 'changed'),
        el('span', { class: 'note' })),
      el('div', { class: 'pair' },
        el('div', { class: 'sheet previous', hidden: '' }, el('span', { class: 'side-label' }, 'previous'),
          el('div', { class: 'layer areas' })),
        el('div', { class: 'sheet current' }, el('div', { class: 'layer slots' }), el('div', { class: 'layer areas' }))));
    const pages = $('#pages');
    const after = [...pages.querySelectorAll('figure.page')].find((f) => Number(f.dataset.page) > number);
    pages.insertBefore(figure, after || null);
  }
  return figure;
}

function drawSlots(sheet, page, state) {
  const layer = sheet.querySelector('.layer.slots');
  layer.replaceChildren(
    ...state.slots.filter((s) => s.page === page.number && s.box_frac).map((slot) => place(el('div', {
      class: `slot ${slot.status}${view.selected === slot.slot_id ? ' selected' : ''}`,
      dataset: { slot: slot.slot_id, status: slot.status },
      title: `${slot.slug}: ${slotText(slot)} — click for details`,
      onclick: (event) => { event.stopPropagation(); select(slot.slot_id); },
    }, el('span', { class: 'tag' }, `${slot.slug} · ${slotText(slot)}`)), slot.box_frac)),
    ...(page.holes || []).map((hole) => place(el('div', { class: 'page-hole', title: 'empty lines at the page foot' },
      el('span', {}, `hole ${hole.lines} lines`)), hole.box_frac)));
}

function drawAreas(sheet, page, state, side) {
  const layer = sheet.querySelector('.layer.areas');
  const areas = (state.changes || []).flatMap((c) => c.areas.map((a) => ({ ...a, change: c })))
    .filter((a) => a.page === page.number && (a.side === 'both' || a.side === side));
  layer.replaceChildren(...areas.map((a) => place(el('div', {
    class: 'area', title: `${a.change.kind} ${a.change.what}: ${a.change.detail}`,
  }), a.frac)));
}

function showPages(state) {
  const pagesNode = $('#pages');
  const numbers = new Set(state.pages.map((p) => p.number));
  for (const figure of pagesNode.querySelectorAll('figure.page')) {
    if (!numbers.has(Number(figure.dataset.page))) figure.remove();
  }
  $('#empty').hidden = state.pages.length > 0;
  if (!state.pages.length) {
    $('#empty').textContent = state.error ? 'No pages yet: fix the error above and save.' : 'Composing the first round…';
  }
  pagesNode.classList.toggle('dimmed', Boolean(state.error) && !state.wrote && state.pages.length > 0);
  const previous = new Map(((state.previous && state.previous.pages) || []).map((p) => [p.number, p]));
  // Changed pages are asked for first, so that the page just edited is the first one drawn.
  const order = [...state.pages].sort((a, b) => (b.changed - a.changed) || (a.number - b.number));
  for (const page of order) {
    const figure = figureFor(page.number);
    const current = figure.querySelector('.sheet.current');
    const before = figure.querySelector('.sheet.previous');
    for (const sheet of [current, before]) sheet.style.aspectRatio = `${page.width} / ${page.height}`;
    figure.querySelector('.badge').hidden = !page.changed || state.pages_round <= 1;
    figure.querySelector('.badge').textContent = `changed in round ${state.pages_round}`;
    figure.querySelector('.note').textContent = (page.holes || []).length ? `${page.holes.length} hole(s) at the foot` : '';
    const show = (fresh) => pageShown(page.number, fresh);
    if (current.dataset.key === page.key) show(false);
    load(current, page, show);
    const old = previous.get(page.number);
    before.hidden = !view.compare || !old;
    if (view.compare && old) {
      before.querySelector('.side-label').textContent = `round ${state.previous.round}${old.key === page.key ? ' (same)' : ''}`;
      load(before, old, () => drawAreas(before, old, view.state, 'previous'));
    }
  }
}

// -- around the pages ----------------------------------------------------------------------------
function showStatus(state) {
  $('#issue').textContent = state.issue;
  document.title = `${state.issue} · layout serve`;
  $('#pdf-link').href = `/files/${encodeURIComponent(state.issue)}.pdf`;
  const pill = $('#status');
  const when = state.finished ? new Date(state.finished * 1000).toLocaleTimeString() : '';
  if (state.phase === 'composing') {
    pill.className = 'pill pill-wait';
    pill.textContent = `composing… ${(state.saved || []).map((s) => s.split('/').pop()).join(', ')}`;
  } else if (state.phase === 'starting') {
    pill.className = 'pill pill-wait';
    pill.textContent = 'composing the first round…';
  } else {
    pill.className = state.error ? 'pill pill-error' : 'pill pill-ok';
    pill.textContent = state.error ? `round ${state.round}: ${state.error.kind}` : `round ${state.round} ✓`;
  }
  $('#round-info').textContent = state.round
    ? `round ${state.round} (${state.trigger}) composed in ${state.seconds.toFixed(2)} s at ${when}` : '';
}

function showError(state) {
  const box = $('#error');
  const error = state.error;
  box.hidden = !error;
  if (!error) { box.replaceChildren(); return; }
  box.replaceChildren(
    el('h2', {}, `${error.kind} (exit ${error.exit_code}) in round ${state.round}`),
    el('p', { class: 'message' }, error.message),
    el('ul', {}, error.problems.map((p) => el('li', {},
      el('strong', {}, p.key ? `${p.file}: ${p.key}` : p.file), ': ', p.message,
      p.fix ? el('span', { class: 'fix' }, ` — fix: ${p.fix}`) : null,
      p.open ? el('button', { type: 'button', onclick: () => openFile(p.open, null) }, 'open') : null))),
    ...(state.pages.length && !state.wrote
      ? [el('p', { class: 'stale' }, `The pages below are round ${state.pages_round}'s, the last that composed; save a fix and they come back.`)]
      : []));
}

function showPlan(state) {
  const plan = $('#plan');
  plan.replaceChildren(...state.pages.map((page) => {
    const [tx, ty, tw, th] = page.trim;
    const drawing = svg('svg', { viewBox: `0 0 ${page.width} ${page.height}` });
    drawing.append(svg('rect', { x: tx, y: ty, width: tw, height: th, fill: '#fff', stroke: '#888', 'stroke-width': 2 }));
    for (const slot of state.slots.filter((s) => s.page === page.number && s.box_frac)) {
      const [x, y, w, h] = slot.box_frac;
      const rect = svg('rect', {
        x: x * page.width, y: y * page.height, width: w * page.width, height: h * page.height,
        class: `plan-slot ${slot.status}${view.selected === slot.slot_id ? ' selected' : ''}`,
        'data-slot': slot.slot_id,
      });
      const title = svg('title');
      title.textContent = `${slot.slug}: ${slotText(slot)}`;
      rect.append(title);
      rect.addEventListener('click', (event) => { event.stopPropagation(); select(slot.slot_id, true); });
      drawing.append(rect);
    }
    drawing.addEventListener('click', () => document.getElementById(`page-${page.number}`)?.scrollIntoView({ block: 'start' }));
    return el('figure', { class: page.changed && state.pages_round > 1 ? 'changed-page' : '' },
      el('figcaption', {}, `p${page.number}`), drawing);
  }));
}

function showLists(state) {
  const todo = state.slots.filter((s) => s.status === 'over' || s.status === 'hole' || s.status === 'short');
  const pageHoles = state.pages.flatMap((p) => (p.holes || []).map((h) => ({ page: p.number, ...h })));
  $('#todo').replaceChildren(...(todo.length || pageHoles.length ? [
    ...todo.map((s) => el('li', { class: 'item', onclick: () => select(s.slot_id, true) },
      el('span', { class: `dot ${s.status}` }), `p${s.page} ${s.slug}: ${slotText(s)}`)),
    ...pageHoles.map((h) => el('li', { class: 'item', onclick: () => document.getElementById(`page-${h.page}`)?.scrollIntoView() },
      el('span', { class: 'dot hole' }), `p${h.page}: ${h.lines} empty lines, foot of column ${h.column}`)),
  ] : [el('li', { class: 'quiet' }, state.slots.length ? 'every slot fits' : 'nothing composed yet')]));
  const changes = state.changes || [];
  $('#changes').replaceChildren(...(changes.length
    ? changes.map((c) => el('li', {}, el('span', { class: 'dot changed' }), `${c.kind} ${c.what}: ${c.detail}`))
    : [el('li', { class: 'quiet' }, state.previous ? 'nothing changed' : 'no earlier round')]));
}

function select(slotId, scroll) {
  view.selected = slotId;
  const state = view.state;
  const slot = state && state.slots.find((s) => s.slot_id === slotId);
  for (const node of document.querySelectorAll('.slot.selected, .plan-slot.selected')) node.classList.remove('selected');
  for (const node of document.querySelectorAll(`[data-slot="${CSS.escape(slotId)}"]`)) node.classList.add('selected');
  const panel = $('#detail');
  if (!slot) { panel.hidden = true; return; }
  panel.hidden = false;
  $('#d-status').textContent = slot.status === 'fits' ? slotText(slot) : `${STATUS_WORD[slot.status]}: ${slotText(slot)}`;
  $('#d-status').style.color = `var(--${slot.status})`;
  $('#d-headline').textContent = slot.headline || slot.slug;
  $('#d-slug').textContent = `p${slot.page} · ${slot.slot_id}`;
  const rows = [['columns', slot.columns], ['depth', `${slot.depth} lines`], ['lines available', slot.available],
    ['lines used', slot.used], ['over', `${slot.over} lines (≈${slot.words_over} words)`],
    ['short', `${slot.short} lines (≈${slot.words_short} words)`], ['column ends short', slot.column_short.join(' / ')]];
  if (slot.jump_to) rows.push(['jumps to', `page ${slot.jump_to} (${slot.jumped_lines} lines)`]);
  if (slot.continued_from) rows.push(['continued from', `page ${slot.continued_from}`]);
  $('#d-numbers').replaceChildren(...rows.map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', {}, v))));
  $('#d-suggestions').replaceChildren(...(slot.suggestions.length
    ? slot.suggestions.map((s) => el('li', {}, s)) : [el('li', { class: 'quiet' }, 'nothing to do')]));
  $('#d-source').textContent = slot.source;
  $('#d-open').onclick = () => openFile(slot.source, $('#d-message'));
  $('#d-message').textContent = '';
  if (scroll) document.querySelector(`.slot[data-slot="${CSS.escape(slotId)}"]`)?.scrollIntoView({ block: 'center', inline: 'center' });
}

function openFile(path, where) {
  const say = (text) => { if (where) where.textContent = text; else window.alert(text); };
  fetch('/api/open', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ path }) })
    .then(async (response) => {
      const text = await response.text();
      if (!response.ok) { say(`refused: ${text}`); return; }
      say(JSON.parse(text).message);
    })
    .catch((error) => say(`could not ask the server: ${error}`));
}

// -- zoom ----------------------------------------------------------------------------------------
function fitZoom() {
  const state = view.state;
  const page = state && state.pages[0];
  const room = $('#pages').clientHeight - 60;
  return page ? Math.max(200, Math.round(room * page.width / page.height)) : 560;
}

function setZoom(width) {
  view.zoom = width;
  document.documentElement.style.setProperty('--page-w', `${width || fitZoom()}px`);
  $('#zoom-level').textContent = width ? `${Math.round(width)} px` : 'fit';
  sharpen();
}

function sharpen() {
  const state = view.state;
  if (!state) return;
  for (const page of state.pages) {
    const figure = document.getElementById(`page-${page.number}`);
    if (figure && nearView(figure)) load(figure.querySelector('.sheet.current'), page, null);
  }
}

let sharpenTimer = null;
function sharpenSoon() {
  clearTimeout(sharpenTimer);
  sharpenTimer = setTimeout(sharpen, 150);
}

// -- rounds --------------------------------------------------------------------------------------
function apply(state) {
  view.state = state;
  window.layoutProofs.state = state;
  showStatus(state);
  showError(state);
  if (state.phase === 'composing') return; // the pages stay as they are until the round is done
  if (!view.zoom) document.documentElement.style.setProperty('--page-w', `${fitZoom()}px`);
  showPages(state);
  showPlan(state);
  showLists(state);
  if (view.selected) select(view.selected, false);
}

function connect() {
  const source = new EventSource('/events');
  source.addEventListener('state', (event) => apply(JSON.parse(event.data)));
  source.onerror = () => {
    const pill = $('#status');
    pill.className = 'pill pill-lost';
    pill.textContent = 'server gone: reconnecting…';
  };
}

$('#show-slots').addEventListener('change', (e) => document.body.classList.toggle('slots-hidden', !e.target.checked));
$('#compare').addEventListener('change', (e) => { view.compare = e.target.checked; if (view.state) showPages(view.state); });
$('#zoom-in').addEventListener('click', () => setZoom((view.zoom || fitZoom()) * 1.25));
$('#zoom-out').addEventListener('click', () => setZoom(Math.max(150, (view.zoom || fitZoom()) / 1.25)));
$('#zoom-fit').addEventListener('click', () => setZoom(null));
$('#detail-close').addEventListener('click', () => { $('#detail').hidden = true; view.selected = null; select(''); });
$('#pages').addEventListener('scroll', sharpenSoon);
window.addEventListener('resize', () => { if (!view.zoom) setZoom(null); else sharpenSoon(); });
document.addEventListener('keydown', (e) => {
  if (e.target.tagName === 'INPUT') return;
  if (e.key === '+' || e.key === '=') $('#zoom-in').click();
  else if (e.key === '-') $('#zoom-out').click();
  else if (e.key === '0') $('#zoom-fit').click();
  else if (e.key === 'Escape') $('#detail-close').click();
});
connect();
