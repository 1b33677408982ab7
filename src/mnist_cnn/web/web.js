// The exported draw-a-digit page (`mnist-cnn export --format web`): strokes -> the 28x28 MNIST image ->
// model.onnx in ONNX Runtime Web -> digit, bars, and "not a digit" with the run's rule (rule.json, notdigit.onnx).
// Everything runs here; nothing is sent anywhere. The preprocessing mirrors images.to_mnist for what a drawing
// on this pad reaches (dark paper, no noise, no ruled lines); the pen is thick enough that to_mnist never
// thickens it. tests/test_web_export.py compares this file's 28x28 images, probabilities and refusals with
// Python's on the same drawings in Chromium. window.mnistAnswer holds the last answer for that test.
"use strict";

const FRAME = 28, BOX = 20, CENTRE = 14; // images.py
const NOISE_FLOOR = 0.04, MIN_CONTRAST = 0.1, MIN_INK_PIXELS = 4, LOG_FLOOR = 1e-12; // images.py, calibration.py
const MNIST_SLANT = -0.103, SHARE = 0.5, MAX_SLANT = 1.0, MIN_SPREAD = 1e-2; // slant.py
const THROTTLE_MS = 60; // a prediction takes ~2 ms here: ~15 a second while drawing is plenty

const $ = (id) => document.getElementById(id);
const canvas = $("canvas"), ctx = canvas.getContext("2d"), seenCtx = $("seen").getContext("2d");
const state = { strokes: [], pointer: null, model: null, gate: null, rule: null, timer: null, busy: false, version: 0 };

// Drawing (pad.js: PEN, EXPORT, render; also makeBars, setBars, drawPixels below, as on the server's page)

function paint() {
  const size = Math.max(1, Math.round(canvas.clientWidth * devicePixelRatio));
  if (canvas.width !== size) canvas.width = canvas.height = size;
  render(ctx, size, state.strokes);
  $("placeholder").hidden = state.strokes.length > 0;
  $("undo").disabled = $("clear").disabled = !state.strokes.length;
}

function point(e) {
  const r = canvas.getBoundingClientRect();
  return [(e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height];
}

canvas.addEventListener("pointerdown", (e) => {
  if (state.pointer !== null || e.button !== 0) return;
  e.preventDefault();
  canvas.setPointerCapture(e.pointerId);
  state.pointer = e.pointerId;
  state.strokes.push([point(e)]);
  changed();
});
canvas.addEventListener("pointermove", (e) => {
  if (e.pointerId !== state.pointer) return;
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
  state.strokes[state.strokes.length - 1].push(...(events.length ? events : [e]).map(point));
  changed();
});
for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
  canvas.addEventListener(type, (e) => { if (e.pointerId === state.pointer) state.pointer = null; });
}
$("undo").addEventListener("click", () => { state.strokes.pop(); changed(); });
$("clear").addEventListener("click", () => { state.strokes = []; changed(); });
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") $("clear").click();
  if (e.key === "z" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); $("undo").click(); }
});

function changed() {
  window.mnistVersion = ++state.version; // every answer names the drawing it is for
  paint();
  if (!state.timer) state.timer = setTimeout(predict, THROTTLE_MS);
}

// images.to_mnist, for a drawing

function drawing() { // the drawing at EXPORT px (one canvas kind for reading and for the PNG: their anti-aliasing differs)
  const c = document.createElement("canvas");
  c.width = c.height = EXPORT;
  render(c.getContext("2d", { willReadFrequently: true }), EXPORT, state.strokes);
  return c;
}

function drawingGrey() { // the drawing as grey levels in [0, 1] (white ink on black)
  const rgba = drawing().getContext("2d").getImageData(0, 0, EXPORT, EXPORT).data, grey = new Float32Array(EXPORT * EXPORT);
  // Pillow's "L": (299 R + 587 G + 114 B) / 1000, rounded
  for (let i = 0; i < grey.length; i++) {
    grey[i] = Math.round((rgba[4 * i] * 299 + rgba[4 * i + 1] * 587 + rgba[4 * i + 2] * 114) / 1000) / 255;
  }
  return grey;
}

function blurMax(a, w, h) { // the largest 3x3 mean, edges repeated (images._blur3, then its max)
  let best = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = Math.min(h - 1, Math.max(0, y + dy));
        for (let dx = -1; dx <= 1; dx++) s += a[yy * w + Math.min(w - 1, Math.max(0, x + dx))];
      }
      best = Math.max(best, s / 9);
    }
  }
  return best;
}

function roundHalfEven(v) { // Python's round()
  const f = Math.floor(v), d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

// Pillow's resampling filters (Resampling.BOX and .BILINEAR) and their supports; images.py picks one by size
const BOX_FILTER = [(t) => (t > -0.5 && t <= 0.5 ? 1 : 0), 0.5], BILINEAR = [(t) => Math.max(0, 1 - Math.abs(t)), 1];

function weights(inSize, outSize, [filter, reach]) { // Pillow's precompute_coeffs: [first, weights] per output
  const scale = inSize / outSize, filterscale = Math.max(scale, 1), support = reach * filterscale;
  const out = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5));
    const k = [];
    for (let x = xmin; x < xmax; x++) k.push(filter((x - center + 0.5) / filterscale));
    const total = k.reduce((a, b) => a + b, 0);
    out.push([xmin, k.map((v) => (total ? v / total : 0))]);
  }
  return out;
}

function resize(a, w, h, ow, oh, filter) { // Pillow's resize of a float image: rows first, then columns
  const wx = weights(w, ow, filter), wy = weights(h, oh, filter);
  const tmp = new Float64Array(ow * h), out = new Float32Array(ow * oh);
  for (let y = 0; y < h; y++) {
    wx.forEach(([x0, k], x) => { let s = 0; k.forEach((v, i) => { s += v * a[y * w + x0 + i]; }); tmp[y * ow + x] = s; });
  }
  for (let x = 0; x < ow; x++) {
    wy.forEach(([y0, k], y) => { let s = 0; k.forEach((v, i) => { s += v * tmp[(y0 + i) * ow + x]; }); out[y * ow + x] = s; });
  }
  return out;
}

function toMnist(grey, w, h) { // -> Float32Array(784) in [0, 1], or null: no digit found
  if (blurMax(grey, w, h) < MIN_CONTRAST) return null;
  let count = 0, peak = 0, x0 = w, y0 = h, x1 = -1, y1 = -1;
  const ink = grey.map((v) => (v > NOISE_FLOOR ? v : 0)); // paper is 0 and noiseless: the cut is the floor
  ink.forEach((v, i) => {
    if (!v) return;
    const x = i % w, y = (i - x) / w;
    count++;
    peak = Math.max(peak, v);
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  });
  if (count < MIN_INK_PIXELS) return null;
  const cw = x1 - x0 + 1, ch = y1 - y0 + 1, crop = new Float32Array(cw * ch);
  for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) crop[y * cw + x] = ink[(y0 + y) * w + x0 + x] / peak;
  const [bw, bh] = cw >= ch ? [BOX, Math.max(1, roundHalfEven((BOX * ch) / cw))]
    : [Math.max(1, roundHalfEven((BOX * cw) / ch)), BOX];
  const box = resize(crop, cw, ch, bw, bh, Math.max(cw, ch) >= BOX ? BOX_FILTER : BILINEAR).map((v) => Math.max(v, 0));
  const top = box.reduce((a, b) => Math.max(a, b), 0);
  let total = 0, sr = 0, sc = 0;
  box.forEach((v, i) => { total += v / top; sr += (Math.floor(i / bw) * v) / top; sc += ((i % bw) * v) / top; });
  const r0 = Math.floor(CENTRE - sr / total + 0.5), c0 = Math.floor(CENTRE - sc / total + 0.5);
  const frame = new Float32Array(FRAME * FRAME);
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      const fy = r0 + y, fx = c0 + x;
      if (fy >= 0 && fy < FRAME && fx >= 0 && fx < FRAME) frame[fy * FRAME + fx] = box[y * bw + x] / top;
    }
  }
  return deslant(frame);
}

function deslant(x) { // slant.deslant: each row shifted to bring the ink's slant mu11 / mu02 halfway to MNIST_SLANT
  let total = 0, sr = 0, sc = 0, mu02 = 0, mu11 = 0, peak = 0;
  x.forEach((v, i) => { total += v; sr += Math.floor(i / FRAME) * v; sc += (i % FRAME) * v; });
  total = Math.max(total, 1e-12);
  const mr = sr / total, mc = sc / total;
  x.forEach((v, i) => {
    const dr = Math.floor(i / FRAME) - mr;
    mu02 += v * dr * dr; mu11 += v * dr * ((i % FRAME) - mc);
  });
  const s = mu02 > MIN_SPREAD ? mu11 / mu02 : 0;
  const shear = SHARE * (Math.min(MAX_SLANT, Math.max(-MAX_SLANT, s)) - MNIST_SLANT);
  const at = (r, c) => (c >= 0 && c < FRAME ? x[r * FRAME + c] : 0), out = new Float64Array(FRAME * FRAME);
  for (let r = 0; r < FRAME; r++) {
    for (let c = 0; c < FRAME; c++) {
      const src = c + shear * (r - mr), left = Math.floor(src), f = src - left;
      out[r * FRAME + c] = (1 - f) * at(r, left) + f * at(r, left + 1);
      peak = Math.max(peak, out[r * FRAME + c]);
    }
  }
  return Float32Array.from(out, (v) => v / Math.max(peak, 1e-12));
}

// The model and the rule (refusal.Rule)

function calibrate(p, t) { // softmax(log p / t): calibration.scaled
  const z = Array.from(p, (v) => Math.log(Math.min(1, Math.max(v, LOG_FLOOR))) / t), m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m)), s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

const logit = (p) => { const q = Math.min(1 - 1e-7, Math.max(1e-7, p)); return Math.log(q / (1 - q)); };

async function run(session, x) {
  const input = new ort.Tensor("float32", x, [1, FRAME, FRAME, 1]);
  const out = await session.run({ [session.inputNames[0]]: input });
  return Array.from(out[session.outputNames[0]].data);
}

async function predict() {
  state.timer = null;
  if (!state.model) return;
  if (state.busy) { state.timer = setTimeout(predict, THROTTLE_MS); return; }
  state.busy = true;
  const version = state.version, strokes = state.strokes.length;
  const x = strokes ? toMnist(drawingGrey(), EXPORT, EXPORT) : null;
  let answer = { version, strokes, input: x && Array.from(x), digit: null, rejected: false };
  if (x) {
    const raw = await run(state.model, x), rule = state.rule;
    const p = calibrate(raw, rule.temperature), top = Math.max(...p);
    const notDigit = state.gate ? (await run(state.gate, x))[1] : null;
    const gate = notDigit !== null
      && logit(notDigit) - rule.confidence_weight * Math.log(Math.max(top, LOG_FLOOR)) >= logit(rule.gate_threshold);
    const rejected = top < rule.min_confidence || gate;
    answer = { ...answer, raw, probabilities: p, notDigit, confidence: top, rejected,
               digit: rejected ? null : p.indexOf(top) };
  }
  state.busy = false;
  if (version !== state.version) { // drawn on while this ran
    if (!state.timer) state.timer = setTimeout(predict, THROTTLE_MS);
    return;
  }
  window.mnistAnswer = answer;
  show(answer);
}

// The answer

const bars = makeBars($("bars"));

function show(a) {
  setBars(bars, a.probabilities || null);
  drawPixels(seenCtx, a.input);
  const digit = $("digit"), m = $("message");
  delete digit.dataset.rejected;
  digit.textContent = a.rejected ? "\u2715" : a.digit ?? "";
  $("confidence").textContent = a.rejected ? "Not a digit" : a.digit === null ? "" : `${(a.confidence * 100).toFixed(1)}% sure`;
  if (a.rejected) digit.dataset.rejected = "true";
  [m.textContent, m.dataset.kind] = a.rejected ? ["Not a digit: this looks like a letter, a shape or a scribble. "
    + "Draw one digit, 0 to 9.", "rejected"] : !a.strokes ? ["Draw a digit to start.", "info"]
    : a.digit === null ? ["No digit found: draw bigger or bolder.", "empty"] : ["Keep drawing, or Clear to start over.", "info"];
}

async function load() {
  try {
    ort.env.wasm.numThreads = 1; // no cross-origin isolation needed; one small model
    ort.env.wasm.wasmPaths = new URL("./", location.href).href;
    state.rule = await (await fetch("rule.json")).json();
    state.model = await ort.InferenceSession.create("model.onnx");
    if (state.rule.gate_threshold !== null) state.gate = await ort.InferenceSession.create("notdigit.onnx");
    const acc = state.rule.test_accuracy == null ? "" : ` · ${(state.rule.test_accuracy * 100).toFixed(2)}% on MNIST's test set`;
    $("model").textContent = `Model ${state.rule.model}${acc}`;
    window.mnistReady = true;
    changed();
  } catch (e) {
    const m = $("message");
    [m.textContent, m.dataset.kind] = [`The model did not load (${e.message || e}). `
      + (location.protocol === "file:" ? "Open this page through a web server, e.g. python -m http.server." : ""), "error"];
    m.setAttribute("role", "alert");
  }
}

window.mnistDrawingPng = () => drawing().toDataURL("image/png"); // what Python reads in tests/test_web_export.py

new ResizeObserver(paint).observe(canvas);
paint();
load();
