"""A digit's readings and the one that answers: `images.candidates` gives the plain reading and, under a shadow's
edge, readings with the shade for paper; the model's decisions choose among them, and a refused plain reading gets a
second look (images.more_readings). Shared by `predict`, `read`, the server and `mnist-cnn evalset`.

    from mnist_cnn.readings import decide_candidates
    again = lambda i: images.more_readings(image)            # asked for only where the plain reading is refused
    [(x, decision)] = decide_candidates(predictor, [images.candidates(image)], again)
"""

from __future__ import annotations

import numpy as np

from .refusal import Decision

# A shade's reading must be this sure of its digit and the gate's P(not a digit) under SHADE_GATE: clothes and icons,
# their bodies taken for a shade, were read at 0.70-0.85 or with the gate at 0.54-0.80 (evalset's shadowed digits:
# 0.97-1.0 and 0.00-0.36); and, the plain reading accepted, more digit-like by SHADE_BETTER (log confidence + log
# P(digit)): a hand's shadow made a 1 a 6 (0.98, gate 0.77); a thick 1's median reading, a 7 as sure as the plain 1,
# is not (0 lost 3 of evalset's 1s; 0.5 left 3 more hands' shadows wrong). docs/reading.md, "A shadow across one digit".
SHADE_SURE = 0.95
SHADE_GATE = 0.5
SHADE_BETTER = 0.1
# A second look's reading (no shadow found) answers only when surer still: of 200 icons, 7 more were read as digits
# (0s at 0.98-0.9996, the gate at 0.07-0.39) at SHADE_SURE and SHADE_GATE; the probe's pencil and vignetted digits
# gained were read at 0.99-0.9999 with the gate at 0.00-0.01 (tools/objects.py, docs/reading.md "A second look")
SECOND_SURE = 0.99
SECOND_GATE = 0.1


def choose(candidates: list, decisions: list, least: float = SHADE_SURE, gate: float = SHADE_GATE) -> int:
    """Which of an image's `images.candidates` (the plain reading first, then the shade's; None: no ink) answers for
    it, given their decisions: a shade's reading when it is a sure digit (`least` confidence, the gate under `gate`)
    and the plain one is refused (of two, the surer) or less digit-like by SHADE_BETTER. A blank plain reading stays
    "no digit found"."""
    if candidates[0] is None:
        return 0
    refused = decisions[0].rejected  # the plain reading refused: the surer shade's; else only a more digit-like one
    like = [d and np.log(max(d.confidence, 1e-9)) + np.log(max(1 - (d.not_digit or 0.0), 1e-9)) for d in decisions]
    sure = [k for k in range(1, len(candidates)) if candidates[k] is not None and not decisions[k].rejected
            and decisions[k].confidence >= least and (refused or like[k] > like[0] + SHADE_BETTER)
            and (decisions[k].not_digit is None or decisions[k].not_digit < gate)]
    return max(sure, key=lambda k: decisions[k].confidence if refused else like[k]) if sure else 0


def decide_candidates(predictor, candidates: list[list], again=None) -> list[tuple[np.ndarray | None, Decision | None]]:
    """Each image's (input chosen, its decision) from its `images.candidates` (the plain reading not None), in one
    batch of predictor.decide (a Predictor, or anything with its decide); [] for none. again(i): image i's
    images.more_readings, asked for where its answer is refused, and chosen from likewise (a second look)."""
    flat = [x for c in candidates for x in c if x is not None]
    decided = iter(predictor.decide(np.stack(flat)) if flat else [])
    decisions = [[None if x is None else next(decided) for x in c] for c in candidates]
    if again is not None:
        return _second_look(predictor, list(candidates), decisions, again)
    return [(c[k], d[k]) for c, d in zip(candidates, decisions) for k in [choose(c, d)]]


def _second_look(predictor, candidates: list[list], decisions: list[list], again) -> list:
    """decide_candidates' answers, where one is refused asked again: the image read again (images.more_readings), and
    answered by such a reading only as sure as SECOND_SURE and SECOND_GATE (docs/reading.md, "A second look")."""
    first = [(c[k], d[k]) for c, d in zip(candidates, decisions) for k in [choose(c, d)]]
    asked = [i for i, (x, d) in enumerate(first) if x is not None and d.rejected]
    more = {i: [x for x in again(i) if x is not None] for i in asked}
    flat = [x for i in asked for x in more[i]]
    decided = iter(predictor.decide(np.stack(flat)) if flat else [])
    for i in asked:
        c, d = [first[i][0], *more[i]], [first[i][1], *(next(decided) for _ in more[i])]
        first[i] = (c[k := choose(c, d, SECOND_SURE, SECOND_GATE)], d[k])
    return first
