"""The line reader's digits cut out of a mark of touching digits: where the cuts run, which way wins.

    from mnist_cnn import line_pieces
    lines = line_pieces.read_marks(predictor, row.groups, piece_input, max_crossed=2)
    lines[i]                               # group i: (text, confidences, pieces, inputs), as the reader read it
    cuts = line_pieces.line_cuts(own, spans)   # a mark's cuts between digits in columns `spans` (line_data.py)

The reader (line_reader.py) knows how many digits a mark holds and which, but not well where: CTC fires a digit
anywhere along its ink, so a cut half-way between two digits' columns can run through a digit (a hand it never saw:
941987 cut as "(", "94", "1", "1", "87" ...), and the piece gate then refuses the pieces of a number read right.
So the mark is also cut evenly (digits of one hand are about as wide as each other) and half-way between those two,
and of the ways that give one piece per digit, the one whose pieces the digit model finds most like the reader's
digits wins (the sum of its calibrated log P(that digit)); the piece gate then judges the winner's pieces as before
(read.py). Choosing by the piece gate too lets letters' pieces through (docs/reading.md, "Where the reader's digits are
cut").
"""

from __future__ import annotations

import math

import numpy as np

from . import segment

LINE_REACH = 0.15  # a cut between two digits runs this near (x the height) the column it aims for


def read_marks(predictor, groups, piece_input, max_crossed: int) -> dict:
    """Each mark that may hold touching digits, as the predictor's line reader reads it whole, if it has one:
    {group index: (text, confidences, pieces, inputs)}, its ink cut between the digits (the module docstring) and
    piece_input(ink) of each piece. Not a mark no cut of which crosses at most max_crossed strokes (a scribble), nor
    one it reads as one digit (the digit model reads that one, as `predict` does), nor one no way cuts in as many
    pieces as digits. Of ways that score the same, the first (_ways) wins."""
    reader = getattr(predictor, "line_reader", None)
    wide = [i for i, g in enumerate(groups) if len(g.options) > 1 and min(g.crossings) <= max_crossed]
    if reader is None or not wide:
        return {}
    ways = []  # (group index, text, confidences, pieces, inputs) of each way to cut each mark
    for i, (text, confidences, spans) in zip(wide, reader.read([groups[i].crop for i in wide])):
        g, tried = groups[i], []
        for cuts in _ways(g.own, spans, len(text)) if len(text) > 1 else []:
            if any(all(np.array_equal(a, b) for a, b in zip(cuts, other)) for other in tried):
                continue
            tried.append(cuts)
            pieces = segment.pieces(g.crop, cuts, g.box[0], g.box[1])
            xs = [piece_input(p.ink) for p in pieces]
            if len(pieces) == len(text) and all(x is not None for x in xs):
                ways.append((i, text, confidences, pieces, xs))
    if not ways:
        return {}
    p = iter(d.probabilities for d in predictor.decide(np.stack([x for *_, xs in ways for x in xs])))
    out, best = {}, {}
    for i, text, confidences, pieces, xs in ways:
        score = sum(math.log(max(float(q[int(c)]), 1e-9)) for c, q in zip(text, p))
        if i not in best or score > best[i]:
            best[i], out[i] = score, (text, confidences, pieces, xs)
    return out


def _ways(own: np.ndarray, spans, n: int) -> list[list[np.ndarray]]:
    """The cuts of a mark into n digits aimed half-way between the reader's digits' columns, at even widths, and
    half-way between the two."""
    cols = np.flatnonzero(own.any(0))
    between = _between(spans)
    even = [cols[0] + (cols[-1] + 1 - cols[0]) * k / n for k in range(1, n)]
    return [cuts_near(own, middles) for middles in (between, even, [(a + b) / 2 for a, b in zip(between, even)])]


def line_cuts(own: np.ndarray, spans) -> list[np.ndarray]:
    """The cuts (a column per row) of a mark (own: (h, w) bool, its pixels) between digits in columns `spans`
    [(x0, x1), ...]: each aimed half-way between two digits' columns (cuts_near)."""
    return cuts_near(own, _between(spans))


def _between(spans) -> list[float]:
    return [(a[1] + b[0]) / 2 for a, b in zip(spans, spans[1:])]


def cuts_near(own: np.ndarray, middles) -> list[np.ndarray]:
    """The cuts (a column per row) of a mark (own: (h, w) bool) near these columns, left to right: each the least-ink
    path (segment.path) within LINE_REACH of the height of its column, right of the cut before it."""
    h, w = own.shape
    reach, cuts = max(1, round(LINE_REACH * h)), []
    for middle in middles:
        middle = int(middle)
        lo = min(w - 1, max(middle - reach, cuts[-1].max() + 1 if cuts else 1))
        cuts.append(segment.path(own, lo, max(lo + 1, min(w, middle + reach + 1))))
    return cuts
