// What the server's page (app.js) and the exported page (web/web.js) share: the drawing pad's strokes (lists of
// points in [0, 1], drawn at any size, so Undo and a resized pad simply redraw them) and the answer's
// probability bars and 28x28 view.
"use strict";

const PEN = 0.07; // stroke width as a fraction of the pad: MNIST's ~2.3 px strokes in a 20 px box
const EXPORT = 280; // side of the drawing that is read: 10x MNIST, smooth strokes (a ~5 KB PNG for the server)
const INK = "#fff", PAPER = "#000"; // MNIST's white on black (the server reads either polarity)

function render(c, size, strokes) {
  c.fillStyle = PAPER;
  c.fillRect(0, 0, size, size);
  c.strokeStyle = c.fillStyle = INK;
  c.lineWidth = PEN * size;
  c.lineCap = c.lineJoin = "round";
  for (const s of strokes) {
    const p = s.map(([x, y]) => [x * size, y * size]);
    c.beginPath();
    if (p.length === 1) {
      c.arc(p[0][0], p[0][1], c.lineWidth / 2, 0, 2 * Math.PI);
      c.fill();
      continue;
    }
    c.moveTo(...p[0]);
    for (let i = 1; i < p.length - 1; i++) { // through the midpoints: smooth curves from jagged input
      c.quadraticCurveTo(...p[i], (p[i][0] + p[i + 1][0]) / 2, (p[i][1] + p[i + 1][1]) / 2);
    }
    c.lineTo(...p[p.length - 1]);
    c.stroke();
  }
}

function makeBars(list) { // ten bars, 0-9, appended to the <ol> `list`
  return [...Array(10).keys()].map((d) => {
    const li = document.createElement("li");
    li.innerHTML = `<span class="track"><span class="fill"></span></span><span class="d">${d}</span><span class="p"></span>`;
    list.append(li);
    return li;
  });
}

function setBars(bars, probabilities) {
  const top = probabilities ? probabilities.indexOf(Math.max(...probabilities)) : -1;
  bars.forEach((li, d) => {
    const p = probabilities ? probabilities[d] : 0;
    const pct = probabilities ? (p >= 0.995 ? "100%" : p < 0.005 ? "0%" : `${Math.round(p * 100)}%`) : "";
    li.querySelector(".fill").style.height = `${(p * 100).toFixed(1)}%`;
    li.querySelector(".p").textContent = pct;
    li.classList.toggle("top", d === top);
    li.setAttribute("aria-label", probabilities ? `${d}: ${pct}` : `${d}: no prediction`);
  });
}

function drawPixels(c, pixels) { // 28x28 numbers in [0, 1] (rows, or one flat list) -> grey pixels
  const img = c.createImageData(28, 28);
  (pixels || []).flat().forEach((v, i) => {
    img.data.fill(Math.round(v * 255), 4 * i, 4 * i + 3);
  });
  for (let i = 3; i < img.data.length; i += 4) img.data[i] = 255;
  c.putImageData(img, 0, 0);
}
