// Opens a tcplab page in headless Chromium through the DevTools protocol
// (over --remote-debugging-pipe: no npm package, no port), acts on it as a
// person would (a click on a row, the pointer on a field, on a byte, a key)
// with real input events, and prints what the page showed as JSON for
// tests/html_page.rs to check. Every request the page makes is recorded.
//
//   node page_probe.js PAGE.html [SHOT.png] [FRAME] [FIELD] [BYTE]
// FIELD `-` stops after the click (a frame past those with fields).
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const [page, shot, frameArg, fieldArg, byteArg] = process.argv.slice(2);
const FRAME = Number(frameArg || 4);
const FIELD = fieldArg || 'tcp.srcport';
const BYTE = Number(byteArg || 47);
const browser = process.env.CHROMIUM || 'chromium';
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tcplab-probe-'));
const chrome = spawn(browser, ['--headless', '--no-sandbox', '--disable-gpu',
  '--disable-dev-shm-usage', '--hide-scrollbars', '--remote-debugging-pipe',
  `--user-data-dir=${profile}`, '--window-size=1600,1200', 'about:blank'],
  { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
const killer = setTimeout(() => fail('no answer from chromium in 60 s'), 60000);
chrome.on('error', (e) => fail(`cannot run ${browser}: ${e.message}`));

// The profile goes once chromium has exited (it writes there to the end).
chrome.on('exit', () => {
  try {
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  } catch (e) {
    // Its helpers may still be writing: the temporary directory stays.
  }
});

function fail(why) {
  console.log(JSON.stringify({ error: why }));
  chrome.kill();
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 2000);
}

let id = 0;
const waiting = new Map();
const listeners = [];
let buf = Buffer.alloc(0);
chrome.stdio[4].on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  let i;
  while ((i = buf.indexOf(0)) >= 0) {
    const msg = JSON.parse(buf.subarray(0, i).toString());
    buf = buf.subarray(i + 1);
    if (msg.id && waiting.has(msg.id)) {
      waiting.get(msg.id)(msg);
      waiting.delete(msg.id);
    } else listeners.forEach((l) => l(msg));
  }
});

let session;
function send(method, params = {}) {
  return new Promise((resolve) => {
    id += 1;
    waiting.set(id, (m) => (m.error ? fail(`${method}: ${m.error.message}`) : resolve(m.result)));
    chrome.stdio[3].write(JSON.stringify({ id, method, params, sessionId: session }) + '\0');
  });
}

async function value(expression) {
  // A promise the expression returns is waited for.
  const r = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
  if (r.exceptionDetails) fail(`${expression}: ${r.exceptionDetails.text}`);
  return r.result.value;
}

// The centre of the first element `selector` finds, scrolled into view.
async function centre(selector) {
  const box = await value(`(() => { const e = document.querySelector(${JSON.stringify(selector)});
    if (!e) return null; e.scrollIntoView({ block: 'nearest' });
    const r = e.getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + r.height / 2 }; })()`);
  if (!box) fail(`nothing matches ${selector}`);
  return box;
}

async function pointAt(selector) {
  const { x, y } = await centre(selector);
  await send('Input.dispatchMouseEvent', { type: 'mouseMoved', x, y });
}

async function click(selector) {
  const { x, y } = await centre(selector);
  for (const type of ['mouseMoved', 'mousePressed', 'mouseReleased']) {
    await send('Input.dispatchMouseEvent', { type, x, y, button: 'left', clickCount: 1 });
  }
}

async function key(k) {
  for (const type of ['keyDown', 'keyUp']) {
    const code = k === 'ArrowRight' ? 39 : k.toUpperCase().charCodeAt(0);
    await send('Input.dispatchKeyEvent', { type, key: k, windowsVirtualKeyCode: code, text: type === 'keyDown' && k.length === 1 ? k : undefined });
  }
}

const selected = `(() => { const r = document.querySelector('.grid .row.selected');
  const g = document.querySelector('.ladder .segment.selected');
  return { row: r ? r.firstChild.textContent.trim() : null, arrow: g ? g.dataset.frame : null,
           size: document.querySelector('.size').textContent }; })()`;
const litBytes = `[...new Set([...document.querySelectorAll('.bytes b.lit')].map((b) => Number(b.dataset.b)))]`;
const litField = `(() => { const f = document.querySelector('.field.lit');
  return f ? f.querySelector('.abbrev').textContent : null; })()`;

// How smoothly the page answers (PROBE_SMOOTH=1, for the benchmark): the
// gaps between drawn frames while the timeline scrolls 40 px a frame for
// 2 s, then while it jumps to a random place each frame (a scrollbar
// dragged), and how long an arrow key takes to select and draw the next
// frame. Milliseconds: median, 95th centile, the longest.
async function smoothness() {
  return value(`(async () => {
    const frame = () => new Promise((r) => requestAnimationFrame(() => r(performance.now())));
    const stats = (xs) => { const s = [...xs].sort((a, b) => a - b);
      const at = (q) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] * 10) / 10;
      return { n: s.length, p50: at(0.5), p95: at(0.95), max: at(1) }; };
    const body = document.querySelector('.grid .body');
    const gaps = async (move) => { const out = []; let t = await frame(); const end = t + 2000;
      while (t < end) { move(); const u = await frame(); out.push(u - t); t = u; } return stats(out); };
    body.scrollTop = 0;
    const scroll = await gaps(() => { body.scrollTop += 40; });
    const jumps = await gaps(() => { body.scrollTop = Math.random() * body.scrollHeight; });
    const keys = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      document.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight' }));
      keys.push((await frame()) - t);
    }
    return { scroll, jumps, key: stats(keys) }; })()`);
}

// Printing (PROBE_PRINT=FILE.pdf): what print.js makes of the ladder in
// print media (its pieces, the tallest in widths, any segment a cut goes
// through, how the timeline's header is laid out: a table's header group
// repeats on each page), that afterprint puts the ladder back, and the page printed to
// A4 by Chromium itself, as FILE.pdf.
async function printed(pdf) {
  await send('Emulation.setEmulatedMedia', { media: 'print' });
  const cut = await value(`(() => {
    const before = document.querySelectorAll('.ladder .segment').length;
    dispatchEvent(new Event('beforeprint'));
    const pieces = [...document.querySelectorAll('.ladder svg.piece')];
    let crossed = 0;
    for (const p of pieces) {
      const r = p.querySelector('clipPath rect');
      const y0 = Number(r.getAttribute('y')), y1 = y0 + Number(r.getAttribute('height'));
      for (const g of p.querySelectorAll('.segment')) {
        const b = g.getBBox();
        if ((b.y < y0 && b.y + b.height > y0) || (b.y < y1 && b.y + b.height > y1)) crossed += 1;
      }
    }
    const tallest = Math.max(0, ...pieces.map((p) => p.viewBox.baseVal.height / p.viewBox.baseVal.width));
    dispatchEvent(new Event('afterprint'));
    const head = getComputedStyle(document.querySelector('.grid .row.head')).display;
    return { pieces: pieces.length, tallest, crossed, before, head,
             after: document.querySelectorAll('.ladder .segment').length,
             left: document.querySelectorAll('.ladder svg.piece').length }; })()`);
  await send('Emulation.setEmulatedMedia', { media: '' });
  const r = await send('Page.printToPDF', { paperWidth: 8.27, paperHeight: 11.69 });
  fs.writeFileSync(pdf, Buffer.from(r.data, 'base64'));
  return cut;
}

(async () => {
  const target = await send('Target.createTarget', { url: 'about:blank' });
  ({ sessionId: session } = await send('Target.attachToTarget', { targetId: target.targetId, flatten: true }));
  const requests = [];
  const errors = [];
  listeners.push((m) => {
    if (m.method === 'Network.requestWillBeSent') requests.push(m.params.request.url);
    if (m.method === 'Runtime.exceptionThrown') errors.push(m.params.exceptionDetails.exception?.description || m.params.exceptionDetails.text);
    if (m.method === 'Log.entryAdded' && m.params.entry.level === 'error') errors.push(m.params.entry.text);
  });
  await send('Network.enable');
  await send('Runtime.enable');
  await send('Log.enable');
  await send('Page.enable');
  const loaded = new Promise((r) => listeners.push((m) => m.method === 'Page.loadEventFired' && r()));
  const start = Date.now();
  await send('Page.navigate', { url: 'file://' + path.resolve(page) });
  await loaded;
  const loadMs = Date.now() - start;
  const out = { loadMs, requests, errors };
  out.rows = await value(`document.querySelectorAll('.grid .body .row').length`);
  out.frames = await value(`JSON.parse(document.getElementById('tcplab-data').textContent).parts.reduce((n, p) => n + p.frames.length, 0)`);
  out.arrows = await value(`document.querySelectorAll('.ladder .segment').length`);
  out.first = await value(selected);
  if (process.env.PROBE_PRINT) out.print = await printed(process.env.PROBE_PRINT);
  // Scroll the timeline to the row first, as a person would: a long
  // timeline has only the rows in view in the page.
  await value(`new Promise((done) => { const b = document.querySelector('.grid .body');
    const h = b.querySelector('.row').getBoundingClientRect().height;
    b.scrollTop = Math.max(0, (${FRAME} - 1) * h - b.clientHeight / 3);
    requestAnimationFrame(() => requestAnimationFrame(() => done(true))); })`);
  await click(`.grid .row[data-i="${FRAME - 1}"]`);
  out.clicked = await value(selected);
  if (process.env.PROBE_SMOOTH) out.smooth = await smoothness();
  if (FIELD === '-') {
    clearTimeout(killer);
    console.log(JSON.stringify(out));
    chrome.kill();
    return;
  }
  out.fields = await value(`document.querySelectorAll('.fields .field').length`);
  await pointAt(`.field:has(.abbrev:not(:empty)) .abbrev`);
  const fieldSel = `.fields .field .abbrev`;
  const k = await value(`[...document.querySelectorAll(${JSON.stringify(fieldSel)})].findIndex((a) => a.textContent === ${JSON.stringify(FIELD)})`);
  if (k < 0) fail(`no field ${FIELD} in frame ${FRAME}`);
  await pointAt(`.fields .field[data-k="${await value(`document.querySelectorAll(${JSON.stringify(fieldSel)})[${k}].parentNode.dataset.k`)}"]`);
  out.fieldHover = { field: await value(litField), bytes: await value(litBytes), status: await value(`document.querySelector('.status').textContent`) };
  await pointAt(`.bytes .line b[data-b="${BYTE}"]`);
  out.byteHover = { field: await value(litField), bytes: await value(litBytes), status: await value(`document.querySelector('.status').textContent`) };
  await key('ArrowRight');
  out.afterKey = await value(selected);
  // Step mode: what comes after the selected frame is hidden.
  await key('s');
  out.stepped = await value(`(() => {
    const hidden = (e) => getComputedStyle(e).visibility === 'hidden' || getComputedStyle(e).display === 'none';
    const count = (sel) => [...document.querySelectorAll(sel)].filter(hidden).length;
    const tail = document.querySelector('pre.tail');
    return { rows: count('.grid .body .row'), arrows: count('.ladder .segment'), phases: count('.ladder .phase'),
             tail: tail ? hidden(tail) : null, heading: hidden(document.querySelector('.ladder svg .heading')) }; })()`);
  await key('s');
  if (shot) {
    await click(`.grid .row[data-i="${FRAME - 1}"]`);
    await pointAt(`.fields .field[data-k="${await value(`document.querySelectorAll(${JSON.stringify(fieldSel)})[${k}].parentNode.dataset.k`)}"]`);
    const png = await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: false });
    fs.writeFileSync(shot, Buffer.from(png.data, 'base64'));
  }
  // A page of parts: scrolled to the last, → steps the last.
  out.lastPart = await value(`(() => { if (parts.length < 2) return null;
    const p = parts[parts.length - 1]; p.section.scrollIntoView(); return p.selected; })()`);
  if (out.lastPart !== null) {
    await key('ArrowRight');
    out.lastPartAfterKey = await value(`parts[parts.length - 1].selected`);
  }
  clearTimeout(killer);
  console.log(JSON.stringify(out));
  chrome.kill();
})();
