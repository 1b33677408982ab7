"""Hyperparameter sweeps on Optuna: every trial is an ordinary run folder, the study is shared in a database.

    mnist-cnn sweep --model seed --space sweeps/fast.toml --trials 8               # SQLite, nothing to set up
    mnist-cnn sweep --model seed --space sweeps/fast.toml --trials 8 --storage postgresql://USER@HOST/DB
    mnist-cnn sweep seed-fast --status [--export-best best.toml]

    from mnist_cnn import sweep
    plan = sweep.make_plan("seed", "sweeps/fast.toml", flags={"limit": 600, "epochs": 2})
    outcome = sweep.run(plan, trials=4)                  # Outcome: this process's trials, interrupted
    study = sweep.open_study(plan.study, plan.storage)   # optuna.Study (load only)

Trials go to OUT/sweeps/STUDY/trial-NNNN (trial-NNNN-seedS with several seeds) with config.json,
history, model and pictures, as `mnist-cnn train` writes them. The objective is the validation
accuracy of the epoch with the lowest validation loss (mean over the seeds); the test set chooses
nothing. Each whole epoch of the first seed's run is reported to Optuna; a MedianPruner stops
hopeless trials after the epoch, leaving their folder an unfinished run (checkpoint and history,
no metrics.json, resumable by `mnist-cnn train --resume`) and the trial PRUNED.

Storage: an SQLite file OUT/sweeps/STUDY/study.db by default, or any SQLAlchemy URL (PostgreSQL for
several machines). Workers running the same command share one study; `trials` is how many this
process runs. Each running trial sends a heartbeat; a trial silent for 2 heartbeats (a killed worker)
is marked FAIL by the next worker that starts a trial. Ctrl-C inside a trial stops it after the
current batch and marks it FAIL; between trials it stops the sweep once the bookkeeping is done.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from . import extras
from .config import NAME_PATTERN, RUN_ONLY, TrainConfig, recipe, resolve
from .console import Report, quiet
from .errors import ConfigError, TrainingDiverged, UserError
from .sweep_space import Space, changes, load_space
from .sweep_status import trial_line

HEARTBEAT = 30  # seconds between a running trial's signs of life; 2x this without one and it is FAIL
SQLITE_WAIT = 60  # seconds an SQLite writer waits for another worker's lock before giving up
OPEN_ATTEMPTS = 3  # opening a storage: workers starting together race to create its tables
PRUNE_AFTER_TRIALS = 5  # finished trials before any pruning: a median of fewer is noise
PRUNE_WARMUP_EPOCHS = 1  # never prune on the first epoch: warm-up schedules make it say little
WORKER = f"{socket.gethostname()}:{os.getpid()}"  # recorded on each trial this process runs
STUDY_ATTRS = ("model", "fixed", "space", "seeds")  # what every worker of a study must agree on
ATTRS_WAIT = 10.0  # seconds to wait for a study's creator to finish writing them (it takes milliseconds)


@dataclass
class Plan:
    """What a worker runs: the recipe, the fixed settings (file + flags), the space, seeds, study and storage."""

    model: str
    space: Space
    base: TrainConfig  # the recipe with the file and flags: each trial's config is this plus its params
    file: str | None
    flags: dict
    seeds: list[int] | None
    study: str
    storage: str
    folder: Path  # OUT/sweeps/STUDY
    heartbeat: int = HEARTBEAT
    timeout: float | None = None  # seconds after which no new trial starts

    def fixed(self) -> dict:
        """The settings that differ from the recipe and are not searched (what export writes besides params)."""
        skip = {*RUN_ONLY, "model", *(p.name for p in self.space.params), *(("seed",) if self.seeds else ())}
        rec = recipe(self.model)
        return {k: v for k, v in self.base.to_dict().items() if k not in skip and v != getattr(rec, k)}


@dataclass
class Outcome:
    study: str
    folder: Path
    states: dict = field(default_factory=dict)  # state name -> count, of this process's trials
    interrupted: int | None = None  # the trial number a Ctrl-C stopped (-1: between trials)
    mine: list[int] = field(default_factory=list)  # numbers of the trials this process started


def default_storage(folder: Path) -> str:
    return f"sqlite:///{folder.resolve() / 'study.db'}"


def shown_url(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL: hide what looks like a password
        return re.sub(r":[^:@/]*@", ":***@", url)


def make_plan(model: str | None, space: str, file: str | None = None, flags: dict | None = None,
              seeds: list[int] | None = None, study: str | None = None, storage: str | None = None,
              heartbeat: int = HEARTBEAT, timeout: float | None = None) -> Plan:
    """A checked Plan: the base config resolves, the space loads, the study name is a folder name."""
    extras.check(("optuna", *extras.TRAIN), "a sweep")
    flags = dict(flags or {})
    if model:
        flags["model"] = model
    base = resolve(file=file, flags=flags)
    flags.pop("model", None)
    loaded = load_space(space, base)
    if seeds and "seed" in loaded.raw:
        raise UserError(f"{space}: key 'seed': the seeds are given as a list already; search one or the other")
    study = study or f"{base.model}-{Path(space).stem}"
    if not NAME_PATTERN.fullmatch(study):
        raise UserError(f"study name {study!r}: expected letters, digits and . _ + - (at most 100, not starting "
                        f"with . _ + -)")
    folder = Path(base.out) / "sweeps" / study
    return Plan(base.model, loaded, base, file, flags, list(seeds) if seeds else None, study,
                storage or default_storage(folder), folder, heartbeat, timeout)


def _storage(url: str, heartbeat: int | None = None, report: Report = quiet):
    import optuna
    import sqlalchemy.exc

    def stale(study, trial):
        report(f"trial {trial.number} (worker {trial.user_attrs.get('worker', '?')}) sent no heartbeat for "
               f"{2 * heartbeat} s: marked FAIL")

    engine = {"connect_args": {"timeout": SQLITE_WAIT}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    driver_url = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)  # the driver the [sweep] extra installs
    for attempt in range(OPEN_ATTEMPTS):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeat_interval
                return optuna.storages.RDBStorage(driver_url, engine_kwargs=engine, heartbeat_interval=heartbeat,
                                                  grace_period=2 * heartbeat if heartbeat else None,
                                                  heartbeat_stale_trial_callback=stale if heartbeat else None)
        except (ImportError, ValueError, sqlalchemy.exc.ArgumentError) as e:  # no driver, not a URL
            raise UserError(f"storage {shown_url(url)}: cannot open it ({_first_line(e)})") from None
        except sqlalchemy.exc.SQLAlchemyError as e:
            if attempt + 1 == OPEN_ATTEMPTS or not _racing(e):
                raise UserError(f"storage {shown_url(url)}: cannot open it ({_first_line(e)})", exit_code=1) from None
            time.sleep(1 + attempt)  # two workers creating the tables at once: the loser finds them next time


def _racing(e: Exception) -> bool:
    """An error of two workers creating the same tables at once (worth a retry), not a bad URL or server."""
    import sqlalchemy.exc

    text = str(e).lower()
    return isinstance(e, (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError)) or \
        isinstance(e, sqlalchemy.exc.OperationalError) and ("already exists" in text or "locked" in text)


def _first_line(e: Exception) -> str:
    return (str(getattr(e, "orig", None) or e).strip().splitlines() or ["?"])[0]


def open_study(name: str, url: str, heartbeat: int | None = None, report: Report = quiet):
    """An existing study (UserError naming the studies there when it does not exist)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = _storage(url, heartbeat, report)
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        names = optuna.get_all_study_names(storage)
        raise UserError(f"storage {shown_url(url)}: no study {name!r}; studies there: "
                        f"{', '.join(names) or 'none'}") from None


def _create_study(plan: Plan, report: Report):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # this module reports each trial itself
    if plan.storage == default_storage(plan.folder):
        plan.folder.mkdir(parents=True, exist_ok=True)  # for study.db; trial folders come with their runs
    study = optuna.create_study(storage=_storage(plan.storage, plan.heartbeat, report), study_name=plan.study,
                                direction="maximize", pruner=make_pruner(), load_if_exists=True)
    wanted = {"model": plan.model, "fixed": plan.fixed(), "space": plan.space.raw, "seeds": plan.seeds}
    have = _written(study)
    if not have:
        for key in STUDY_ATTRS:  # in this order: _written waits for the last
            study.set_user_attr(key, wanted[key])
    elif differ := [k for k in STUDY_ATTRS if have.get(k) != wanted[k]]:
        raise UserError(f"study {plan.study!r} was started with another {', '.join(differ)} "
                        f"({'; '.join(changes(k, have.get(k), wanted[k]) for k in differ)}); run the same command or "
                        f"pick another study name")
    return study


def _written(study) -> dict:
    """The study's attributes once whole: a worker that starts with another sees them half-written (one at a time)."""
    have, deadline = study.user_attrs, time.monotonic() + ATTRS_WAIT
    while have and STUDY_ATTRS[-1] not in have and time.monotonic() < deadline:
        time.sleep(0.1)
        have = study.user_attrs
    return have


def make_pruner():
    import optuna

    # steps are 1-based epochs and Optuna prunes from step == n_warmup_steps on: + 1 spares the warm-up epochs
    return optuna.pruners.MedianPruner(n_startup_trials=PRUNE_AFTER_TRIALS, n_warmup_steps=PRUNE_WARMUP_EPOCHS + 1)


def pruning_callback(trial):
    """A keras callback: each whole epoch's validation accuracy to the trial; a pruned trial stops cleanly
    after that epoch (its checkpoint written) and then raises optuna.TrialPruned."""
    import math

    import keras
    import optuna

    class _Pruning(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.batches, self.pruned_at = 0, None

        def on_epoch_begin(self, epoch, logs=None):
            self.batches = 0

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            acc, loss = logs.get("val_accuracy"), logs.get("val_loss", 0.0)
            if self.batches < (self.params.get("steps") or 0) or acc is None or not math.isfinite(loss):
                return  # an epoch cut short by Ctrl-C, or a diverged one: nothing to judge
            trial.report(float(acc), epoch + 1)
            if epoch + 1 < self.params.get("epochs", 0) and trial.should_prune():  # after the last, nothing to save
                self.pruned_at = epoch + 1
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            if self.pruned_at:
                raise optuna.TrialPruned(f"after epoch {self.pruned_at}: validation accuracy below the median")

    return _Pruning()


def trial_name(number: int, seed: int | None = None) -> str:
    return f"trial-{number:04d}" + (f"-seed{seed}" if seed is not None else "")


class _CtrlC:
    """Ctrl-C inside a trial raises there (train stops after the batch); between trials it waits, then stops."""

    def __init__(self, study):
        self.study, self.pending = study, False

    def between(self, signum, frame):
        self.pending = True
        with contextlib.suppress(RuntimeError):  # outside optimize: nothing to stop
            self.study.stop()

    @contextlib.contextmanager
    def inside_trial(self):
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            if self.pending:
                raise KeyboardInterrupt
            yield
        finally:
            signal.signal(signal.SIGINT, self.between)


def _objective(plan: Plan, outcome: Outcome, ctrl_c: _CtrlC, report: Report):
    import keras

    from .train import train

    several = plan.seeds is not None and len(plan.seeds) > 1

    def objective(trial) -> float:
        outcome.mine.append(trial.number)
        with ctrl_c.inside_trial():
            trial.set_user_attr("worker", WORKER)
            params = plan.space.sample(trial)
            accuracies = []
            for i, seed in enumerate(plan.seeds or [None]):
                flags = {**plan.flags, **params, "model": plan.model, "out": str(plan.folder),
                         "name": trial_name(trial.number, seed if several else None),
                         **({"seed": seed} if seed is not None else {})}
                try:
                    result = train(resolve(file=plan.file, flags=flags), verbose=0, report=report,
                                   callbacks=[pruning_callback(trial)] if i == 0 else [])
                except UserError as e:  # the trial fails; ConfigError and TrainingDiverged (run's `catch`) only
                    trial.set_user_attr("error", str(e))  # that trial, anything else the sweep too
                    raise
                finally:
                    keras.backend.clear_session()
                if result.interrupted:
                    outcome.interrupted = trial.number
                    raise KeyboardInterrupt
                accuracies.append(result.metrics["best_val_accuracy"])
            trial.set_user_attr("val_accuracies", accuracies)
            return sum(accuracies) / len(accuracies)

    return objective


def run(plan: Plan, trials: int, report: Report = quiet) -> Outcome:
    """Run `trials` trials of plan's study in this process (others may share it); Ctrl-C: interrupted set."""
    import sqlalchemy.exc

    from . import data

    data.ensure_dataset(plan.base.dataset, plan.base.data_dir, report=report)  # once, not a failure per trial
    study = _create_study(plan, report)
    outcome, ctrl_c = Outcome(plan.study, plan.folder), _CtrlC(study)

    def after_trial(study, trial):
        report(trial_line(trial))

    previous = signal.signal(signal.SIGINT, ctrl_c.between)
    try:
        study.optimize(_objective(plan, outcome, ctrl_c, report), n_trials=trials, timeout=plan.timeout,
                       catch=(ConfigError, TrainingDiverged), callbacks=[after_trial], gc_after_trial=True)
    except KeyboardInterrupt:
        outcome.interrupted = outcome.mine[-1] if outcome.mine else -1
    except sqlalchemy.exc.SQLAlchemyError as e:
        raise UserError(f"storage {shown_url(plan.storage)}: {_first_line(e)}", exit_code=1) from None
    finally:
        signal.signal(signal.SIGINT, previous)
        with contextlib.suppress(Exception):  # best effort: the storage may be what failed
            _fail_leftovers(study, outcome.mine)
            for t in study.get_trials(deepcopy=False):
                if t.number in outcome.mine:
                    outcome.states[t.state.name] = outcome.states.get(t.state.name, 0) + 1
    if ctrl_c.pending and outcome.interrupted is None:
        outcome.interrupted = -1
    return outcome


def _fail_leftovers(study, numbers: list[int]) -> None:
    """No RUNNING trial of this process outlives it (e.g. an exception between Optuna's ask and tell)."""
    import optuna

    running = {t.number for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))}
    for number in set(numbers) & running:
        with contextlib.suppress(Exception):
            study.tell(number, state=optuna.trial.TrialState.FAIL, skip_if_finished=True)
