"""A dot-grid page's printed dots: a lattice of like small dots, fainter than the writing, taken out of the ink (a step
of images.ink_map, and so of to_mnist and `mnist-cnn read`).

    from mnist_cnn import dot_grid
    found = dot_grid.drop(ink)    # ink: (H, W) float32 >= 0; the lattice's dots set to 0 in place; whether it had one

Dot-grid notebooks (a bullet journal's page) print a dot every 5 mm. Where a photo of one shows few of them, each dot
keeps more than ink_specks.SPECK_FRACTION of the ink and stays: `read` took them for a number's points, a per cent
sign's circles or a ! under a stroke and refused 8 of 40 three-digit numbers written on such a page (2 on plain
paper), and read 6 of 40 blank pages as a number. A lattice here: pieces of at least MIN_AREA px, solid and round, of
one size (the size most pieces share, within SIZE), spaced at least SPARSE times their size apart (a dot-matrix
digit's dots, an ellipsis', are close), each fainter than the writing (FAINTER: printed grey under a pen's ink; a
number's own points are as dark as its digits, even on a node), on a grid in two directions: CORE dots or more with
a neighbour where the lattice's steps put one (within NODE of a step) along both of its axes, and every dot linked
to those a step at a time (a row by the page's edge, beside the writing). At least DOTS in all; and dots that are
all the ink, of one darkness, must fill FILL of their box (a blank dotted page's do, a dot-matrix digit's 50-70%).
A row alone (points in a row of prices, a column of them in a table) is no lattice. The steps are the medians of
each dot's nearest neighbour along each axis, turned as the page is.
Hand-written on OpenCV's labels: no library finds a printed lattice in an ink map. Brute-force distances, not SciPy's
k-d tree: at most MAX_DOTS dots, and importing scipy.spatial costs ~0.27 s at a process's first picture.
"""

from __future__ import annotations

import cv2
import numpy as np

from .ink_specks import grid, pool

DOTS = 6  # at least 6 dots on the lattice in all...
CORE = 4  # ...4 of them with neighbours along both of its axes (two rows of two at least)
MIN_AREA = 5  # px: a smaller piece is noise's or JPEG's speck, never counted (a 1,024 px photo's 0.4 mm dot: ~6)
SOLID = 0.5  # a printed dot fills half its box or more (a disc 79%; a 7 px one drawn in pixels 59%, a 3 px one 56%)
ROUND = 1.5  # ...is no more than 1.5x as long one way as the other...
SIZE = 0.4  # ...and within 40% of the size most such pieces share, its width and its height
SPARSE = 5.0  # the lattice's steps are at least 5x a dot's size (a dot-grid's: 10-20x; dots a pen writes close: 1.5-3x)
FAINTER = 0.8  # a dot's peak ink at most 80% of the writing's (its largest other piece's peak), if there is any
NODE = 0.15  # a neighbour within 15% of a step of where the lattice puts one
CLOSER = 0.1  # a lattice's step: no more than 10% of its dots have a nearer neighbour along its axis
AXIS = 0.2  # radians (11 degrees): a neighbour's offset this close to an axis' direction is along it
FILL = 0.85  # dots alone, of one darkness, are a grid if they fill 85% of their lattice's box (a dot-matrix 5: 49%)
MAX_DOTS = 400  # more like pieces: no lattice looked for (a page's whole grid has ~1,200 dots, each a speck by mass)
HALF = 600  # px: a longer map is labelled at half size (labelling a 1,000 px map's noise costs ~4 ms, half of it ~1)


def drop(ink) -> bool:
    """Set the (H, W) float32 ink map's lattice of printed dots to 0, in place; whether there was one."""
    f = grid(ink.shape)  # first the pieces on ink_specks' coarse grid: a lattice's dots, 5x their size apart, stay so
    if f > 1 and cv2.connectedComponents((pool(ink, f, "sum") > 0).view(np.uint8), connectivity=8)[0] - 1 < DOTS:
        return False
    k = 2 if max(ink.shape) > HALF else 1
    small = ink if k == 1 else pool(ink, 2, "sum")
    n, labels, stats, centres = cv2.connectedComponentsWithStats((small > 0).view(np.uint8), connectivity=8)
    if not DOTS <= n - 1 <= 50 * MAX_DOTS:
        return False
    members = lattice(ink, stats[1:], centres[1:], k)
    if not len(members):
        return False
    gone = np.zeros(n, bool)
    gone[members + 1] = True
    gone = gone[labels].view(np.uint8)
    if k > 1:
        gone = cv2.resize(gone, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)[: ink.shape[0], : ink.shape[1]]
    ink[gone > 0] = 0
    return True


def lattice(ink, stats, centres, k: int = 1) -> np.ndarray:
    """The indices of the pieces (cv2 stats rows x, y, w, h, area and their centres, labelled on the (H, W) ink map
    reduced k times) that are a lattice's dots."""
    x, y, w, h, area = stats.T
    dots = np.flatnonzero((area * k * k >= MIN_AREA) & (area >= SOLID * w * h) & (w <= ROUND * h) & (h <= ROUND * w))
    if len(dots) < DOTS:
        return dots[:0]
    size = np.maximum(w[dots], h[dots])
    ordered = np.sort(size)  # the size the most pieces are within SIZE of
    mode = ordered[np.argmax(np.searchsorted(ordered, ordered * (1 + SIZE), "right")
                             - np.searchsorted(ordered, ordered * (1 - SIZE), "left"))]
    dots, size = dots[np.abs(size - mode) <= SIZE * mode], size[np.abs(size - mode) <= SIZE * mode]
    mode = float(np.median(size))  # the dots' own size, not that of the widest piece within SIZE of them
    if not DOTS <= len(dots) <= MAX_DOTS:
        return dots[:0]
    faint, alone = _fainter(ink, stats, dots, k)
    dots = dots[faint]
    if len(dots) < DOTS:
        return dots[:0]
    at = centres[dots]
    offsets = at[None] - at[:, None]  # [i, j]: from dot i to dot j
    length = np.hypot(offsets[..., 0], offsets[..., 1])
    np.fill_diagonal(length, np.inf)
    turn = np.arctan2(offsets[..., 1], offsets[..., 0])
    nearest = np.argmin(length, axis=1)
    axis = np.angle(np.mean(np.exp(4j * turn[np.arange(len(dots)), nearest]))) / 4  # a quarter turn alike
    steps = []
    for a in (axis, axis + np.pi / 2):  # each dot's nearest neighbour along each axis, either way
        along = np.abs(np.angle(np.exp(2j * (turn - a)))) / 2 <= AXIS
        first = np.where(along, length, np.inf).min(axis=1)
        first = first[np.isfinite(first)]
        steps.append(np.median(first) if len(first) else np.inf)
        if len(first) and np.mean(first < (1 - NODE) * steps[-1]) > CLOSER:
            return dots[:0]  # the median skipped a node: no lattice (a dot-matrix 5's rows are 1 and 2 apart)
    if not np.isfinite(steps).all() or min(steps) < SPARSE * mode:
        return dots[:0]
    seen = []  # per axis: each dot's neighbour (index) one step either way where the lattice puts one, or -1
    for a, step in zip((axis, axis + np.pi / 2), steps):
        unit = np.array([np.cos(a), np.sin(a)])
        for sign in (1, -1):
            miss = np.hypot(*(at[None] - (at + sign * step * unit)[:, None]).transpose(2, 0, 1))
            seen.append(np.where(miss.min(axis=1) <= NODE * step, np.argmin(miss, axis=1), -1))
    seen = np.array(seen)
    core = ((seen[0] >= 0) | (seen[1] >= 0)) & ((seen[2] >= 0) | (seen[3] >= 0))
    if core.sum() < CORE:
        return dots[:0]
    src, dst = np.nonzero(seen >= 0)[1], seen[seen >= 0]  # the lattice's links, dot to dot a step apart
    member, grown = core.copy(), None
    while grown is None or member.sum() > grown:  # every dot linked to the core, step by step (a row by an edge)
        grown = member.sum()
        member[src[member[dst]]] = True  # links go both ways: q is where a step from p lands iff p is from q
    if member.sum() < DOTS or alone and _filled(at[member], axis, steps) < FILL:
        return dots[:0]
    return dots[member]


def _filled(at, axis: float, steps) -> float:
    """The share of the lattice's nodes in the box of the dots at `at` that hold one."""
    unit = np.array([[np.cos(axis), np.sin(axis)], [-np.sin(axis), np.cos(axis)]])
    nodes = np.unique(np.rint((at - at[0]) @ unit.T / steps).astype(int), axis=0)
    return len(nodes) / float(np.prod(np.ptp(nodes, axis=0) + 1))


def _fainter(ink, stats, dots, k: int) -> tuple[np.ndarray, bool]:
    """(which dots peak at most FAINTER of the writing's peak in the (H, W) ink map, whether the dots are all the ink
    there is). The writing: the largest other piece (stats in the map reduced k times); with none, the dots darker
    than FAINTER of the darkest (a dot-matrix display's lit dots among its unlit ones); with none of those either,
    every dot is faint, and the lattice must fill FILL of its box to be a printed grid."""
    def peak(i) -> float:
        x, y, w, h = stats[i, :4] * k
        return float(ink[y : y + h, x : x + w].max())

    peaks = np.array([peak(i) for i in dots])
    others = np.setdiff1d(np.arange(len(stats)), dots)
    if len(others):
        return peaks <= FAINTER * peak(others[np.argmax(stats[others, 4])]), False
    faint = peaks <= FAINTER * peaks.max()
    return (faint, False) if faint.sum() >= DOTS else (np.ones(len(dots), bool), True)
