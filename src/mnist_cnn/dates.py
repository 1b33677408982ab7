"""A date's slashes (07/12/2026, 2026/12/07) where they stand no taller than its digits: punctuation.find takes a
lone slash only when it rises well above the digits beside it (a leaning 1 as tall as its neighbours is a 1 to any
reader: 12/05 reads 12105), but two straight marks that lean alike, more than the rest of the row does, parting
its digits into a day, a month and a year, are a date's. Most hands and faces write the slash as tall as their
digits (1.07-1.28x in most of read_eval.py's faces), so without this a date read 0711212026.

    from mnist_cnn import dates
    dates.slashes(labels, boxes, tall, stroke)   # [i, j]: the two tall marks that are a date's slashes, or []

Hand-written on OpenCV's moments (punctuated.lean): no library finds a date's slashes in handwriting.
"""

from __future__ import annotations

import numpy as np

from . import punctuated

STEEPER = 0.2  # px across per px up: each slash leans this much more than the row's median mark (most faces'
# slashes 0.21-0.73 more; their 1s lean with the row, -0.05 to +0.1 of it)
TALLER, TILT = 1.3, 0.1  # or each is 1.3x as tall as the row's median mark and leans right (punctuated.LEAN) or
# 0.1 more than it: an italic face's slashes lean no more than its digits (DKG's: 0.07 more), a face sheared back
# leaves them 0.15 (punctuation.py's slash rule does not take them: their boxes overlap their neighbours')
ALIKE = 0.25  # ...and the two lean within this of each other (one hand's two slashes)
GROUPS = (((1, 2), (1, 2), (2, 4)), ((4,), (1, 2), (1, 2)))  # day/month/year (either way round), or year first


def slashes(labels: np.ndarray, boxes: np.ndarray, tall: np.ndarray, stroke: float) -> list[int]:
    """The indices of the two tall marks (`boxes` x, y, w, h; `labels` 1 + index) that are a date's slashes: the only
    two straight ones (punctuated.straight) leaning STEEPER more than the row's median tall mark (punctuated.lean),
    or TALLER than it and leaning right or TILT more, ALIKE, with 1-2 marks before the first, 1-2 between and 2 or 4
    after (or 4, 1-2, 1-2); else []."""
    marks = sorted(np.flatnonzero(tall), key=lambda i: 2 * boxes[i, 0] + boxes[i, 2])  # by their middles
    if not 6 <= len(marks) <= 10:
        return []
    leans = np.array([punctuated.lean(labels, boxes, i) for i in marks])
    heights = boxes[marks, 3]
    steep = leans >= np.median(leans) + STEEPER
    steep |= (heights >= TALLER * np.median(heights)) & (leans >= min(punctuated.LEAN, np.median(leans) + TILT))
    steep = [k for k in np.flatnonzero(steep)  # an oblique face's 0s lean as much
             if punctuated.straight(_ink(labels, boxes, marks[k]), stroke)]
    if len(steep) != 2 or abs(leans[steep[0]] - leans[steep[1]]) > ALIKE:
        return []
    first, second = (int(k) for k in steep)
    sizes = (first, second - first - 1, len(marks) - second - 1)
    if not any(all(n in allowed for n, allowed in zip(sizes, group)) for group in GROUPS):
        return []
    return [int(marks[k]) for k in steep]


def _ink(labels: np.ndarray, boxes: np.ndarray, i: int) -> np.ndarray:
    x, y, w, h = boxes[i]
    return labels[y:y + h, x:x + w] == i + 1
