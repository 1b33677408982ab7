// The draw-a-digit page: strokes on a canvas -> PNG -> POST /api/predict -> digit, bars, 28x28 view;
// the same PNG -> POST /api/read -> when it holds several digits: the number, a box per digit, each 28x28.
// Served by `mnist-cnn serve` at /; talks only to that server. Strokes are kept as lists of points
// in [0, 1] so Undo and a resized pad simply redraw them (pad.js: PEN, EXPORT, render, the bars, drawPixels).
"use strict";

const THROTTLE_MS = 150; // at most ~7 predictions a second while drawing; each takes a few ms

const $ = (id) => document.getElementById(id);
const canvas = $("canvas"), ctx = canvas.getContext("2d");
const seen = $("seen"), seenCtx = seen.getContext("2d");
const state = { strokes: [], image: null, file: null, pointer: null };
let timer = null, frame = 0, sent = 0, shown = 0, readShown = 0;
let answer = null; // the last one-digit answer (/api/predict): shown again when a number gives way to it
let sign = null, signFor = 0; // /api/read's refusal of a sign alone ("?", "%") for drawing signFor: said instead
const SIGNS = ["a question or exclamation mark", "a per cent sign"]; // read's reasons (punctuated.py, percent.py)

// Drawing

function point(e) {
  const r = canvas.getBoundingClientRect();
  return [(e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height];
}

function paint() {
  frame = 0;
  const size = Math.max(1, Math.round(canvas.clientWidth * devicePixelRatio));
  if (canvas.width !== size) canvas.width = canvas.height = size;
  render(ctx, size, state.strokes);
  if (state.image) {
    const { width: w, height: h } = state.image, k = Math.min(size / w, size / h);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, size, size);
    ctx.drawImage(state.image, (size - w * k) / 2, (size - h * k) / 2, w * k, h * k);
  }
  const empty = !state.strokes.length && !state.file;
  $("placeholder").hidden = !empty;
  $("undo").disabled = !state.strokes.length;
  $("clear").disabled = empty;
}

function repaint() {
  if (!frame) frame = requestAnimationFrame(paint);
}

canvas.addEventListener("pointerdown", (e) => {
  if (state.pointer !== null || e.button !== 0) return;
  e.preventDefault();
  canvas.setPointerCapture(e.pointerId);
  if (state.file) { closeFile(); cancel(); }
  state.pointer = e.pointerId;
  state.strokes.push([point(e)]);
  paint();
  schedule();
});

canvas.addEventListener("pointermove", (e) => {
  if (e.pointerId !== state.pointer) return;
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
  const stroke = state.strokes[state.strokes.length - 1];
  for (const c of events.length ? events : [e]) stroke.push(point(c));
  repaint();
  schedule();
});

for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
  canvas.addEventListener(type, (e) => {
    if (e.pointerId === state.pointer) state.pointer = null;
  });
}

function undo() {
  if (!state.strokes.length) return;
  state.strokes.pop();
  paint();
  if (state.strokes.length) return schedule();
  cancel();
  reset();
}

function clear() {
  state.strokes = [];
  closeFile();
  paint();
  cancel();
  reset();
}

// Images from a file, a drop or the clipboard

async function openFile(file) {
  cancel();
  const id = ++sent;
  state.strokes = [];
  state.file = file;
  let image = null;
  try {
    image = await createImageBitmap(file);
  } catch {} // no preview: the server reads formats the browser cannot show (TIFF, PGM...)
  if (state.file !== file) return; // cleared, or another file, meanwhile
  state.image = image;
  const name = $("filename");
  name.textContent = file.name + (state.image ? "" : " (no preview)");
  name.hidden = false;
  paint();
  send(file, file.name || "upload", id);
}

function closeFile() {
  state.file = state.image = null;
  $("filename").hidden = true;
  $("file").value = "";
}

$("choose").addEventListener("click", () => $("file").click());
$("file").addEventListener("change", (e) => {
  const file = e.target.files[0];
  e.target.value = ""; // choosing the same file again is a change too
  if (file) openFile(file);
});

let dragDepth = 0;
const carriesFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes("Files");
addEventListener("dragenter", (e) => {
  if (!carriesFiles(e)) return;
  e.preventDefault();
  dragDepth++;
  $("drop").hidden = false;
});
addEventListener("dragleave", () => {
  if (--dragDepth <= 0) { dragDepth = 0; $("drop").hidden = true; }
});
addEventListener("dragover", (e) => carriesFiles(e) && e.preventDefault());
addEventListener("drop", (e) => {
  e.preventDefault();
  dragDepth = 0;
  $("drop").hidden = true;
  const file = e.dataTransfer.files[0];
  if (file) openFile(file);
});
addEventListener("paste", (e) => {
  const file = [...(e.clipboardData?.files || [])].find((f) => f.type.startsWith("image/"));
  if (file) { e.preventDefault(); openFile(file); }
});

addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === "z") { e.preventDefault(); undo(); }
  else if (e.key === "Escape") clear();
});
$("undo").addEventListener("click", undo);
$("clear").addEventListener("click", clear);

// Predictions

function schedule() {
  if (timer === null) timer = setTimeout(predictDrawing, THROTTLE_MS);
}

function cancel() { // forget the pending request and any answer still on its way
  clearTimeout(timer);
  timer = null;
  shown = readShown = sent;
  showNumber(null);
}

function predictDrawing() {
  timer = null;
  if (!state.strokes.length) return;
  const out = document.createElement("canvas");
  out.width = out.height = EXPORT;
  render(out.getContext("2d"), EXPORT, state.strokes);
  const id = ++sent; // numbered now: Clear may come before toBlob calls back
  out.toBlob((blob) => blob && send(blob, "drawing.png", id), "image/png");
}

async function send(blob, name, id) {
  readNumber(blob, name, id);
  const body = new FormData();
  body.append("file", blob, name);
  let ok = false, reply;
  try {
    const r = await fetch("/api/predict", { method: "POST", body });
    ok = r.ok;
    reply = await r.json().catch(() => ({ detail: `${r.status} ${r.statusText}` }));
  } catch {
    reply = { detail: "cannot reach the server: is mnist-cnn serve still running?" };
  }
  if (id <= shown) return; // a newer answer, or Clear, got here first
  shown = id;
  if (ok) return show(reply);
  answer = null;
  clearAnswer(describe(reply.detail), "error"); // a number read from the same drawing stays
}

function describe(detail) {
  return typeof detail === "string" ? detail : JSON.stringify(detail);
}

// The answer

const bars = makeBars($("bars"));

function setSeen(pixels) {
  drawPixels(seenCtx, pixels);
}

function setMessage(text, kind = "info") {
  const m = $("message");
  m.textContent = text;
  m.dataset.kind = kind;
  m.setAttribute("role", kind === "error" ? "alert" : "status");
}

// Several digits: POST /api/read

async function readNumber(blob, name, id) {
  const body = new FormData();
  body.append("file", blob, name);
  let reply = null;
  try {
    const r = await fetch("/api/read", { method: "POST", body });
    if (r.ok) reply = await r.json();
  } catch {} // the one-digit answer reports the server's state
  if (id <= readShown) return; // a newer answer, or Clear, got here first
  readShown = id;
  [sign, signFor] = [reply?.rejected && SIGNS.some((s) => reply.message?.startsWith(s)) ? reply.message : null, id];
  showNumber(isNumber(reply) ? reply : null);
  if (sign && answer && shown === id) show(answer); // predict's answer came first: read saw the sign's point
}

// Several digits, or one with a sign or point ("-7", "7."): the number's text, not the one-digit answer
function isNumber(r) {
  return !!r && !r.rejected && r.digits.length > 0 && (r.digits.length >= 2 || r.text !== String(r.digits[0].digit));
}

function showNumber(r) {
  const was = !$("number").hidden;
  $("result").classList.toggle("multi", !!r);
  $("number").hidden = !r;
  $("boxes").replaceChildren();
  $("number-digits").replaceChildren();
  if (!r) {
    $("number-text").textContent = $("number-confidence").textContent = "";
    if (!was) return;
    window.offerFeedback?.(null); // a digit picked from the number is gone with it
    if (answer) show(answer);
    return;
  }
  window.offerFeedback?.(null); // the one-digit answer is not what the number's digits are
  $("number-text").textContent = r.text;
  const place = boxPlacer(r.size), n = r.digits.length, tell = !!window.feedbackOn?.();
  const digits = n === 1 ? "its digit" : `all ${n} digits`;
  $("number-confidence").textContent = `${(r.confidence * 100).toFixed(1)}% sure of ${digits}`;
  r.digits.forEach((d, k) => {
    const li = document.createElement("li"), pick = document.createElement(tell ? "button" : "div");
    const c = document.createElement("canvas"), sure = Math.round(d.confidence * 100);
    c.width = c.height = 28;
    drawPixels(c.getContext("2d"), d.input);
    pick.className = "pick";
    pick.append(c);
    pick.insertAdjacentHTML("beforeend", `<b>${d.digit}</b><small>${sure}%</small>`);
    if (tell) { // feedback.js: "Wrong? Tell it" for this digit
      pick.type = "button";
      pick.setAttribute("aria-label", `Digit ${k + 1} of ${n}: ${d.digit}, ${sure}% sure. Wrong? Tell it`);
      pick.setAttribute("aria-pressed", "false");
      pick.addEventListener("click", () => {
        for (const b of $("number-digits").querySelectorAll(".pick")) {
          b.setAttribute("aria-pressed", String(b === pick));
        }
        window.offerFeedback?.({ input: d.input, digit: d.digit }, `Digit ${k + 1} of ${n}, read as ${d.digit}:`);
      });
    }
    li.append(pick);
    $("number-digits").append(li);
    if (!place) return;
    const [l, t, w, h] = place(d.box), box = document.createElement("div");
    box.className = "box";
    Object.assign(box.style, { left: `${l}%`, top: `${t}%`, width: `${w}%`, height: `${h}%` });
    box.innerHTML = `<span>${d.digit} · ${sure}%</span>`;
    $("boxes").append(box);
  });
  const read = n === 1 ? "1 digit and its marks, read left to right." : `${n} digits, read left to right.`;
  setMessage(read + (tell ? " A wrong one? Click it to tell the model." : ""));
}

function boxPlacer([rw, rh]) { // box in the image read -> [left, top, width, height] in % of the pad
  let k, dx = 0, dy = 0;
  if (!state.file) {
    k = 100 / EXPORT; // a drawing is sent at EXPORT px
  } else if (state.image) { // a file's preview is letterboxed on the pad
    const { width: w, height: h } = state.image, fit = Math.min(1 / w, 1 / h);
    k = (w / rw) * fit * 100;
    dx = (1 - w * fit) * 50;
    dy = (1 - h * fit) * 50;
  } else {
    return null; // no preview: nothing to put boxes on
  }
  return ([x0, y0, x1, y1]) => [dx + x0 * k, dy + y0 * k, (x1 - x0) * k, (y1 - y0) * k];
}

function reset(text = "Draw a digit to start.", kind = "info") {
  answer = null;
  showNumber(null);
  clearAnswer(text, kind);
}

function clearAnswer(text, kind) { // the one-digit answer only: a number shown stays, with its message and feedback
  $("digit").textContent = "";
  delete $("digit").dataset.rejected;
  $("confidence").textContent = "";
  setBars(bars, null);
  setSeen(null);
  if (!$("number").hidden) return;
  setMessage(text, kind);
  window.offerFeedback?.(null);
}

function show(r) {
  answer = r;
  const signed = signFor === shown && sign; // a ? read as 7 (its point lost in the 28x28): read's reason instead
  if (r.rejected || signed) { // a number's picture is often no one digit: the number read from it stays
    const why = signed ? signed.replace(/ \(not a digit\)$/, "")
      : r.message === "not a digit" ? "this looks like a letter, a shape or a scribble" : r.message;
    clearAnswer(`Not a digit: ${why}. Draw one digit, 0 to 9.`, "rejected");
    $("digit").textContent = "\u2715";
    $("digit").dataset.rejected = "true";
    $("confidence").textContent = "Not a digit";
    setBars(bars, r.probabilities);
    setSeen(r.input);
    return;
  }
  if (r.digit === null) {
    const hint = state.file ? "the image looks blank" : "draw bigger or bolder";
    clearAnswer(`No digit found: ${hint}.`, "empty");
    return;
  }
  $("digit").textContent = r.digit;
  $("confidence").textContent = `${(r.confidence * 100).toFixed(1)}% sure`;
  setBars(bars, r.probabilities);
  setSeen(r.input);
  if (!$("number").hidden) return;
  setMessage(state.file ? `From ${state.file.name}.` : "Keep drawing, or Clear to start over.");
  window.offerFeedback?.(r); // feedback.js: "Wrong? Tell it" for this answer
}

async function loadModel() {
  try {
    const m = await (await fetch("/api/model")).json();
    const acc = m.test_accuracy == null ? "" : ` · ${(m.test_accuracy * 100).toFixed(2)}% on the MNIST test set`;
    $("model").textContent = `Model ${m.recipe || m.name} · ${m.parameters.toLocaleString("en")} parameters${acc}`;
  } catch {
    $("model").textContent = "Model info unavailable";
  }
}

new ResizeObserver(repaint).observe(canvas);
reset();
paint();
loadModel();
