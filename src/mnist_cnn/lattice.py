"""Touching digits of uneven widths, cut by recognition: many places a mark may be cut, the digit model reads every
piece between two of them, and a dynamic programme keeps, for each likely count of digits, the pieces it is surest of.

    from mnist_cnn import lattice
    # row: a segment.Row; made[i]: per way to cut row.groups[i], the digits the model read (read.py)
    lattice.add_cuts(predictor, row, made, read.piece_input, read._made, read.MAX_CROSSED, read.SURE, skip={0})
    row.groups[i].options[-1]      # the last way added: segment.Pieces, left to right (none to row.groups[0]: skip)

segment.py's own splits divide a mark evenly (each cut within a third of a digit of an even division), which misses
where narrow and wide digits touch in one mark (537110: a 1 is a third as wide as a 5). Here each boundary may fall
at any candidate column, and the model's reading of each piece decides (the "over-segmentation and recognition" of
handwritten digit-string readers). Only cuts across one stroke: across two, the loops of a doodle's waves were read
as 0s and 8s (docs/reading.md, "Touching digits cut by recognition"). Hand-written: no library segments digit strings;
the programme is a few lines over a small lattice.
"""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np

from . import segment

REACH = 0.08  # a candidate cut column is the cheapest of its cost (ink, outline from above, from below) within this x
# the mark's height either side; columns within twice that are one place, where a straight and a bent cut are tried
NARROW = 0.12  # a piece between two cuts is at least this x the mark's height wide (a 1 written upright is ~0.15)...
WIDE = 1.2  # ...and at most this (MNIST's widest 0s are ~1.0x)
CROSSED = 1  # cuts through more strokes than this are not offered
MORE = 2  # counts of digits tried: from one fewer than the mark's width suggests (segment.DIGIT_WIDTH) to 2 more
# (narrow faces' digits are ~0.45x as wide as tall; 1 more: the same on read_eval.py's touching numbers, class C)


def add_cuts(predictor, row: segment.Row, made: list[list], to_input, made_of, most: int, sure: float,
             skip=()) -> None:
    """Adds, in place, to each mark wider than one digit (row.groups[i]) that some way of cutting across at most `most`
    strokes already reads as digits only (made[i]: per way, the digits read, `.digit` None where refused; the way's
    crossings: row.groups[i].crossings), its best cut into each likely count of digits (MORE) by the model's mean
    log-confidence, refused pieces never used (nor, where the mark read whole is a digit, pieces under `sure`: of
    evalset's 3,000 single digits, a form cell's odd 4, 0.80 whole as `predict` says, was read as 61 at 0.92 / 0.87).
    to_input: a piece's ink -> (28, 28) float32, or None; made_of(pieces, inputs, decisions): the digits of a way to
    cut. Not in a mark one digit wide (on read_eval.py's 1,600 numbers at seeds 0 and 5, 3 more read there but 25%
    slower, and an open 6 read as 10), nor in one every way refuses: a doodle's loops were read as 0s and 8s
    (docs/reading.md, "Touching digits cut by recognition"), nor in those of `skip` (indices: marks a line reader has
    read)."""
    which = [i for i, (g, ways) in enumerate(zip(row.groups, made)) if i not in skip and not g.narrow and any(
        way and crossed <= most and all(d.digit is not None for d in way) for way, crossed in zip(ways, g.crossings))]
    found = {i: candidates(row.groups[i]) for i in which}
    xs = {i: [to_input(p.ink) for p in pieces] for i, (_, _, pieces) in found.items()}
    flat = [x for i in found for x in xs[i] if x is not None]
    decisions = iter(predictor.decide(np.stack(flat)) if flat else [])
    for i, (crossed, spans, pieces) in found.items():
        decided = [None if x is None else next(decisions) for x in xs[i]]
        whole = len(row.groups[i].options[0]) == len(made[i][0]) == 1 and made[i][0][0].digit is not None
        least = sure if whole else 0.0
        scores = [math.log(d.confidence) if d is not None and not d.rejected and d.confidence >= least
                  and d.confidence > 0 else -math.inf for d in decided]
        x0, y0, x1, y1 = row.groups[i].box
        guess = segment.digits_in(x1 - x0, y1 - y0)
        ks = range(max(2, guess - 1), min(segment.MAX_PIECES, guess + MORE) + 1)
        for path in best(len(crossed), spans, scores, ks).values():
            g = row.groups[i]
            row.groups[i] = replace(g, options=g.options + [[pieces[s] for s in path]],
                                    crossings=g.crossings + [max(crossed[spans[s][0]] for s in path)])
            made[i].append(made_of([pieces[s] for s in path], [xs[i][s] for s in path], iter(decided[s] for s in path)))


def candidates(g: segment.Group) -> tuple[list[int], list[tuple[int, int]], list[segment.Piece]]:
    """How many strokes each of the group's candidate cuts crosses, left to right (the first and last are its edges,
    crossing none); and the pieces between cut i and cut j, as (i, j) spans and segment.Pieces, for every pair from
    NARROW to WIDE apart whose piece is tall enough to be a digit (segment.SHORT_PIECE of the mark's height)."""
    own, crop = g.own, g.crop
    h, w = own.shape
    inner = sorted(_cut_columns(own), key=lambda cut: float(cut[0].mean()))
    cuts = [np.zeros(h, np.int64)] + [c for c, _ in inner] + [np.full(h, w, np.int64)]
    crossed = [0] + [n for _, n in inner] + [0]
    spans, pieces = [], []
    for i, a in enumerate(cuts):
        for j in range(i + 1, len(cuts)):
            width = float(cuts[j].mean() - a.mean())
            if width > WIDE * h:
                break
            if (cuts[j] <= a).any():  # two cuts that cross (a bent one and its neighbour) hold no one piece between
                continue
            piece = segment.piece(crop, [a, cuts[j]], 1, *g.box[:2]) if width >= NARROW * h else None
            if piece is not None and piece.box[3] - piece.box[1] >= segment.SHORT_PIECE * h:
                spans.append((i, j))
                pieces.append(piece)
    return crossed, spans, pieces


def _cut_columns(own: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """Candidate inner cuts of a mark (own: (h, w) bool), each as ((h,) int64, a column per row; strokes it crosses):
    where the ink is thinnest or the outline from above or below dips deepest (each the best within REACH of the height
    around it), those within 2 x REACH of each other taken as one place; at each place the straight cut through the
    least ink and the bent one (segment.path) around it, through at most CROSSED strokes each."""
    h, w = own.shape
    reach = max(1, round(REACH * h))
    inked = own.any(0)
    profile = own.sum(0).astype(np.float32)
    top = np.where(inked, own.argmax(0), h).astype(np.float32)
    bottom = np.where(inked, h - 1 - own[::-1].argmax(0), -1).astype(np.float32)
    columns = set()
    for cost in (profile, -top, bottom):
        least = cv2.erode(cost[None], np.ones((1, 2 * reach + 1), np.uint8), borderType=cv2.BORDER_REPLICATE)[0]
        columns.update(int(c) for c in np.flatnonzero((cost == least) & inked) if 1 <= c < w - 1)
    places = []
    for c in sorted(columns):
        if places and c - places[-1][0] <= 2 * reach:
            places[-1].append(c)
        else:
            places.append([c])
    found = {}
    for place in places:
        straight = min(place, key=lambda c: (profile[c], abs(c - (place[0] + place[-1]) / 2)))
        bent = segment.path(own, max(1, place[0] - reach), min(w - 1, place[-1] + reach + 1))
        for cut in (np.full(h, straight, np.int64), bent):
            if cut.tobytes() not in found and (n := segment.crossed(own, cut)) <= CROSSED:
                found[cut.tobytes()] = cut, n
    return list(found.values())


def best(n: int, spans: list[tuple[int, int]], scores: list[float], ks) -> dict[int, list[int]]:
    """For each count k in ks, the indices (into spans) of the k pieces from cut 0 to cut n - 1, each starting where
    the last ended, with the highest sum of scores (the model's log-confidence); counts no path reaches are left out.
    A dynamic programme over (cut, pieces so far)."""
    top = max(ks)
    value = np.full((top + 1, n), -math.inf)
    came = np.full((top + 1, n), -1, np.int64)
    value[0, 0] = 0.0
    by_end = {}
    for s, (i, j) in enumerate(spans):
        by_end.setdefault(j, []).append(s)
    for j in range(1, n):
        for s in by_end.get(j, []):
            i = spans[s][0]
            for k in range(1, top + 1):
                v = value[k - 1, i] + scores[s]
                if v > value[k, j]:
                    value[k, j], came[k, j] = v, s
    out = {}
    for k in ks:
        if value[k, n - 1] == -math.inf:
            continue
        path, j = [], n - 1
        for kk in range(k, 0, -1):
            s = int(came[kk, j])
            path.append(s)
            j = spans[s][0]
        out[k] = path[::-1]
    return out
