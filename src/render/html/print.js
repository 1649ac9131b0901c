// tcplab's page on paper: what printing changes, undone after it. Every
// timeline row is drawn (there is no scrolling), and each tall ladder is
// cut into pieces shorter than a page. Runs after page.js, in its script.

window.addEventListener('beforeprint', () => { printRows(true); cutLadders(); });
window.addEventListener('afterprint', () => { printRows(false); uncutLadders(); });

// Print has no scrolling: every row is drawn (up to PRINT_ROWS) in order.
const PRINT_ROWS = 5000;
function printRows(on) {
  for (const part of parts) {
    if (!part.virtual) continue;
    part.body.classList.toggle('virtual', !on);
    for (const row of part.rowEls.values()) row.remove();
    part.rowEls.clear();
    if (!on) { layoutVirtual(part); continue; }
    const n = Math.min(part.frames.length, PRINT_ROWS);
    for (let i = 0; i < n; i++) {
      const row = part.makeRow(i);
      part.rowEls.set(i, row);
      part.body.append(row);
    }
    if (n < part.frames.length) {
      const more = el('div', { class: 'row more' },
        `… ${part.frames.length - n} more rows not printed (tcplab replay FILE prints them all)`);
      part.rowEls.set(n, more);
      part.body.append(more);
    }
  }
}

// ---- the ladder in pieces --------------------------------------------

// A ladder is one SVG box, which Chromium slices at a page's edge through
// an arrow and its label. Printed, it becomes pieces cut in the gaps
// between what it draws, each at most PIECE_HEIGHT of its width tall (a
// page of A4 is 1.47 widths, of Letter 1.33, inside 12 mm margins), so
// `break-inside: avoid` moves a whole piece to the next page; each piece
// after the first starts with the lanes' titles.
const PIECE_HEIGHT = 1.25;
const SVG_NS = 'http://www.w3.org/2000/svg';
let cutAway = [];
let clips = 0;

function cutLadders() {
  for (const svg of document.querySelectorAll('.ladder svg:not(.piece)')) {
    const box = svg.viewBox.baseVal;
    const most = box.width * PIECE_HEIGHT;
    if (box.height <= most) continue;
    const { head, spans } = ladderParts(svg);
    const ys = cutsBetween(spans, box.y, box.y + box.height, most - (head ? head.height : 0));
    const pieces = ys.slice(1).map((end, i) => piece(svg, box, i ? head : null, ys[i], end));
    svg.replaceWith(...pieces);
    cutAway.push([pieces, svg]);
  }
}

function uncutLadders() {
  for (const [pieces, svg] of cutAway) {
    pieces[0].replaceWith(svg);
    for (const p of pieces.slice(1)) p.remove();
  }
  cutAway = [];
}

// The lanes' titles (drawn before the first lifeline: the boxes and their
// words, not the background or the heading; null if none), and the vertical extent of
// everything drawn after them. A phase's bracket spans many arrows and a
// lifeline all of them: pieces cut through those.
function ladderParts(svg) {
  const headEls = [];
  const spans = [];
  let lanes = true;
  for (const e of svg.children) {
    if (e.classList.contains('lifeline')) lanes = false;
    if (['defs', 'title'].includes(e.tagName) || e.getAttribute('width') === '100%') continue;
    if (e.classList.contains('heading') || e.classList.contains('lifeline')) continue;
    if (lanes) { headEls.push(e); continue; }
    if (e.classList.contains('phase')) continue;
    const b = e.getBBox();
    spans.push([b.y, b.y + b.height]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  if (!headEls.length) return { head: null, spans };
  const boxes = headEls.map((e) => e.getBBox());
  const top = Math.min(...boxes.map((b) => b.y)) - 8;
  const bottom = Math.max(...boxes.map((b) => b.y + b.height)) + 8;
  return { head: { els: headEls, y: top, height: bottom - top }, spans };
}

// Where to cut [top, bottom]: in a gap between spans, as late as keeps a
// piece within `most`. A span taller than `most` is cut through.
function cutsBetween(spans, top, bottom, most) {
  const ys = [top];
  let reach = top;
  let gap = null;
  for (const [a, b] of spans) {
    const start = ys[ys.length - 1];
    if (a > reach) gap = (reach + a) / 2;
    if (b - start > most) {
      // A gap, once found, is past the last cut: it lies beyond every span before.
      ys.push(gap ?? start + most);
      gap = null;
    }
    reach = Math.max(reach, b);
  }
  if (bottom - ys[ys.length - 1] < 1) ys.pop();
  ys.push(bottom);
  return ys;
}

// One piece: [y0, y1] of the ladder, under the lanes' titles when `head`.
function piece(svg, box, head, y0, y1) {
  const top = head ? head.height : 0;
  const out = document.createElementNS(SVG_NS, 'svg');
  const height = top + y1 - y0;
  for (const [k, v] of [['viewBox', `${box.x} 0 ${box.width} ${height}`],
    ['width', box.width], ['height', height], ['class', 'piece'], ['aria-hidden', 'true']]) {
    out.setAttribute(k, v);
  }
  if (head) {
    const titles = group(`translate(0 ${-head.y})`);
    titles.append(...head.els.map((e) => e.cloneNode(true)));
    out.append(titles);
  }
  const clip = document.createElementNS(SVG_NS, 'clipPath');
  clip.id = `tcplab-print-cut-${++clips}`;
  const rect = document.createElementNS(SVG_NS, 'rect');
  for (const [k, v] of [['x', box.x], ['y', y0], ['width', box.width], ['height', y1 - y0]]) {
    rect.setAttribute(k, v);
  }
  clip.append(rect);
  const body = group(`translate(0 ${top - y0})`);
  body.setAttribute('clip-path', `url(#${clip.id})`);
  body.append(clip, ...[...svg.childNodes].map((n) => n.cloneNode(true)));
  out.append(body);
  return out;
}

function group(transform) {
  const g = document.createElementNS(SVG_NS, 'g');
  g.setAttribute('transform', transform);
  return g;
}
