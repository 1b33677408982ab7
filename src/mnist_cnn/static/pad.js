// The drawing pad's strokes, shared by the server's page (app.js) and the exported page (web/web.js):
// strokes are lists of points in [0, 1], drawn at any size, so Undo and a resized pad simply redraw them.
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
