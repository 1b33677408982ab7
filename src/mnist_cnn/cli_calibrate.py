"""The command line's `calibrate`: honest confidence and "not a digit" for a trained run.

    mnist-cnn calibrate runs/NAME [--compare] [--no-gate] [--json]

Fits the run's refusal rule (refusal_fit.py) and writes RUN/refusal.json, RUN/calibration.png and, when the gate
is kept, RUN/notdigit.keras (and, for a run with a line reader, RUN/notdigit-pieces.keras, the piece gate) with their
exports. --compare adds the held-out comparison of the approaches (the table in docs/images.md). Split from cli.py
to keep each module small.
"""

from __future__ import annotations


from .console import json_text, shown, stderr_report, table


def add_commands(sub) -> None:
    from .cli_args import path_arg

    p = sub.add_parser("calibrate", help="fit a run's temperature and \"not a digit\" rule (RUN/refusal.json)",
                       description="Fit the temperature that makes a run's probabilities honest and the rule that "
                                   "refuses non-digits, on validation data only; store them in the run folder. "
                                   "Old runs and downloaded models get them this way; train does it at the end of "
                                   "a full MNIST run. A run with a line reader (fit-reader) also gets its piece "
                                   "gate, a few minutes more.")
    p.add_argument("run", metavar="RUN_DIR", type=path_arg, help="a run folder (model.keras, config.json)")
    p.add_argument("--compare", action="store_true",
                   help="also measure every approach on held-out data and print the table (default: no)")
    p.add_argument("--no-gate", action="store_true",
                   help="a confidence threshold only, without training the \"not a digit\" gate (default: gate)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON (default: tables)")
    p.add_argument("--data-dir", metavar="DIR", type=path_arg,
                   help="data folder (default: $MNIST_CNN_DATA, else ~/.cache/mnist-cnn)")


def _pct(v) -> str:
    return "-" if v is None else f"{v:.1%}"


def comparison_rows(figures: dict) -> list[tuple]:
    evalset = all("evalset_accepted" in f for f in figures.values())
    rows = [("approach", "non-digits refused", "MNIST digits accepted", "uploaded digits accepted",
             "uploads kept, right") + (("real-world set accepted",) if evalset else ())]
    for name, f in figures.items():
        rows.append((name, _pct(f["non_digits_refused"]), _pct(f["mnist_accepted"]), _pct(f["uploads_accepted"]),
                     _pct(f["uploads_accuracy_kept"])) + ((_pct(f["evalset_accepted"]),) if evalset else ()))
    return rows


def family_rows(figures: dict) -> list[tuple]:
    names = list(figures)
    families = list(next(iter(figures.values()))["by_family"])
    return [("family", *names)] + [(fam, *(_pct(figures[n]["by_family"][fam]) for n in names)) for fam in families]


def cmd_calibrate(args) -> int:
    from .refusal_fit import fit

    r = fit(args.run, gate=not args.no_gate, compare=args.compare, data_dir=args.data_dir, report=stderr_report)
    if args.json:
        print(json_text(r))
        return 0
    e = r["ece"]
    print(f"Temperature {r['temperature']:.3f}: test ECE ({e['bins']} bins) {e['test_before']:.4f} -> "
          f"{e['test_after']:.4f}")
    weight = r.get("confidence_weight", 0.0)
    gate = "" if r["gate_threshold"] is None else (
        f" or the gate says P(not a digit) >= {r['gate_threshold']:.4f}"
        + (f", its logit raised by {weight:g} x -log(confidence)" if weight else ""))
    print(f"Kept: {r['approach']} (refuse when the calibrated confidence < {r['min_confidence']:.4f}{gate})")
    print("\nvalidation (chooses the rule):\n" + table(comparison_rows(r["validation"])))
    if "held_out" in r:
        print("\nheld out (reported):\n" + table(comparison_rows(r["held_out"])))
        print("\nheld-out non-digits refused, by family:\n" + table(family_rows(r["held_out"])))
    print(f"\nWrote {shown(args.run)}/refusal.json and calibration.png")
    return 0


COMMANDS = {"calibrate": cmd_calibrate}
