// tcplab's page: draws the parts from the JSON beside it, and links the
// timeline, the ladder, the fields and the bytes of the selected frame.
// No request: everything is in the page.
'use strict';

const DATA = JSON.parse(document.getElementById('tcplab-data').textContent);
// Past this many rows the timeline draws only the rows in view.
const VIRTUAL_OVER = 500;
const LAYER_NAMES = {
  eth: 'Ethernet', sll: 'Linux cooked', sll2: 'Linux cooked v2', null: 'Loopback',
  ip: 'IPv4', ipv6: 'IPv6', tcp: 'TCP', vlan: 'VLAN', mpls: 'MPLS', gre: 'GRE',
};

const state = { part: 0, stepping: false };
const parts = [];

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

// ---- frames -----------------------------------------------------------

// The tables a part's frames index: each distinct layer list and field
// once, as objects.
function tablesOf(data) {
  return {
    sizes: data.sizes,
    layers: data.layers.map((list) => list.map(([cls, start, end]) => ({ cls, start, end }))),
    fields: data.fields.map(([layer, abbrev, offset, len, mask, value, text, detail]) =>
      ({ layer, abbrev, offset, len, mask, value, text, detail })),
  };
}

// A frame; its bytes and fields are made when first asked for (a long
// capture opens without decoding 100,000 frames' bytes).
function frameOf(raw, tables) {
  const [number, dir, base64, cut, sizeIndex, layersIndex, fieldIndexes, flagged] = raw;
  let bytes = null;
  let fields = null;
  return {
    number, dir, cut, flagged,
    size: tables.sizes[sizeIndex],
    layers: tables.layers[layersIndex],
    get bytes() {
      if (!bytes) bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      return bytes;
    },
    get fields() {
      if (!fields) fields = fieldIndexes.map((k) => tables.fields[k]);
      return fields;
    },
  };
}

function layerAt(frame, i) {
  const l = frame.layers.find((l) => i >= l.start && i < l.end);
  return l ? l.cls : '';
}

// The field a byte belongs to: the narrowest that holds it, a field the
// pane lists on its own line before a detail of one (a flag bit).
function fieldAt(frame, i) {
  const rank = (f) => [f.detail ? 1 : 0, f.len];
  let best = -1;
  frame.fields.forEach((f, k) => {
    if (!(f.len > 0 && i >= f.offset && i < f.offset + f.len)) return;
    const [d, n] = rank(f);
    const [bd, bn] = best < 0 ? [2, 0] : rank(frame.fields[best]);
    if (d < bd || (d === bd && n < bn)) best = k;
  });
  return best;
}

// ---- the part ---------------------------------------------------------

function drawPart(data, index) {
  const tables = tablesOf(data);
  const part = {
    index, data,
    frames: data.frames.map((f) => frameOf(f, tables)),
    selected: -1,
  };
  const section = el('section', { class: 'part', id: 'part-' + index });
  if (data.title) section.append(el('h2', {}, data.title));
  if (data.head) section.append(el('pre', { class: 'head' }, data.head));
  section.append(drawTimeline(part));
  const ladder = el('div', { class: 'ladder' });
  for (const svg of data.svgs) {
    const holder = el('div', {});
    holder.innerHTML = svg; // tcplab's own SVG, its text escaped by tcplab
    ladder.append(holder);
  }
  ladder.addEventListener('click', (ev) => {
    const g = ev.target.closest('.segment');
    if (g) select(part, indexOfFrame(part, Number(g.dataset.frame)));
  });
  part.ladder = ladder;
  part.fieldsPane = el('div', { class: 'fields', 'aria-label': 'fields of the selected frame' });
  part.bytesPane = el('div', { class: 'bytes', 'aria-label': 'bytes of the selected frame' });
  part.status = el('div', { class: 'status mono' });
  part.size = el('div', { class: 'size mono' });
  const detail = el('div', { class: 'picked' },
    el('h3', {}, 'fields'), part.size, part.fieldsPane,
    el('h3', {}, 'bytes'), part.status, part.bytesPane, legend());
  section.append(el('div', { class: 'panes' }, ladder, detail));
  if (data.tail) {
    part.tail = el('pre', { class: 'tail' }, data.tail);
    section.append(part.tail);
  }
  section.addEventListener('mousedown', () => { state.part = index; });
  part.section = section;
  parts.push(part);
  return section;
}

function legend() {
  return el('div', { class: 'legend mono' },
    el('span', { class: 'link' }, 'link'), el('span', { class: 'ip' }, 'IP'),
    el('span', { class: 'tcp' }, 'TCP'), el('span', { class: 'payload' }, 'payload'));
}

function indexOfFrame(part, number) {
  return part.frames.findIndex((f) => f.number === number);
}

// ---- the timeline -----------------------------------------------------

function drawTimeline(part) {
  // Each column as wide as its widest cell; the details take the rest.
  const { columns, right, rows, widths } = part.data;
  const cols = widths.map((w, k) =>
    (columns[k] === 'details' ? 'minmax(20ch, 1fr)' : (w + 1) + 'ch')).join(' ');
  const box = el('div', { class: 'timeline grid', role: 'table' });
  box.style.setProperty('--cols', cols);
  // Narrower than its columns, the timeline scrolls sideways, not cut.
  const least = widths.reduce((sum, w, k) => sum + (columns[k] === 'details' ? 20 : w + 1) + 1.2, 1);
  box.style.setProperty('--least', least + 'ch');
  const head = el('div', { class: 'row head', role: 'row' });
  columns.forEach((c, k) => head.append(el('span', { class: right[k] ? 'r' : '' }, c)));
  const body = el('div', { class: 'body', role: 'rowgroup', tabindex: '0' });
  box.append(head, body);
  part.body = body;
  part.rowEls = new Map();
  const makeRow = (i) => {
    const f = part.frames[i];
    const row = el('div', { class: `row ${f.dir}${f.flagged ? ' flagged' : ''}`, role: 'row', 'data-i': String(i) });
    rows[i].split('\u001f').forEach((text, k) => {
      const cls = [right[k] ? 'r' : '', columns[k] === 'dir' || columns[k] === 'direction' ? 'dir' : '']
        .join(' ').trim();
      const details = columns[k] === 'details';
      const cell = el('span', { class: details ? `${cls} details-cell`.trim() : cls }, text);
      if (details && text) cell.title = text;
      row.append(cell);
    });
    markRow(part, row, i);
    return row;
  };
  part.makeRow = makeRow;
  body.addEventListener('click', (ev) => {
    const row = ev.target.closest('.row');
    if (row) select(part, Number(row.dataset.i));
  });
  if (rows.length <= VIRTUAL_OVER) {
    rows.forEach((_, i) => { const r = makeRow(i); part.rowEls.set(i, r); body.append(r); });
  } else {
    body.classList.add('virtual');
    part.virtual = true;
    requestAnimationFrame(() => layoutVirtual(part));
    body.addEventListener('scroll', () => requestAnimationFrame(() => drawVisible(part)));
  }
  return box;
}

// Measures a row (again after the type size changes) and sizes the
// spacer that gives the body its scroll height.
function layoutVirtual(part) {
  const probe = part.makeRow(0);
  part.body.append(probe);
  part.rowH = probe.getBoundingClientRect().height || 24;
  probe.remove();
  if (!part.spacer) {
    part.spacer = el('div', { class: 'spacer' });
    part.body.append(part.spacer);
  }
  part.spacer.style.height = (part.frames.length * part.rowH) + 'px';
  for (const row of part.rowEls.values()) row.remove();
  part.rowEls.clear();
  drawVisible(part);
}

function relayout() {
  for (const part of parts) if (part.virtual) layoutVirtual(part);
}

// Only the rows in view (and a few either side, for the next frames of a
// scroll) are in the page: each row drawn costs layout, and a jump draws
// them all anew.
const OVERSCAN = 12;
function drawVisible(part) {
  const { body, rowH } = part;
  if (!rowH) return;
  const top = Math.floor(body.scrollTop / rowH);
  const first = Math.max(0, top - OVERSCAN);
  const last = Math.min(part.frames.length, top + Math.ceil(body.clientHeight / rowH) + OVERSCAN);
  for (const [i, row] of part.rowEls) {
    if (i < first || i >= last) { row.remove(); part.rowEls.delete(i); }
  }
  for (let i = first; i < last; i++) {
    if (part.rowEls.has(i)) continue;
    const row = part.makeRow(i);
    row.style.top = (i * rowH) + 'px';
    part.rowEls.set(i, row);
    body.append(row);
  }
}

function markRow(part, row, i) {
  row.classList.toggle('selected', i === part.selected);
  row.classList.toggle('later', part.selected >= 0 && i > part.selected);
}

// ---- selecting a frame ------------------------------------------------

function select(part, i) {
  if (i < 0 || i >= part.frames.length) return;
  state.part = part.index;
  part.selected = i;
  for (const [k, row] of part.rowEls) markRow(part, row, k);
  const frame = part.frames[i];
  showRow(part, i);
  for (const g of part.ladder.querySelectorAll('.segment')) {
    const n = Number(g.dataset.frame);
    g.classList.toggle('selected', n === frame.number);
    g.classList.toggle('later', n > frame.number);
  }
  // A phase's bracket shows once its first arrow has.
  for (const svg of part.ladder.querySelectorAll('svg')) {
    const picked = svg.querySelector('.segment.selected');
    const seen = picked ? picked.getBBox().y + picked.getBBox().height : -1;
    for (const g of svg.querySelectorAll('.phase')) {
      g.classList.toggle('later', !picked || g.getBBox().y > seen);
    }
  }
  // What an application did before arrow k shows once arrow k - 1 has.
  for (const svg of part.ladder.querySelectorAll('svg')) {
    const arrows = [...svg.querySelectorAll('.segment')].map((g) => Number(g.dataset.frame));
    for (const g of svg.querySelectorAll('.app')) {
      const k = Number(g.dataset.slot);
      const after = k > 0 ? arrows[Math.min(k, arrows.length) - 1] : 0;
      g.classList.toggle('later', after > frame.number);
    }
  }
  scrollToArrow(part);
  // The answers come at the end: the kernel's last word, the totals.
  const last = i < part.frames.length - 1;
  for (const t of part.ladder.querySelectorAll('text.kernel')) t.classList.toggle('later', last);
  if (part.tail) part.tail.classList.toggle('later', last);
  const end = document.querySelector('main > pre.end');
  if (end) end.classList.toggle('later', last || part.index < parts.length - 1);
  drawFields(part, frame);
  drawBytes(part, frame);
  const hash = part.index ? `#part-${part.index + 1}-frame-${frame.number}` : `#frame-${frame.number}`;
  if (state.ready && location.hash !== hash) history.replaceState(null, '', hash);
}

// The selected arrow into the ladder's view (the page itself stays put).
function scrollToArrow(part) {
  const g = part.ladder.querySelector('.segment.selected');
  if (!g) return;
  const box = part.ladder.getBoundingClientRect();
  const r = g.getBoundingClientRect();
  if (r.top < box.top || r.bottom > box.bottom) {
    part.ladder.scrollTop += r.top - box.top - box.height / 3;
  }
}

// The row into the timeline's view, by scrolling the timeline alone.
function showRow(part, i) {
  const { body } = part;
  const row = part.rowEls.get(i);
  const top = part.virtual ? i * part.rowH : (row ? row.offsetTop : 0);
  const height = part.virtual ? part.rowH : (row ? row.offsetHeight : 0);
  if (top < body.scrollTop || top + height > body.scrollTop + body.clientHeight) {
    body.scrollTop = Math.max(0, top - body.clientHeight / 3);
  }
  if (part.virtual) drawVisible(part);
}

function drawFields(part, frame) {
  const pane = part.fieldsPane;
  pane.replaceChildren();
  part.size.textContent = `#${frame.number} · ${frame.size}`;
  let layer = null;
  frame.fields.forEach((f, k) => {
    if (f.layer !== layer) {
      layer = f.layer;
      const cls = layerClass(frame, f);
      pane.append(el('div', { class: 'layer ' + cls }, LAYER_NAMES[layer] || layer));
    }
    const row = el('div', { class: 'field' + (f.detail ? ' detail' : ''), 'data-k': String(k) },
      el('span', { class: 'text' }, f.text), ' ', el('span', { class: 'abbrev' }, f.abbrev));
    row.addEventListener('mouseenter', () => light(part, frame, k));
    row.addEventListener('mouseleave', () => light(part, frame, -1));
    pane.append(row);
  });
  if (frame.fields.length) return;
  const i = indexOfFrame(part, frame.number);
  const why = i >= part.data.field_frames
    ? `the page carries the fields of a part's first ${part.data.field_frames} frames; ` +
      `tcplab replay FILE --frame ${frame.number} --explain shows this one's ` +
      '(a trace or a lab saves its frames with --write FILE)'
    : 'not a TCP segment: no fields to explain';
  pane.append(el('div', {}, why));
}

function layerClass(frame, f) {
  return f.len > 0 ? layerAt(frame, f.offset) : '';
}

function drawBytes(part, frame) {
  const pane = part.bytesPane;
  pane.replaceChildren();
  const hex = (b) => b.toString(16).padStart(2, '0');
  for (let off = 0; off < frame.bytes.length; off += 16) {
    const line = el('div', { class: 'line' }, el('span', { class: 'off' }, off.toString(16).padStart(4, '0') + '  '));
    const ascii = el('span', { class: 'ascii' });
    for (let i = off; i < off + 16; i++) {
      if (i >= frame.bytes.length) { line.append('   '); continue; }
      const b = frame.bytes[i];
      const cls = layerAt(frame, i);
      line.append(el('b', { class: cls, 'data-b': String(i) }, hex(b)), i % 8 === 7 ? '  ' : ' ');
      ascii.append(el('b', { class: cls, 'data-b': String(i) },
        b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.'));
    }
    line.append(' ', ascii);
    pane.append(line);
  }
  if (frame.cut > 0) pane.append(el('div', { class: 'off' }, `… ${frame.cut} more bytes not in the page`));
  pane.onmouseover = (ev) => {
    const b = ev.target.closest('b');
    if (!b) return;
    const i = Number(b.dataset.b);
    const k = fieldAt(frame, i);
    light(part, frame, k, i);
  };
  pane.onmouseleave = () => light(part, frame, -1);
  part.status.textContent = 'hover a field or a byte';
}

// Lights field k's row and bytes (none when k < 0); `byte` is the byte
// the pointer is on, when it is on one.
function light(part, frame, k, byte) {
  for (const e of part.fieldsPane.querySelectorAll('.field.lit')) e.classList.remove('lit');
  for (const e of part.bytesPane.querySelectorAll('b.lit')) e.classList.remove('lit');
  if (k < 0) {
    part.status.textContent = byte === undefined ? 'hover a field or a byte'
      : `byte ${byte}: ${layerAt(frame, byte) || 'no header'}`;
    return;
  }
  const f = frame.fields[k];
  const row = part.fieldsPane.querySelector(`.field[data-k="${k}"]`);
  if (row) row.classList.add('lit');
  // A byte's field into the pane's view, by scrolling the pane alone (not
  // when the pointer is on the field itself: the list would move under it).
  if (row && byte !== undefined) {
    const pane = part.fieldsPane;
    const top = row.getBoundingClientRect().top - pane.getBoundingClientRect().top + pane.scrollTop;
    if (top < pane.scrollTop || top + row.offsetHeight > pane.scrollTop + pane.clientHeight) {
      pane.scrollTop = top - pane.clientHeight / 3;
    }
  }
  for (let i = f.offset; i < f.offset + f.len; i++) {
    for (const b of part.bytesPane.querySelectorAll(`b[data-b="${i}"]`)) b.classList.add('lit');
  }
  const where = f.len === 0 ? 'no bytes of its own'
    : f.len === 1 ? `byte ${f.offset}` : `bytes ${f.offset}-${f.offset + f.len - 1}`;
  part.status.textContent = `${where} · ${f.abbrev} = ${f.value}`;
}

// ---- following the stream (f) -----------------------------------------

function follow(part) {
  const box = document.getElementById('follow');
  if (!box.hidden) { box.hidden = true; return; }
  const list = el('div', { class: 'segments' });
  let missing = 0;
  // In step mode, only what has been shown so far.
  const upTo = state.stepping ? part.selected : part.frames.length - 1;
  part.frames.slice(0, upTo + 1).forEach((f) => {
    const p = f.layers.find((l) => l.cls === 'payload');
    if (!p || !f.dir) return;
    const bytes = f.bytes.slice(p.start, p.end);
    missing += f.cut;
    const text = Array.from(bytes, (b) => (b === 10 || (b >= 0x20 && b < 0x7f) ? String.fromCharCode(b) : '.')).join('');
    const who = f.dir === 'c' ? 'client → server' : 'server → client';
    list.append(el('div', { class: 'segment ' + f.dir },
      el('span', { class: 'who mono' }, `#${f.number} ${who}, ${p.end - p.start} bytes`),
      el('pre', {}, text)));
  });
  if (!list.childElementCount) list.append(el('p', {}, 'no payload yet'));
  const close = el('button', { type: 'button' }, 'close (f)');
  close.onclick = () => { box.hidden = true; };
  const note = missing ? ` ${missing} bytes past what the page keeps are left out.` : '';
  box.replaceChildren(
    el('h3', {}, 'the stream\'s bytes, segment by segment: ', el('span', { class: 'c' }, 'client → server'),
      ', ', el('span', { class: 's' }, 'server → client'), '.' + note, ' ', close),
    list);
  box.hidden = false;
}

// ---- the page ---------------------------------------------------------

function toggle(button, on) {
  button.setAttribute('aria-pressed', String(on));
}

function drawPage() {
  const page = document.getElementById('page');
  const large = el('button', { type: 'button', 'aria-pressed': 'false' }, 'large type (l)');
  const step = el('button', { type: 'button', 'aria-pressed': 'false' }, 'step mode (s)');
  const bar = el('div', { id: 'bar' }, large, step,
    el('span', { class: 'keys' }, '← → segment by segment · f follows the stream · click a row or an arrow'));
  large.onclick = () => { toggle(large, document.body.classList.toggle('large')); relayout(); };
  step.onclick = () => setStepping(step, !state.stepping);
  const main = el('main', {});
  if (DATA.text.title) main.append(el('h1', {}, DATA.text.title));
  if (DATA.text.intro) main.append(el('pre', { class: 'intro' }, DATA.text.intro));
  DATA.parts.forEach((p, i) => main.append(drawPart(p, i)));
  if (DATA.text.end) main.append(el('pre', { class: 'end' }, DATA.text.end));
  page.append(bar, main, el('div', { id: 'follow', hidden: '' }));
  document.addEventListener('keydown', (ev) => onKey(ev, large, step));
  // Each part starts at its first frame; `#part-P-frame-N` (or, for the
  // first part, `#frame-N`) opens at frame N of part P.
  for (const part of parts) select(part, 0);
  const m = /^#(?:part-(\d+)-)?frame-(\d+)$/.exec(location.hash);
  const part = m ? parts[Number(m[1] || 1) - 1] : null;
  if (part) select(part, Math.max(0, indexOfFrame(part, Number(m[2]))));
  state.part = part ? part.index : 0;
  state.ready = true;
}

function setStepping(button, on) {
  state.stepping = on;
  document.body.classList.toggle('stepping', on);
  toggle(button, on);
}

// The part the keys act on: the one last clicked while any of it is on
// screen, else the one that fills most of the screen (a lab's page is
// scrolled, not clicked, from one run to the next).
function partInView() {
  const shown = (p) => {
    const r = p.section.getBoundingClientRect();
    return Math.max(0, Math.min(r.bottom, innerHeight) - Math.max(r.top, 0));
  };
  const last = parts[state.part];
  if (!last || shown(last) > 0) return last;
  return parts.reduce((best, p) => (shown(p) > shown(best) ? p : best));
}

function onKey(ev, large, step) {
  if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const part = partInView();
  if (!part) return;
  state.part = part.index;
  switch (ev.key) {
    case 'ArrowRight': select(part, part.selected + 1); break;
    case 'ArrowLeft': select(part, part.selected - 1); break;
    case 'f': follow(part); break;
    case 'Escape': document.getElementById('follow').hidden = true; break;
    case 's': setStepping(step, !state.stepping); break;
    case 'l': toggle(large, document.body.classList.toggle('large')); relayout(); break;
    default: return;
  }
  ev.preventDefault();
}

drawPage();
