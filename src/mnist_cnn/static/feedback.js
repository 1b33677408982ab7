// "Wrong? Tell it": after a guess, the user picks the right digit (or "not a digit") and the 28x28 image
// the model saw goes to POST /api/feedback with that label. app.js calls offerFeedback(answer) with each
// answer of /api/predict, offerFeedback(digit, what) when a digit of a number read is clicked (the labels
// open at once), and offerFeedback(null) when the pad is cleared. Hidden when the server says feedback is
// off (`mnist-cnn serve --no-feedback`); feedbackOn() says which.
"use strict";

(() => {
  const NOT_A_DIGIT = "not a digit"; // the API's label for ink that is no digit
  const $ = (id) => document.getElementById(id);
  const box = $("feedback"), wrong = $("wrong"), labels = $("labels"), status = $("feedback-status");
  let enabled = false, current = null;

  for (const label of [...Array(10).keys(), NOT_A_DIGIT]) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.dataset.label = label;
    b.setAttribute("aria-label", label === NOT_A_DIGIT ? "It is not a digit" : `It is a ${label}`);
    b.addEventListener("click", () => send(label));
    labels.append(b);
  }

  function setStatus(text, kind = "info") {
    status.textContent = text;
    status.dataset.kind = kind;
  }

  function open(show) {
    labels.hidden = !show;
    wrong.setAttribute("aria-expanded", String(show));
  }

  window.offerFeedback = (answer, what = "") => {
    current = answer && answer.input ? { input: answer.input, digit: answer.digit } : null;
    box.hidden = !enabled || !current;
    wrong.disabled = false;
    if (!current) open(false); // a newer answer while the labels are open keeps them open
    else if (what) {
      open(true);
      labels.querySelector("button")?.focus(); // the labels come before the number's digits: Tab would miss them
    }
    setStatus(current ? what : "");
    for (const b of labels.children) b.classList.toggle("guess", current !== null && b.dataset.label === String(current.digit));
  };
  window.feedbackOn = () => enabled;

  wrong.addEventListener("click", () => open(labels.hidden));

  async function send(label) {
    if (!current) return;
    const body = JSON.stringify({ input: current.input, label });
    let reply, ok = false;
    try {
      const r = await fetch("/api/feedback", { method: "POST", headers: { "Content-Type": "application/json" }, body });
      ok = r.ok;
      reply = await r.json().catch(() => ({ detail: `${r.status} ${r.statusText}` }));
    } catch {
      reply = { detail: "cannot reach the server: is mnist-cnn serve still running?" };
    }
    if (!ok) return setStatus(typeof reply.detail === "string" ? reply.detail : JSON.stringify(reply.detail), "error");
    current = null; // one correction per answer: draw again to send another
    open(false);
    wrong.disabled = true;
    const what = label === NOT_A_DIGIT ? "not a digit" : `a ${label}`;
    setStatus(`Saved as ${what}, thank you (${reply.total} correction${reply.total === 1 ? "" : "s"} so far).`);
  }

  fetch("/api/feedback").then((r) => r.json()).then((c) => {
    enabled = c.enabled === true;
    box.hidden = !enabled || !current;
  }).catch(() => {});
})();
