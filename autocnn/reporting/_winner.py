"""The winner: why it won, its layers and configuration, and how its final model does on test data."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from autocnn._format import (
    format_count,
    format_metric,
    format_number_of,
    format_seconds,
    format_si,
    format_value,
)
from autocnn.core.final_model import FinalSource
from autocnn.core.records import RungResult, TrialRecord
from autocnn.errors import AutoCNNError
from autocnn.reporting._document import (
    Block,
    Cell,
    CodeBlock,
    Figure,
    Note,
    Paragraph,
    Table,
    code,
)
from autocnn.reporting._facts import Scalar, StudyFacts, is_numeric, objective_value
from autocnn.reporting._importance import Importances
from autocnn.reporting._plotting import WINNER_COLOR, ellipsize, frame_image, house_style, new_figure, save

if TYPE_CHECKING:
    from autocnn.core.study import FinalResult, Study
    from autocnn.data import Dataset


@dataclass(frozen=True)
class TestAnalysis:
    """Predictions of a model on the test split and the counts derived from them."""

    labels: np.ndarray
    predictions: np.ndarray
    confidence: np.ndarray
    class_names: tuple[str, ...]

    @property
    def accuracy(self) -> float:
        """Share of test images classified correctly."""
        return float(np.mean(self.labels == self.predictions)) if len(self.labels) else float("nan")

    def confusion(self) -> np.ndarray:
        """Return counts[true, predicted]."""
        size = len(self.class_names)
        matrix = np.zeros((size, size), dtype="int64")
        np.add.at(matrix, (self.labels, self.predictions), 1)
        return matrix

    def per_class(self) -> list[tuple[float, float, float, int]]:
        """Return (precision, recall, F1, support) of each class (NaN where undefined)."""
        matrix = self.confusion()
        out = []
        for index in range(len(self.class_names)):
            true_positive = float(matrix[index, index])
            predicted = float(matrix[:, index].sum())
            support = int(matrix[index].sum())
            precision = true_positive / predicted if predicted else float("nan")
            recall = true_positive / support if support else float("nan")
            f1 = (
                2 * precision * recall / (precision + recall)
                if predicted and support and precision + recall > 0
                else float("nan")
            )
            out.append((precision, recall, f1, support))
        return out


def analyze_test(model: Any, dataset: Dataset) -> TestAnalysis:
    """Predict the test split with ``model``."""
    from autocnn.training import predict_outputs

    probabilities = np.asarray(predict_outputs(model, dataset.x_test), dtype="float64")
    return TestAnalysis(
        labels=np.asarray(dataset.y_test, dtype="int64"),
        predictions=probabilities.argmax(axis=1).astype("int64"),
        confidence=probabilities.max(axis=1),
        class_names=tuple(str(name) for name in dataset.class_names),
    )


def _rung_decision(facts: StudyFacts, winner: int) -> str | None:
    """Say how the final rung chose ``winner`` over the other trials it judged; None when it did not choose."""
    judged = sorted(
        (result for result in facts.rung if result.completed), key=lambda result: -result.val_accuracy
    )
    if len(judged) < 2 or judged[0].trial_number != winner:
        return None
    first, second = judged[0], judged[1]

    def in_trials(result: RungResult) -> str:
        return "-" if result.trial_val_accuracy is None else f"{result.trial_val_accuracy:.4f}"

    return (
        f"The final rung decided: trained again for {format_number_of(first.epochs, 'epoch')} on all "
        f"{first.train_images:,} training images, it reached {first.val_accuracy:.4f} validation accuracy, "
        f"against {second.val_accuracy:.4f} for trial {second.trial_number}, the next best there "
        f"(in the trials themselves: {in_trials(first)} against {in_trials(second)})."
    )


def why_bullets(facts: StudyFacts, importances: Importances, values: dict[str, list[Scalar]]) -> list[str]:
    """Explain in a few sentences what sets the winner apart, from the records alone."""
    best = facts.best
    if best is None:
        return []
    metric = facts.metrics[0]
    label = facts.label(metric)
    bullets: list[str] = []
    winner_value = objective_value(best, 0)
    if facts.multi_objective:
        bullets.append(
            f"It is one of {len(facts.pareto)} trials on the Pareto front (no other trial is better in every "
            f"objective); among them it has the best {label}, so it was the one retrained."
        )
    elif (decided := _rung_decision(facts, best.number)) is not None:
        bullets.append(decided)
    elif len(facts.ranked) > 1:
        runner = facts.ranked[1]
        runner_value = objective_value(runner, 0)
        if winner_value is not None and runner_value is not None:
            if winner_value == runner_value:
                bullets.append(
                    f"It tied with trial {runner.number} at {label} {format_metric(metric, winner_value)}; "
                    "the earlier trial ranks first."
                )
            else:
                bullets.append(
                    f"It beat the runner-up, trial {runner.number}, by {abs(winner_value - runner_value):.4f} "
                    f"{label} ({format_metric(metric, winner_value)} against {format_metric(metric, runner_value)})."
                )
    else:
        bullets.append("It is the only completed trial, so it won by default.")
    first = next(iter(importances.by_metric.get(metric, {}).items()), None)
    scores = [objective_value(record, 0) for record in facts.ranked]
    for name in importances.order[:3]:
        if name not in values:
            continue
        importance = importances.by_metric.get(metric, {}).get(name, 0.0)
        bullets.append(
            f"{code(name)} = {code(_short(values[name][0]))} (importance {importance:.2f}): "
            + _evidence(values[name], scores, label=facts.label(metric), maximize=facts.maximize(0))
        )
    if first is None and values:
        bullets.append(
            "Which parameters mattered cannot be estimated yet: "
            + (importances.note or "too few completed trials.").rstrip(".")
            + "."
        )
    sizes = [record.params for record in facts.ranked if record.params is not None]
    if best.params is not None and len(sizes) > 1:
        bullets.append(
            f"It has {format_count(best.params)} parameters (completed trials ranged from {format_count(min(sizes))} "
            f"to {format_count(max(sizes))}) and {format_si(best.flops)} FLOPs per image."
        )
    final = facts.final
    if final is not None and final.trial_number == best.number:
        searched = (
            f" (validation accuracy in the search: {best.val_accuracy:.4f})"
            if best.val_accuracy is not None
            else ""
        )
        if final.kept is FinalSource.TRIAL_MODEL:
            bullets.append(
                f"The final retrain did not hold up, so the final model is {final.kept.description}: "
                f"{final.kept_reason}. It scored test accuracy {final.test_accuracy:.4f}{searched}."
            )
        else:
            bullets.append(
                f"The final model, {final.kept.description} for {format_number_of(final.epochs, 'epoch')} "
                f"({format_seconds(final.train_seconds)}), scored test accuracy {final.test_accuracy:.4f}{searched}."
            )
            if final.guard_images:
                bullets.append(_guard_sentence(final, balanced=facts.balanced_validation))
        if final.views_summary:
            bullets.append(final.views_summary)
    return bullets


def _guard_sentence(final: FinalResult, *, balanced: bool) -> str:
    """Return how the retrain was checked on the validation images it did not train on.

    ``balanced``: the check scored balanced accuracy, as the search did.
    """
    if final.kept_reason:
        return f"It was checked on {final.guard_images:,} held-back validation images: {final.kept_reason}."
    trial = (
        f", the trial's own model {final.trial_guard_accuracy:.4f}"
        if final.trial_guard_accuracy is not None
        else ""
    )
    accuracy = "n/a" if final.guard_accuracy is None else f"{final.guard_accuracy:.4f}"
    return (
        f"Checked on {final.guard_images:,} validation images held back from the retrain, it scored "
        f"{'balanced accuracy ' if balanced else ''}{accuracy}{trial}, so the retrain was kept."
    )


def _short(value: Scalar) -> str:
    return f"{value:.3g}" if isinstance(value, float) else format_value(value)


def _evidence(column: list[Scalar], scores: list[float | None], *, label: str, maximize: bool) -> str:
    """Describe how the winner's value of one parameter relates to the other trials' scores (named ``label``)."""
    winner = column[0]
    few_values = len({str(value) for value in column}) <= 6 and all(
        isinstance(value, int) for value in column
    )
    if is_numeric(column) and not few_values:
        top = sorted(float(value) for value in column[:3])
        tried = [float(value) for value in column]
        used = f"all used {top[0]:.3g}" if top[0] == top[-1] else f"used {top[0]:.3g} to {top[-1]:.3g}"
        return (
            f"the top {min(3, len(column))} trials {used}; "
            f"the completed trials tried {min(tried):.3g} to {max(tried):.3g}."
        )
    same = [
        score
        for value, score in zip(column, scores, strict=True)
        if score is not None and value == winner and type(value) is type(winner)
    ]
    other = [
        score
        for value, score in zip(column, scores, strict=True)
        if score is not None and not (value == winner and type(value) is type(winner))
    ]
    if not other:
        return f"every completed trial used it (mean {label} {statistics.fmean(same):.4f})."
    return (
        f"the {format_number_of(len(same), 'completed trial')} with this value averaged {label} "
        f"{statistics.fmean(same):.4f}, the {len(other)} with other values {statistics.fmean(other):.4f}."
    )


def layer_table(record: TrialRecord, facts: StudyFacts) -> Table | None:
    """Return the winner's layers with output shapes, parameters and FLOPs (None if unknown)."""
    from autocnn.model import analyze_architecture

    shape = facts.input_shape
    classes = facts.info.num_classes or len(facts.class_names)
    if record.config is None or shape is None or not classes:
        return None
    try:
        architecture = analyze_architecture(record.config, input_shape=shape, num_classes=int(classes))
    except AutoCNNError:
        return None
    rows = [
        (
            Cell(layer.name, code=True),
            Cell(layer.kind),
            Cell(" × ".join(str(size) for size in layer.output_shape)),
            Cell(format_count(layer.params)),
            Cell(format_si(layer.flops) if layer.flops else "0"),
        )
        for layer in architecture.layers
    ]
    rows.append(
        (
            Cell("total"),
            Cell(""),
            Cell(""),
            Cell(format_count(architecture.params)),
            Cell(format_si(architecture.flops)),
        )
    )
    return Table(
        headers=("layer", "type", "output shape", "parameters", "FLOPs"),
        rows=tuple(rows),
        align=("left", "left", "left", "right", "right"),
        caption=f"Input {' × '.join(str(size) for size in shape)}; FLOPs per image (2 × multiply-adds).",
    )


def configuration_block(record: TrialRecord) -> CodeBlock | None:
    """Return the winner's full configuration as YAML."""
    if record.config is None:
        return None
    text = yaml.safe_dump(record.config.to_dict(), sort_keys=False, default_flow_style=None)
    return CodeBlock(
        text=text, language="yaml", summary="Full configuration (YAML, as autocnn reads it back)"
    )


def load_winner_model(study: Study, facts: StudyFacts) -> tuple[Any, str, int | None]:
    """Load the winner's saved model; return it, a sentence saying which model it is, and its trial.

    Raises SearchError (from :meth:`Study.best_model`) when no model was saved.
    """
    model = study.best_model()
    final = facts.final
    if final is not None and Path(final.model_path).exists():
        return (
            model,
            f"the final model of trial {final.trial_number}, {final.kept.description}",
            final.trial_number,
        )
    best = facts.best
    return (
        model,
        "the best trial's own model saved during the search (trained on the training data only; "
        "the search did not retrain it)",
        None if best is None or facts.multi_objective else best.number,
    )


def test_blocks(
    study: Study, facts: StudyFacts, dataset: Dataset | None, directory: Path, *, examples: int = 24
) -> list[Block]:
    """Analyze the winner's saved model on the test split: accuracy, confusion, errors, Grad-CAM."""
    from autocnn.errors import SearchError

    try:
        model, which, trial = load_winner_model(study, facts)
    except SearchError as error:
        return [Note(f"No test-set analysis: {error}.", kind="warning")]
    except (OSError, ValueError) as error:  # a damaged or foreign model file: report it, keep the rest
        return [Note(f"No test-set analysis: the saved model could not be loaded ({error}).", kind="warning")]
    if dataset is None:
        try:
            dataset = _load_dataset(facts)
        except AutoCNNError as error:
            return [Note(f"No test-set analysis: the dataset could not be loaded ({error}).", kind="warning")]
    blocks: list[Block] = []
    difference = None if facts.info.dataset is None else facts.info.dataset.mismatch(dataset)
    if difference is not None:
        blocks.append(
            Note(
                f"{difference[0].upper()}{difference[1:]}: the numbers below describe the data loaded now.",
                kind="warning",
            )
        )
    best = facts.best
    if best is not None and trial is not None and trial != best.number:
        blocks.append(
            Note(
                f"The saved model belongs to trial {trial}, but the best trial is now {best.number} (the study "
                "went on after the retrain). Run the search again to retrain the new winner.",
                kind="warning",
            )
        )
    try:
        analysis = analyze_test(model, dataset)
    except ValueError as error:  # e.g. the model's input shape does not fit the data loaded now
        blocks.append(
            Note(f"No test-set analysis: the model cannot read this data ({error}).", kind="warning")
        )
        return blocks
    final = facts.final
    summary = (
        f"Analyzed model: {which}. Test accuracy {analysis.accuracy:.4f} "
        f"({int(np.sum(analysis.labels == analysis.predictions)):,} of {len(analysis.labels):,} test images)."
    )
    if final is not None and trial == final.trial_number:
        summary += f" Test loss {final.test_loss:.4f}."
    blocks.append(Paragraph(summary))
    blocks.append(_confusion_figure(analysis, directory))
    blocks.append(per_class_table(analysis))
    mistakes = _mistakes_figure(analysis, dataset, directory, limit=examples)
    blocks.append(
        mistakes if mistakes is not None else Paragraph("The model classified every test image correctly.")
    )
    blocks.extend(_gradcam_blocks(model, analysis, dataset, directory))
    return blocks


def _load_dataset(facts: StudyFacts) -> Dataset:
    from autocnn.errors import DataError

    if facts.info.dataset is None:
        raise DataError("the study does not record its dataset")
    return facts.info.dataset.load(study=facts.name)


def per_class_table(analysis: TestAnalysis) -> Table:
    """Return precision, recall, F1 and support of each class."""
    rows = []
    for name, (precision, recall, f1, support) in zip(
        analysis.class_names, analysis.per_class(), strict=True
    ):
        rows.append(
            (
                Cell(name),
                Cell(format_metric("precision", precision), sort=precision),
                Cell(format_metric("recall", recall), sort=recall),
                Cell(format_metric("f1", f1), sort=f1),
                Cell(format_count(support), sort=support),
            )
        )
    return Table(
        headers=("class", "precision", "recall", "F1", "test images"),
        rows=tuple(rows),
        align=("left", "right", "right", "right", "right"),
        caption="Per-class results on the test split (precision: share of the images predicted as the class "
        "that are the class; recall: share of the class's images found).",
        sortable=True,
    )


def _confusion_figure(analysis: TestAnalysis, directory: Path) -> Figure:
    matrix = analysis.confusion()
    size = len(analysis.class_names)
    rows = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, rows, out=np.zeros(matrix.shape, dtype="float64"), where=rows > 0)
    names = [ellipsize(name, width=14) for name in analysis.class_names]
    side = min(3.6 + 0.3 * size, 12.0)
    with house_style():
        figure = new_figure(side + 1.5, side)
        ax = figure.subplots()
        image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        ax.grid(False)
        if size <= 30:
            ax.set_xticks(range(size), names, rotation=45 if max(map(len, names)) > 3 else 0, ha="right")
            ax.set_yticks(range(size), names)
            if max(map(len, names)) <= 3:
                for tick in ax.get_xticklabels():
                    tick.set_horizontalalignment("center")
        if size <= 20:
            for true in range(size):
                for predicted in range(size):
                    count = int(matrix[true, predicted])
                    if count:
                        ax.text(
                            predicted,
                            true,
                            str(count),
                            ha="center",
                            va="center",
                            fontsize=9 if size <= 12 else 7,
                            color="white" if shares[true, predicted] > 0.5 else "#222222",
                        )
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        ax.set_title("Confusion matrix on the test split")
        colorbar = figure.colorbar(image, ax=ax, fraction=0.046, pad=0.02)
        colorbar.set_label("share of the true class's images")
        save(figure, directory / "confusion_matrix.png")
    caption = "Confusion matrix (colour: share of each true class; numbers: image counts)"
    return Figure(filename="confusion_matrix.png", alt=caption, caption=caption)


def _show(ax: Any, image: np.ndarray) -> None:
    if image.shape[-1] == 1:
        ax.imshow(
            image[..., 0],
            cmap="gray_r" if image.mean() < 0.5 else "gray",
            vmin=0,
            vmax=1,
            interpolation="nearest",
        )
    else:
        ax.imshow(np.clip(image, 0, 1), interpolation="nearest")
    frame_image(ax)


def _mistakes_figure(
    analysis: TestAnalysis, dataset: Dataset, directory: Path, *, limit: int
) -> Figure | None:
    wrong = np.flatnonzero(analysis.labels != analysis.predictions)
    if len(wrong) == 0:
        return None
    chosen = wrong[np.argsort(-analysis.confidence[wrong], kind="stable")][:limit]
    columns = min(8, len(chosen))
    rows = int(np.ceil(len(chosen) / columns))
    names = analysis.class_names
    with house_style():
        figure = new_figure(1.45 * columns + 0.3, 1.75 * rows + 0.6)
        axes = figure.subplots(rows, columns, squeeze=False)
        for slot, ax in enumerate(axes.flat):
            if slot >= len(chosen):
                ax.set_visible(False)
                continue
            index = int(chosen[slot])
            _show(ax, np.asarray(dataset.x_test[index]))
            ax.set_title(
                f"true: {ellipsize(names[analysis.labels[index]], width=11)}\n"
                f"pred: {ellipsize(names[analysis.predictions[index]], width=11)} "
                f"({analysis.confidence[index]:.0%})",
                fontsize=8,
                fontweight="normal",
                color=WINNER_COLOR,
            )
        figure.suptitle(
            f"Misclassified test images, most confident mistakes first ({len(chosen)} of {len(wrong)})",
            fontweight="bold",
        )
        save(figure, directory / "misclassified.png")
    caption = f"{len(chosen)} of the {len(wrong)} misclassified test images, with true and predicted class"
    return Figure(filename="misclassified.png", alt=caption, caption=caption)


def _gradcam_blocks(model: Any, analysis: TestAnalysis, dataset: Dataset, directory: Path) -> list[Block]:
    from autocnn.reporting._gradcam import gradcam_heatmaps

    right = np.flatnonzero(analysis.labels == analysis.predictions)
    wrong = np.flatnonzero(analysis.labels != analysis.predictions)
    picked: list[int] = []
    seen: set[int] = set()
    for index in right[np.argsort(-analysis.confidence[right], kind="stable")]:
        if int(analysis.labels[index]) not in seen:
            picked.append(int(index))
            seen.add(int(analysis.labels[index]))
        if len(picked) == 4:
            break
    picked += [int(index) for index in wrong[np.argsort(-analysis.confidence[wrong], kind="stable")][:4]]
    if not picked:
        return []
    images = np.asarray(dataset.x_test[picked], dtype="float32")
    try:
        heatmaps, _, layer = gradcam_heatmaps(model, images)
    except ValueError as error:
        return [Paragraph(f"No Grad-CAM maps: {error}.")]
    names = analysis.class_names
    with house_style():
        figure = new_figure(1.5 * len(picked) + 0.7, 3.9)
        axes = figure.subplots(2, len(picked), squeeze=False)
        for column, index in enumerate(picked):
            image = images[column]
            correct = analysis.labels[index] == analysis.predictions[index]
            _show(axes[0, column], image)
            axes[0, column].set_title(
                f"true: {ellipsize(names[analysis.labels[index]], width=11)}\n"
                f"pred: {ellipsize(names[analysis.predictions[index]], width=11)} ({analysis.confidence[index]:.0%})",
                fontsize=8,
                fontweight="normal",
                color="#222222" if correct else WINNER_COLOR,
            )
            _show(axes[1, column], image)
            height, width = image.shape[:2]
            axes[1, column].imshow(
                heatmaps[column],
                cmap="jet",
                alpha=0.5,
                vmin=0,
                vmax=1,
                interpolation="bilinear",
                extent=(-0.5, width - 0.5, height - 0.5, -0.5),
            )
        axes[0, 0].set_ylabel("image", fontsize=9)
        axes[1, 0].set_ylabel("Grad-CAM", fontsize=9)
        figure.suptitle(
            "Where the model looked (Grad-CAM of the predicted class; red = most influence)",
            fontweight="bold",
        )
        save(figure, directory / "gradcam.png")
    caption = (
        f"Grad-CAM heat maps on the output of layer {layer}: "
        f"{min(len(right), 4)} confidently correct and {min(len(wrong), 4)} confidently wrong test images"
    )
    return [
        Figure(filename="gradcam.png", alt=caption, caption=caption),
        Paragraph(
            "Read the maps as a hint, not a proof: Grad-CAM weights the feature maps of the last convolution "
            f"({code(layer)}) by how much they raise the predicted class's score; with small inputs these "
            "maps are coarse."
        ),
    ]
