"""Where to cut a mark of touching digits: candidate cuts, the pieces between any two, the best chain of pieces.

    from mnist_cnn import lattice
    cuts = lattice.candidate_cuts(own)              # own: (h, w) bool mask of one mark -> [Cut], left to right
    spans = lattice.spans(own, cuts)                # [(i, j)]: the piece between cut i and cut j is plausible
    chain = lattice.best_chain(len(cuts), scores)   # scores: {(i, j): float} -> [(i, j)], left to right

Segmentation by recognition, the standard way to read touching handwritten digits: the mark is
over-segmented by more candidate cuts than it has junctions (segment._cuts' least-ink columns, outline dips
and bent least-ink paths, for every plausible count of digits), each piece between two cuts is a candidate
digit, and a dynamic programme picks the chain of pieces from the left edge to the right one whose summed
score (the model's word on each piece, read.py) is highest. Nodes 0 and len(cuts) + 1 are the mark's edges;
node k (1..len(cuts)) is cuts[k - 1]. Hand-written: no library does this for a mask and a classifier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import segment

NARROWEST = 0.3  # a mark of width w holds at most w / (0.3 h) digits: cuts for 2..that many (<= MAX_PIECES)
MAX_CROSSINGS = 1  # a cut through two strokes cuts a digit (a loop, a 4's arm), not a junction of two
SAME_CUT = 2  # px: two candidate cuts no further apart than this in every row are one
MIN_PIECE = 0.12  # a piece narrower than 12% of the height (mean over rows) is a sliver, no digit
MAX_PIECE = 1.3  # a piece wider than 1.3x the mark's height is two digits, not one (slanted 2s reach ~1.2x)


@dataclass
class Cut:
    path: np.ndarray  # the column per row: the left piece is x < path[y]
    crossings: int  # strokes it runs through (two digits touching: 1; a digit cut in two: 2)


def candidate_cuts(own: np.ndarray) -> list[Cut]:
    """Every distinct cut segment._cuts proposes for any count of digits the mark's width allows, left to right."""
    h, w = own.shape
    most = min(segment.MAX_PIECES, max(2, int(w / (NARROWEST * h))))
    found: list[np.ndarray] = []
    for k in range(2, most + 1):
        for option in segment._cuts(own, k):
            for path in option:
                if not any(np.abs(path - f).max() <= SAME_CUT for f in found):
                    found.append(path)
    found.sort(key=lambda p: float(p.mean()))
    cuts = [Cut(p, segment._crossed(own, p)) for p in found]
    return [c for c in cuts if c.crossings <= MAX_CROSSINGS]


def spans(own: np.ndarray, cuts: list[Cut], whole: bool) -> list[tuple[int, int]]:
    """The (i, j) node pairs whose piece could be one digit: not a sliver, not two digits wide; (0, last) only
    when `whole` (the mark may be one digit)."""
    h, w = own.shape
    edges = [np.zeros(h, np.int64), *(c.path for c in cuts), np.full(h, w, np.int64)]
    last = len(edges) - 1
    out = []
    for i in range(last):
        for j in range(i + 1, last + 1):
            width = float((edges[j] - edges[i]).mean())
            if width > MAX_PIECE * h:
                break
            if width >= MIN_PIECE * h and ((i, j) != (0, last) or whole):
                out.append((i, j))
    return out


def edges(own: np.ndarray, cuts: list[Cut]) -> list[np.ndarray]:
    h, w = own.shape
    return [np.zeros(h, np.int64), *(c.path for c in cuts), np.full(h, w, np.int64)]


def best_chain(n_cuts: int, scores: dict[tuple[int, int], float]) -> list[tuple[int, int]]:
    """The chain of spans from node 0 to node n_cuts + 1 with the highest summed score (a DP over nodes)."""
    last = n_cuts + 1
    best = [-np.inf] * (last + 1)
    back = [-1] * (last + 1)
    best[0] = 0.0
    for (i, j), s in sorted(scores.items(), key=lambda kv: kv[0][1]):
        if best[i] + s > best[j]:
            best[j], back[j] = best[i] + s, i
    if back[last] < 0:
        return []
    chain, j = [], last
    while j > 0:
        chain.append((back[j], j))
        j = back[j]
    return chain[::-1]


def piece(crop: np.ndarray, a: np.ndarray, b: np.ndarray, x0: int, y0: int) -> segment.Piece | None:
    """The ink between two cuts (a[y] <= x < b[y]), trimmed to its ink, in image coordinates; None if empty."""
    columns = np.arange(crop.shape[1])[None]
    part = np.where((columns >= a[:, None]) & (columns < b[:, None]), crop, np.float32(0))
    rows, cols = np.flatnonzero(part.any(1)), np.flatnonzero(part.any(0))
    if not len(rows):
        return None
    part = part[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return segment.Piece((x0 + cols[0], y0 + rows[0], x0 + cols[-1] + 1, y0 + rows[-1] + 1), part)
