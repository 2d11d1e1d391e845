// The sweep report page's plots, drawn as SVG from the JSON embedded in the page (#sweep-data):
// the frontier scatter per size view, the hyperparameter strip plots, and on click a
// configuration's trials with their training graphs. It loads nothing and marks
// <body data-rendered="ok"> when done (data-js-error on any uncaught error), which the
// headless-browser test checks. Embedded into the page at build time (cmake/embed_files.cmake).
(function () {
'use strict';
window.addEventListener('error', function (e) {
  document.body.setAttribute('data-js-error', String(e.message));
});
var D = JSON.parse(document.getElementById('sweep-data').textContent);
var NS = 'http://www.w3.org/2000/svg';
var FIXED = {none: '#555555', restart: '#e69f00', gd: '#0072b2', cc: '#d55e00'};
var SPARE = ['#009e73', '#cc79a7', '#56b4e9', '#8c564b', '#bcbd22'];
var COLOR = {};
D.arms.forEach(function (a, i) { COLOR[a] = FIXED[a] || SPARE[i % SPARE.length]; });

function el(tag, attrs, parent) {
  var e = document.createElementNS(NS, tag);
  for (var k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
function label(parent, x, y, s, attrs) {
  var t = el('text', attrs || {}, parent);
  t.setAttribute('x', x); t.setAttribute('y', y); t.textContent = s;
  return t;
}
function h(tag, text, parent) {
  var e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function grouped(v) { return Math.round(v).toLocaleString('en-US'); }
function short(v) { return v >= 1000 ? (v / 1000) + 'k' : String(v); }
function niceStep(span, n) {
  var raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw))), r = raw / mag;
  return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
}
function linTicks(lo, hi, n) {
  var s = niceStep(hi - lo, n), out = [];
  for (var t = Math.ceil(lo / s) * s; t <= hi + s * 1e-6; t += s) out.push(+t.toFixed(10));
  return out;
}
function extent(values, pad) {
  var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
  if (!(hi > lo)) { lo -= 0.01; hi += 0.01; }
  var p = (hi - lo) * pad;
  return [lo - p, hi + p];
}

// ---- frontier scatter ----
function frontier(key) {
  var box = document.getElementById('frontier-' + key), V = D.views[key];
  if (!box || !V) return;
  var W = 860, H = 440, L = 62, R = 150, T = 16, B = 46, pw = W - L - R, ph = H - T - B;
  var xs = [], ys = [];
  D.arms.forEach(function (a) {
    (V.configs[a] || []).forEach(function (c) { xs.push(Math.log10(c[1])); ys.push(c[3]); });
  });
  if (!xs.length) { h('p', 'No finished trial carries this size.', box); return; }
  var xr = extent(xs, 0.05), yr = extent(ys, 0.06);
  function X(v) { return L + (Math.log10(v) - xr[0]) / (xr[1] - xr[0]) * pw; }
  function Y(v) { return T + (1 - (v - yr[0]) / (yr[1] - yr[0])) * ph; }
  var s = el('svg', {width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, 'font-size': 11,
                     'class': 'frontier-plot', 'data-view': key}, box);
  var axes = el('g', {'class': 'axes'}, s);
  for (var d = Math.floor(xr[0]); d <= Math.ceil(xr[1]); d++) {
    [1, 2, 5].forEach(function (m) {
      var v = m * Math.pow(10, d), lv = Math.log10(v);
      if (lv < xr[0] || lv > xr[1]) return;
      el('line', {x1: X(v), x2: X(v), y1: T, y2: T + ph, stroke: m === 1 ? '#ddd' : '#f0f0f0'}, axes);
      label(axes, X(v), T + ph + 15, short(v), {'text-anchor': 'middle'});
    });
  }
  linTicks(yr[0], yr[1], 6).forEach(function (t) {
    el('line', {x1: L, x2: L + pw, y1: Y(t), y2: Y(t), stroke: '#eee'}, axes);
    label(axes, L - 5, Y(t) + 4, t.toFixed(3), {'text-anchor': 'end'});
  });
  el('rect', {x: L, y: T, width: pw, height: ph, fill: 'none', stroke: '#999'}, axes);
  label(axes, L + pw / 2, H - 8, (V.size === 'params' ? 'parameters' : 'int8 bytes') + ' (log scale)',
        {'text-anchor': 'middle'});
  label(axes, 14, T + ph / 2, V.report === 'test_acc' ? 'mean test accuracy' : 'mean int8 test accuracy',
        {'text-anchor': 'middle', transform: 'rotate(-90 14 ' + (T + ph / 2) + ')'});
  (V.paper || []).forEach(function (b) {
    if (Math.log10(b) < xr[0] || Math.log10(b) > xr[1]) return;
    el('line', {x1: X(b), x2: X(b), y1: T, y2: T + ph, stroke: '#888', 'stroke-dasharray': '4 3',
                'class': 'budget-line'}, axes);
    label(axes, X(b) + 3, T + 11, grouped(b), {fill: '#666'});
  });
  var maxSize = Math.pow(10, xr[1]);
  D.arms.forEach(function (a, ai) {
    var rows = V.configs[a] || [], byId = {};
    rows.forEach(function (c) { byId[c[0]] = c; });
    var f = (V.frontier[a] || []).map(function (id) { return byId[id]; });
    // Step line: at any size x the arm's pick is the last frontier point no larger than x.
    if (f.length) {
      var pts = [];
      f.forEach(function (c, i) {
        pts.push(X(c[1]) + ',' + Y(c[3]));
        var next = i + 1 < f.length ? f[i + 1][1] : maxSize;
        pts.push(X(next) + ',' + Y(c[3]));
      });
      el('polyline', {points: pts.join(' '), fill: 'none', stroke: COLOR[a], 'stroke-width': 2,
                      'class': 'frontier', 'data-arm': a}, s);
    }
    var onF = {};
    (V.frontier[a] || []).forEach(function (id) { onF[id] = true; });
    rows.forEach(function (c) {
      var p = el('circle', {cx: X(c[1]), cy: Y(c[3]), r: onF[c[0]] ? 5 : 3.5, fill: COLOR[a],
                            'fill-opacity': onF[c[0]] ? 0.95 : 0.45, stroke: onF[c[0]] ? '#000' : 'none',
                            'class': 'pt', 'data-arm': a, 'data-config': c[0]}, s);
      el('title', {}, p).textContent = a + ' \u00b7 config ' + c[0] + ' \u00b7 ' + grouped(c[1]) + ' ' +
        (V.size === 'params' ? 'params' : 'bytes') + ' \u00b7 val ' + c[2].toFixed(4) + ' \u00b7 test ' +
        c[3].toFixed(4) + ' \u00b7 ' + c[4] + ' seed(s)' + (onF[c[0]] ? ' \u00b7 frontier' : '');
      p.addEventListener('click', function () { showConfig(c[0]); });
    });
    var ly = T + 14 + ai * 20;
    el('circle', {cx: L + pw + 18, cy: ly - 4, r: 5, fill: COLOR[a]}, s);
    label(s, L + pw + 28, ly, a + ' (' + rows.length + ')');
  });
  label(s, L + pw + 12, T + 20 + D.arms.length * 20, 'bold: frontier', {fill: '#666'});
}

// ---- hyperparameter strip plots ----
function hyperparams() {
  var box = document.getElementById('hparams'), V = D.views.params;
  var keys = [];
  Object.keys(D.hparams).forEach(function (cid) {
    Object.keys(D.hparams[cid] || {}).forEach(function (k) { if (keys.indexOf(k) < 0) keys.push(k); });
  });
  var ys = [];
  D.arms.forEach(function (a) { (V.configs[a] || []).forEach(function (c) { ys.push(c[3]); }); });
  if (!ys.length || !keys.length) { h('p', 'No hyperparameters recorded.', box); return; }
  var yr = extent(ys, 0.05), W = 300, H = 180, L = 44, T = 20, B = 34, pw = W - L - 8, ph = H - T - B;
  function Y(v) { return T + (1 - (v - yr[0]) / (yr[1] - yr[0])) * ph; }
  function lab(v) { return typeof v === 'object' ? JSON.stringify(v) : String(v); }
  keys.forEach(function (k) {
    var vals = [];
    Object.keys(D.hparams).forEach(function (cid) {
      var hp = D.hparams[cid] || {};
      if (k in hp && vals.map(lab).indexOf(lab(hp[k])) < 0) vals.push(hp[k]);
    });
    var numeric = vals.every(function (v) { return typeof v === 'number'; });
    vals.sort(function (x, y) { return numeric ? x - y : (lab(x) < lab(y) ? -1 : lab(x) > lab(y) ? 1 : 0); });
    var names = vals.map(lab), bw = pw / Math.max(names.length, 1), na = D.arms.length;
    // Many distinct numbers (a sampled range, not a choice list): a continuous axis, log when the
    // values span more than 20x, and no per-value mean bars.
    var continuous = numeric && vals.length > 8, lo = vals[0], hi = vals[vals.length - 1];
    var logx = continuous && lo > 0 && hi / lo > 20;
    function fx(v) {
      var t = logx ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))
                   : (v - lo) / ((hi - lo) || 1);
      return L + 6 + t * (pw - 12);
    }
    var s = el('svg', {width: W, height: H, 'font-size': 10, 'class': 'hp-panel'}, box);
    label(s, L, 13, k + (logx ? ' (log)' : ''), {'font-weight': 'bold', 'font-size': 12});
    linTicks(yr[0], yr[1], 4).forEach(function (t) {
      el('line', {x1: L, x2: L + pw, y1: Y(t), y2: Y(t), stroke: '#eee'}, s);
      label(s, L - 4, Y(t) + 3, t.toFixed(2), {'text-anchor': 'end'});
    });
    if (continuous) {
      [lo, logx ? Math.sqrt(lo * hi) : (lo + hi) / 2, hi].forEach(function (v) {
        label(s, fx(v), T + ph + 13, String(Number(v.toPrecision(2))), {'text-anchor': 'middle'});
      });
    } else {
      names.forEach(function (n, i) {
        var txt = n.length > 12 ? n.slice(0, 11) + '\u2026' : n;
        label(s, L + (i + 0.5) * bw, T + ph + 13, txt, {'text-anchor': 'middle'});
      });
    }
    D.arms.forEach(function (a, ai) {
      var sums = {}, counts = {};
      (V.configs[a] || []).forEach(function (c) {
        var hp = D.hparams[c[0]] || {};
        if (!(k in hp)) return;
        var i = names.indexOf(lab(hp[k]));
        var jitter = ((c[0] * 2654435761) % 1000) / 1000 - 0.5;
        var x = continuous ? fx(hp[k]) + (ai - (na - 1) / 2) * 1.5
                           : L + i * bw + (ai + 0.5 + 0.7 * jitter) * bw / na;
        var p = el('circle', {cx: x, cy: Y(c[3]), r: 2.2, fill: COLOR[a], 'fill-opacity': 0.5,
                              'class': 'hp', 'data-config': c[0]}, s);
        el('title', {}, p).textContent = k + ' = ' + names[i] + ' \u00b7 ' + a + ' \u00b7 config ' + c[0] +
          ' \u00b7 test ' + c[3].toFixed(4);
        p.addEventListener('click', function () { showConfig(c[0]); });
        sums[i] = (sums[i] || 0) + c[3]; counts[i] = (counts[i] || 0) + 1;
      });
      if (!continuous) Object.keys(counts).forEach(function (i) {
        var x0 = L + i * bw + ai * bw / na, m = sums[i] / counts[i];
        el('line', {x1: x0 + 1, x2: x0 + bw / na - 1, y1: Y(m), y2: Y(m), stroke: COLOR[a],
                    'stroke-width': 2.5, 'class': 'hpmean'}, s);
      });
    });
  });
}

// ---- one trial's training graph from its compact history ----
function changeSeries(points, n) {  // change points [[epoch, value], ...] -> value per epoch
  var out = [], j = 0, cur = null;
  for (var e = 1; e <= n; e++) {
    while (j < points.length && points[j][0] <= e) cur = points[j++][1];
    out.push(cur);
  }
  return out;
}
function trainingGraph(hist, title) {
  var n = hist.v.length, W = 410, H = 270, L = 46, R = 10, T = 22, pw = W - L - R;
  var h1 = 150, gap = 26, h2 = 50, s = el('svg', {width: W, height: H, 'font-size': 10, 'class': 'graph'});
  label(s, 6, 14, title, {'font-size': 11});
  function X(e) { return L + (n > 1 ? (e - 1) / (n - 1) : 0.5) * pw; }
  var acc = hist.v.concat(hist.t).filter(function (v) { return v !== null; }).map(function (v) { return v / 1000; });
  var yr = acc.length ? extent(acc, 0.05) : [0, 1];
  function Y(v) { return T + (1 - (v - yr[0]) / (yr[1] - yr[0])) * h1; }
  for (var e = 1; e <= n; e++) {  // dendrite-phase bands
    if (hist.ph[e - 1] !== 'P') continue;
    var e2 = e; while (e2 < n && hist.ph[e2] === 'P') e2++;
    el('rect', {x: X(e) - 1, y: T, width: Math.max(X(e2) - X(e) + 2, 2), height: h1, fill: '#f6d58e',
                'fill-opacity': 0.6, 'class': 'phase-band'}, s);
    e = e2;
  }
  linTicks(yr[0], yr[1], 4).forEach(function (t) {
    el('line', {x1: L, x2: L + pw, y1: Y(t), y2: Y(t), stroke: '#eee'}, s);
    label(s, L - 4, Y(t) + 3, t.toFixed(2), {'text-anchor': 'end'});
  });
  function line(series, color, cls) {
    var d = '', pen = false;
    series.forEach(function (v, i) {
      if (v === null) { pen = false; return; }
      d += (pen ? 'L' : 'M') + X(i + 1).toFixed(1) + ',' + Y(v / 1000).toFixed(1);
      pen = true;
    });
    if (d) el('path', {d: d, fill: 'none', stroke: color, 'stroke-width': 1.4, 'class': cls}, s);
  }
  line(hist.t, '#5aa469', 'series train');
  line(hist.v, '#1f5fa8', 'series val');
  var best = -1, bi = 0;
  hist.v.forEach(function (v, i) { if (v !== null && v > best) { best = v; bi = i; } });
  if (best >= 0) el('circle', {cx: X(bi + 1), cy: Y(best / 1000), r: 3.5, fill: 'none', stroke: '#000', 'class': 'best'}, s);
  (hist.d || []).forEach(function (p, i) {  // dendrites added
    if (i === 0) return;
    el('line', {x1: X(p[0]), x2: X(p[0]), y1: T, y2: T + h1, stroke: '#b07aa1', 'stroke-dasharray': '3 2', 'class': 'marker'}, s);
  });
  el('rect', {x: L, y: T, width: pw, height: h1, fill: 'none', stroke: '#999'}, s);
  label(s, L + pw - 2, T + 12, 'val \u2014 blue, train \u2014 green', {'text-anchor': 'end', fill: '#666'});
  // learning rate on a log axis, with the dendrite count
  var lr = changeSeries(hist.lr || [], n), top2 = T + h1 + gap;
  var lv = lr.filter(function (v) { return v > 0; }).map(Math.log10);
  if (lv.length) {
    var lo = Math.min.apply(null, lv), hi = Math.max.apply(null, lv);
    if (hi - lo < 1) { lo -= 0.5; hi += 0.5; }
    var d = '';
    lr.forEach(function (v, i) {
      if (!(v > 0)) return;
      d += (d ? 'L' : 'M') + X(i + 1).toFixed(1) + ',' + (top2 + (1 - (Math.log10(v) - lo) / (hi - lo)) * h2).toFixed(1);
    });
    el('path', {d: d, fill: 'none', stroke: '#444', 'stroke-width': 1.2, 'class': 'series lr'}, s);
    label(s, L - 4, top2 + 8, '1e' + Math.round(hi), {'text-anchor': 'end'});
    label(s, L - 4, top2 + h2, '1e' + Math.round(lo), {'text-anchor': 'end'});
  }
  el('rect', {x: L, y: top2, width: pw, height: h2, fill: 'none', stroke: '#999'}, s);
  var dn = changeSeries(hist.d || [], n), pn = changeSeries(hist.p || [], n);
  label(s, L + 2, top2 - 4, 'learning rate (log) \u00b7 epochs ' + n + ' \u00b7 dendrites ' +
        (dn[n - 1] || 0) + ' \u00b7 params ' + (pn[n - 1] !== null ? grouped(pn[n - 1]) : '?'), {fill: '#444'});
  label(s, L + pw / 2, H - 4, 'epoch (shaded: dendrite phase; dashed: dendrites added; circle: best val)',
        {'text-anchor': 'middle', fill: '#666'});
  return s;
}

// ---- configuration detail ----
function showConfig(cid) {
  var body = document.getElementById('detail-body');
  body.innerHTML = '';
  h('h3', 'Configuration ' + cid, body);
  var hp = D.hparams[cid] || {}, t = h('table', undefined, body);
  Object.keys(hp).forEach(function (k) {
    var r = h('tr', undefined, t);
    h('td', k, r); h('td', typeof hp[k] === 'object' ? JSON.stringify(hp[k]) : String(hp[k]), r);
  });
  var rows = D.trials.filter(function (r) { return r[1] === cid; });
  rows.sort(function (a, b) { return D.arms.indexOf(a[2]) - D.arms.indexOf(b[2]) || a[3] - b[3]; });
  var tt = h('table', undefined, body), hr = h('tr', undefined, tt);
  ['arm', 'seed', 'trial', 'status', 'val', 'test', 'params', 'dendrites', 'epochs'].forEach(function (c) { h('th', c, hr); });
  var graphs = h('div', undefined, body);
  graphs.className = 'graphs';
  rows.forEach(function (r) {
    var tr = h('tr', undefined, tt);
    [r[2], r[3], r[0], r[4] + (r[10] ? ': ' + r[10] : ''), r[5] === null ? '' : r[5].toFixed(4),
     r[6] === null ? '' : r[6].toFixed(4), r[7] === null ? '' : grouped(r[7]), r[8], r[9]].forEach(function (v) { h('td', String(v), tr); });
    var hist = D.hist[String(r[0])];
    var title = r[2] + ' \u00b7 seed ' + r[3] + ' \u00b7 trial ' + r[0];
    if (hist) graphs.appendChild(trainingGraph(hist, title));
    else h('p', title + ': no history.csv', graphs);
  });
  try { history.replaceState(null, '', '#config-' + cid); } catch (e) { /* file:// may refuse */ }
  document.getElementById('detail').scrollIntoView();
}

// ---- every configuration, listed on demand ----
function configTable() {
  var box = document.getElementById('config-table');
  if (box.firstChild) return;
  var V = D.views.params, by = {};
  D.arms.forEach(function (a) {
    (V.configs[a] || []).forEach(function (c) { (by[c[0]] = by[c[0]] || {})[a] = c; });
  });
  var t = h('table', undefined, box), hr = h('tr', undefined, t);
  h('th', 'config', hr);
  D.arms.forEach(function (a) { h('th', a + ' test', hr); h('th', a + ' params', hr); });
  Object.keys(by).map(Number).sort(function (x, y) { return x - y; }).forEach(function (cid) {
    var r = h('tr', undefined, t);
    h('td', String(cid), r);
    D.arms.forEach(function (a) {
      var c = by[cid][a];
      h('td', c ? c[3].toFixed(4) : '', r); h('td', c ? grouped(c[1]) : '', r);
    });
    r.addEventListener('click', function () { showConfig(cid); });
  });
}

Object.keys(D.views).forEach(frontier);
hyperparams();
document.getElementById('config-list').addEventListener('toggle', configTable);
document.addEventListener('click', function (e) {
  var a = e.target.closest ? e.target.closest('a[data-config]') : null;
  if (a) { e.preventDefault(); showConfig(Number(a.getAttribute('data-config'))); }
});
var m = /^#config-(\d+)$/.exec(location.hash);
if (m) showConfig(Number(m[1]));
document.body.setAttribute('data-rendered', 'ok');
})();
