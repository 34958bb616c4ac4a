"""Export a study's model: the retrained best by default, or one trial's configuration retrained."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from autocnn.core.records import TrialStatus
from autocnn.core.storage import mask_secrets
from autocnn.errors import ConfigError, ExportError, StudyMismatchError
from autocnn.export._export import ExportResult, check_export_options, export_model
from autocnn.export._formats import ExportFormat, Quantize, check_requirements, resolve_output

if TYPE_CHECKING:
    import keras

    from autocnn.core.records import TrialRecord
    from autocnn.core.study import Study
    from autocnn.data import Dataset

__all__ = ["export_study"]

#: Test images the export is checked on (and int8 accuracy measured on), at most.
SAMPLE_SIZE = 1000
#: Training images the int8 converter calibrates on, at most.
CALIBRATION_SIZE = 256


def export_study(
    study: Study,
    *,
    format: ExportFormat,
    out: Path,
    trial: int | None = None,
    quantize: Quantize = "none",
    dataset: str | Dataset | None = None,
    tolerance: float = 1e-4,
    log: Callable[[str], None] | None = None,
) -> ExportResult:
    """Export a study's model with a model card, verified on the study's test images.

    By default the retrained best model (``study.best_model()``: the best configuration retrained
    on train + validation, or the best trial's own model when the search ran without retrain).
    ``trial=N`` exports trial N: the retrained model when N is the retrained best, the saved
    trial model when N is the best trial and nothing was retrained, otherwise N's configuration
    retrained here on train + validation with the study's seed, as the final retrain does (the
    search keeps no other trial's weights); ``log`` and the result's notes say so. The data is
    the study's dataset, reloaded by name unless ``dataset`` (a path or a Dataset) is given.

    Raises:
        ConfigError: no such trial, or the trial did not complete.
        StudyMismatchError: retraining on data other than the study's.
        SearchError: the study has no completed trial or saved model.
        MissingExtraError, ExportError: see :func:`export_model`.

    Example:
        >>> from pathlib import Path
        >>> from autocnn.core.study import load_study
        >>> from autocnn.export import export_study
        >>> study = load_study("quick_digits")  # doctest: +SKIP
        >>> print(export_study(study, format="tflite", out=Path("dist/model.tflite")).summary())  # doctest: +SKIP

    """
    from autocnn.model import describe_config

    say = log or (lambda message: None)
    check_export_options(format=format, quantize=quantize, tolerance=tolerance)
    check_requirements(format)
    resolve_output(Path(out), format)  # a bad path fails now, not after a retrain
    info = study.info
    reference = info.dataset
    if reference is None:
        raise ConfigError(
            f"study {study.name!r} does not record its dataset; it was not made by autocnn search"
        )
    data = reference.load(source=dataset, study=study.name)
    seed = reference.seed
    difference = reference.mismatch(data)
    same_data = difference is None
    notes: list[str] = []
    if difference is not None:
        notes.append(f"{difference}; metrics below are on this data")
    record, model, source, training = _choose_model(
        study, trial, data=data, seed=seed, same_data=same_data, say=say
    )
    metrics = _metrics(study, record, model, data=data, retrained=training is not None)
    if training is not None:
        notes.append(source)
    config = record.config
    rng = np.random.default_rng(seed)
    calibration_index = np.sort(
        rng.choice(len(data.x_train), size=min(CALIBRATION_SIZE, len(data.x_train)), replace=False)
    )
    card: dict[str, Any] = {
        "title": f"study {study.name}, trial {record.number}",
        "source": source,
        "class_names": list(info.class_names or data.class_names),
        "architecture": None if config is None else describe_config(config),
        "config": None if config is None else config.to_dict(),
        "metrics": metrics,
        "dataset": {
            "name": data.name,
            "fingerprint": data.fingerprint,
            "source": data.source,
            "validation_fraction": reference.validation_fraction,
            "split_seed": seed,
            "train_images": len(data.x_train),
            "validation_images": len(data.x_val),
            "test_images": len(data.x_test),
        },
        "study": {
            "name": study.name,
            "storage": mask_secrets(study.storage_url),
            "trial": record.number,
            "objectives": ", ".join(f"{o.metric} ({o.direction})" for o in info.objectives),
            "space": info.space_name,
        },
        "training": training,
    }
    say(f"exporting trial {record.number}'s model as {format}" + (" (int8)" if quantize == "int8" else ""))
    result = export_model(
        model,
        format=format,
        out=Path(out),
        sample=data.x_test[:SAMPLE_SIZE],
        labels=data.y_test[:SAMPLE_SIZE],
        quantize=quantize,
        calibration=data.x_train[calibration_index] if quantize == "int8" else None,
        card=card,
        tolerance=tolerance,
    )
    return dataclasses.replace(result, notes=(*notes, *result.notes))


def _choose_model(
    study: Study,
    trial: int | None,
    *,
    data: Dataset,
    seed: int,
    same_data: bool,
    say: Callable[[str], None],
) -> tuple[TrialRecord, keras.Model, str, dict[str, Any] | None]:
    """Return the trial, its model, a sentence on where the model comes from, and retrain facts."""
    import keras

    final = study.final
    has_final = final is not None and Path(final.model_path).exists()
    if trial is None:
        number = final.trial_number if final is not None and has_final else study.best_trial.number
    else:
        number = trial
    records = {record.number: record for record in study.trials()}
    record = records.get(number)
    if record is None:
        known = f"0..{max(records)}" if records else "none"
        raise ConfigError(f"study {study.name!r} has no trial {number} (trials: {known})")
    if final is not None and has_final and final.trial_number == number:
        model = keras.models.load_model(final.model_path, compile=False)
        return (
            record,
            model,
            f"{final.kept_summary}, the final model of study {study.name!r}",
            None,
        )
    best_file = study.trial_model_path(number)
    if not has_final and number == study.best_trial.number and best_file.exists():
        model = keras.models.load_model(best_file, compile=False)
        return (
            record,
            model,
            (
                f"the best trial's ({number}) own model, trained on the training split only (the search "
                "ran without the final retrain)"
            ),
            None,
        )
    if record.status is not TrialStatus.COMPLETE or record.config is None:
        completed = [r.number for r in study.ranked()]
        raise ConfigError(
            f"trial {number} of study {study.name!r} is {record.status}, not complete; export a completed "
            f"trial ({', '.join(map(str, completed[:10])) or 'none yet'}{' ...' if len(completed) > 10 else ''})"
        )
    if not same_data:
        raise StudyMismatchError(
            f"retraining trial {number} needs study {study.name!r}'s data; the data given has another "
            "fingerprint (other images, validation fraction or seed)"
        )
    return _retrain(study, record, data=data, seed=seed, say=say)


def _retrain(
    study: Study, record: TrialRecord, *, data: Dataset, seed: int, say: Callable[[str], None]
) -> tuple[TrialRecord, keras.Model, str, dict[str, Any]]:
    from autocnn.core.final_model import FinalSource, retrain_guarded
    from autocnn.core.test_time import with_chosen_views
    from autocnn.training import compile_for_export

    config = record.config
    assert config is not None
    best = study.final.trial_number if study.final is not None else study.best_trial.number
    epochs = config.training.epochs
    say(
        f"trial {record.number} has no saved model (the search keeps only the best's, trial {best}); "
        f"retraining its configuration on train + validation ({len(data.x_train) + len(data.x_val)} "
        f"images, {epochs} epochs, seed {seed})"
    )
    started = time.monotonic()
    kept = retrain_guarded(
        record,
        data,
        trial_model_path=study.trial_model_path(record.number),
        epochs=epochs,
        deadline=None,
        seed=seed,
        balanced_validation=study.balanced_validation,
        say=say,
    )
    if not kept.acceptable:
        raise ExportError(
            f"retraining trial {record.number} did not hold up: {kept.reason}; nothing was exported. Export "
            "the study's final model (no `trial`) or another trial"
        )
    if kept.reason:
        say(kept.reason)
    model, choice = (
        with_chosen_views(kept, data, seed=seed, balanced=study.balanced_validation)
        if study.test_time_augmentation
        else (kept.model, None)
    )
    compile_for_export(model)
    seconds = time.monotonic() - started
    say(f"retrained trial {record.number} in {seconds:.1f} s")
    how = {
        FinalSource.RETRAINED_LOWER_LR: ", at a lower learning rate",
        FinalSource.RETRAINED_SHORTER: ", for fewer epochs after a longer retrain overfitted",
    }.get(kept.source, "")
    source = (
        f"trial {record.number}'s configuration of study {study.name!r}, retrained for this export on train "
        f"+ validation with seed {seed}{how} (the search keeps only the best trial's model, trial {best})"
    )
    if kept.source is FinalSource.TRIAL_MODEL:
        source = f"trial {record.number}: {kept.source.description}"
    if kept.reason:
        source += f"; {kept.reason}"
    if choice is not None and choice.kept:
        source += f"; it averages {choice.views.count} views of each image ({choice.views.description})"
    training = {
        "epochs": kept.epochs,
        "seconds": round(seconds, 2),
        "seed": seed,
        "data": f"train + validation less {kept.guard.images} held-back images"
        if kept.source is not FinalSource.TRIAL_MODEL
        else "the training split",
        "held_back_accuracy": round(kept.guard.kept, 4),
    }
    if choice is not None:
        training["views"] = choice.views.count if choice.kept else 1
        training["held_back_accuracy_of_views"] = round(choice.guard_accuracy, 4)
    return record, model, source, training


def _metrics(
    study: Study, record: TrialRecord, model: keras.Model, *, data: Dataset, retrained: bool
) -> dict[str, float]:
    """Return the trial's search metrics and the exported model's test accuracy and loss."""
    from autocnn.training import compile_for_export, evaluate_model

    metrics: dict[str, float] = {
        f"trial_{key}": value
        for key, value in record.metrics.items()
        if key in ("val_accuracy", "val_loss", "accuracy", "loss", "params", "flops", "train_time")
    }
    final = study.final
    if (
        final is not None
        and final.trial_number == record.number
        and not retrained
        and Path(final.model_path).exists()
    ):
        metrics.update({"test_accuracy": final.test_accuracy, "test_loss": final.test_loss})
        return metrics
    compile_for_export(model)
    test = evaluate_model(model, data.x_test, data.y_test)
    metrics.update({"test_accuracy": test["accuracy"], "test_loss": test["loss"]})
    return metrics
