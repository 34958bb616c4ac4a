"""Turn the data, the budget and this machine into a search space, each derived value with its reason."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from autocnn._format import format_number_of, format_seconds
from autocnn.config import TrialConfig
from autocnn.core.rung import MIN_GAIN
from autocnn.planning._probe import StepCost, probe_step_cost
from autocnn.planning._render import render_plan
from autocnn.space import SearchSpace, format_duration, space_from_dict

if TYPE_CHECKING:
    from autocnn.data import Dataset

LAST_MAP_PX = 3  # downsample until the last feature map is about this wide
MAX_BLOCKS = 5
STEM_STRIDE_FROM_PX = 96  # from this size a strided first conv halves the map before the blocks
WIDTHS = (8, 16, 24, 32, 48, 64)
# networks about 8x apart in FLOPs, from the narrowest to the widest the planner may allow
PROBED_NETWORKS = ((WIDTHS[0], False), (WIDTHS[2], False), (WIDTHS[-1], False), (WIDTHS[-1], True))
CHANNEL_MULTIPLE = 8  # oneDNN's and cuDNN's kernels run channel counts off this multiple far slower
MAX_FILTERS = 512
RETRAIN_SHARE = 0.5
RETRAIN_EPOCHS = (60, 45, 30, 20, 15, 10, 6)
TARGET_TRIALS = 30
TRIAL_EPOCHS = (10, 8, 6, 5, 4, 3, 2)
TRIAL_FRACTIONS = (1.0, 0.5, 0.3, 0.2, 0.1, 0.05)
MIN_TRIAL_IMAGES = 1000
# Trials train for at least this share of the retrain's epochs, on fewer images if need be: how
# much augmentation and regularisation pay depends on the passes over the same images, and
# trials of a few passes chose none that a long retrain then overfitted without.
TRIAL_SHARE_OF_RETRAIN_EPOCHS = 1 / 6
EVALUATION_COST = 1 / 3  # an evaluated image costs about a third of a trained one
EPOCH_OVERHEAD_S = 0.5  # an epoch's own cost (input pipeline, validation set-up), whatever its size
SMALL_DATA_IMAGES = 2_000
LARGE_DATA_IMAGES = 20_000
TRANSLATION_FROM_PX = 16  # below this a 6% shift is under a pixel
RUNG_CANDIDATES = 3
RUNG_SHARE = 0.15  # of the budget, taken from the trials' share
RUNG_EPOCHS = (30, 20, 15, 12, 10, 8, 6, 5, 4)
CHECK_SHARE = 0.1  # of the budget, taken from the trials' share, for the augmentation check
BLOCK_ACTIVATIONS = ("relu", "swish")  # cheapest first: swish's fit steps took 1.2-1.5x relu's here
BLOCK_DROPOUTS = (0.0, 0.1, 0.2)
# the largest class this many times the smallest: plain accuracy hides what the rare classes cost
UNBALANCED_RATIO = 2.0


@dataclass(frozen=True)
class DataFacts:
    """What the planner reads from the data: image size, channels, images, classes and their balance."""

    height: int
    width: int
    channels: int
    train_images: int
    validation_images: int
    classes: int
    smallest_class_share: float
    largest_class_share: float

    @classmethod
    def of(cls, dataset: Dataset) -> DataFacts:
        """Return the facts of ``dataset``."""
        height, width, channels = dataset.input_shape
        counts = np.bincount(dataset.y_train, minlength=dataset.num_classes)
        shares = counts / max(int(counts.sum()), 1)
        return cls(
            height=height,
            width=width,
            channels=channels,
            train_images=len(dataset.x_train),
            validation_images=len(dataset.x_val),
            classes=dataset.num_classes,
            smallest_class_share=float(shares.min()),
            largest_class_share=float(shares.max()),
        )

    @property
    def side(self) -> int:
        """The shorter side of an image, in pixels."""
        return min(self.height, self.width)


@dataclass(frozen=True)
class SpacePlan:
    """A planned search space, why each derived value is what it is, and the budget it was planned for."""

    space: SearchSpace
    reasons: dict[str, str]  # dotted entry (e.g. ``model.blocks.count``) -> why
    budget_s: float
    budget_given: bool
    step_cost: StepCost
    yaml: str  # the space as a space file, each derived value commented with its reason
    summary: str  # one line for a console


@dataclass(frozen=True)
class _Skeleton:
    """The shape every planned network shares: its depth, stem, batch size and head, for the data."""

    blocks: int
    stem: bool
    batch: int
    facts: DataFacts

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """The images' shape."""
        return (self.facts.height, self.facts.width, self.facts.channels)

    def config(self, width: int, *, large: bool, costliest: bool = False) -> TrialConfig:
        """Return the network at base ``width``: its narrowest options, or its widest when ``large``.

        ``costliest`` gives its layers the options that cost the most time per FLOP (the slower
        activation, the most dropout), as a probe for trials that may choose them.
        """
        pick = -1 if large else 0
        blocks = [
            {
                "filters": _filters(width, number)[pick],
                "batch_norm": True,
                "convs": 2 if large else 1,
                "strides": 2 if self.stem and number == 1 else 1,
                **({"activation": BLOCK_ACTIVATIONS[-1], "dropout": BLOCK_DROPOUTS[-1]} if costliest else {}),
            }
            for number in range(1, self.blocks + 1)
        ]
        head = {"pooling": "global_avg", "dense_units": [_head_units(self.facts.classes)[pick]]}
        return TrialConfig.from_dict(
            {"model": {"blocks": blocks, "head": head}, "training": {"batch_size": self.batch}}
        )

    def probe_networks(self) -> list[TrialConfig]:
        """Return the networks the machine probe times: ``PROBED_NETWORKS`` with their costliest options."""
        return [self.config(width, large=large, costliest=True) for width, large in PROBED_NETWORKS]

    def flops(self, width: int, *, large: bool) -> float:
        """Return the forward FLOPs of :meth:`config`."""
        from autocnn.model import analyze_architecture

        config = self.config(width, large=large)
        return float(
            analyze_architecture(config, input_shape=self.input_shape, num_classes=self.facts.classes).flops
        )


@dataclass(frozen=True)
class _Fidelity:
    """How the budget is spent: the base width, the FLOPs limit, the trials' and the retrain's epochs, the seconds."""

    width: int
    max_flops: int
    retrain_epochs: int  # at the typical width
    retrain_cap: int  # the space's search.retrain_epochs: the retrain gets as many as fit its share
    epochs: int
    fraction: float
    planned_s: float
    rung_epochs: int = 0  # 0: no final rung
    check: tuple[int, float] | None = None  # the augmentation check's epochs and training fraction


def plan_space(
    dataset: Dataset,
    *,
    timeout: float | None = None,
    max_trials: int | None = None,
    step_cost: StepCost | None = None,
    name: str | None = None,
) -> SpacePlan:
    """Plan a search space for ``dataset`` within ``timeout`` seconds on this machine.

    Without ``timeout`` the plan takes a default budget for the data, which the space records as
    ``search.timeout``; with ``max_trials`` instead, it has no timeout and plans that many trials
    of the default budget's networks, about as long as that budget gives each. ``step_cost``
    replaces the probe of this machine (tests, or a plan for another machine).

    Example:
        >>> from autocnn.data import load_dataset
        >>> plan = plan_space(load_dataset("digits"), timeout=300)  # doctest: +SKIP
        >>> print(plan.yaml)  # doctest: +SKIP

    """
    facts = DataFacts.of(dataset)
    reasons: dict[str, str] = {}
    budget_s = timeout if timeout is not None else default_budget(facts)
    reasons["search.timeout"] = (
        "the budget asked for"
        if timeout is not None
        else f"default budget for {facts.train_images:,} images; choose another with --timeout"
    )
    skeleton = _skeleton(facts, reasons)
    cost = step_cost or probe_step_cost(
        skeleton.probe_networks(),
        input_shape=skeleton.input_shape,
        num_classes=facts.classes,
    )
    augmentation = _augmentation(facts, reasons)
    unbalanced = _class_balance(facts, reasons)
    fidelity = _fidelity(
        skeleton,
        cost,
        budget_s=budget_s,
        max_trials=max_trials,
        budget_given=timeout is not None,
        augmentations=math.prod(len(values) for values in augmentation.values()),
        reasons=reasons,
    )
    document = _space_document(
        name=name or "planned",
        skeleton=skeleton,
        fidelity=fidelity,
        augmentation=augmentation,
        unbalanced=unbalanced,
        budget_s=budget_s if timeout is not None or max_trials is None else None,
        max_trials=max_trials,
    )
    planned_s = fidelity.planned_s
    document["description"] = (
        f"Planned for {facts.height}x{facts.width}x{facts.channels} images, {facts.classes} classes, "
        f"{facts.train_images:,} training images, a {_budget(planned_s)} budget on this machine ({cost.device})."
    )
    if timeout is not None:
        budget_note = f"budget {_budget(planned_s)}"
    elif max_trials is not None:
        budget_note = f"about {_minutes(planned_s)} for {format_number_of(max_trials, 'trial')}"
    else:
        budget_note = f"budget {_budget(planned_s)} (the default; choose another with --timeout)"
    summary = (
        f"planned space: {reasons['model.blocks.count']}, widths from {fidelity.width}, trials of "
        f"{fidelity.epochs} epochs on {fidelity.fraction:.0%} of the training images, "
        + (
            f"the top {RUNG_CANDIDATES} again for {fidelity.rung_epochs} epochs on all of them, "
            if fidelity.rung_epochs
            else ""
        )
        + (f"the winner with each augmentation for {fidelity.check[0]} epochs, " if fidelity.check else "")
        + ("every class counting the same (unbalanced classes), " if unbalanced else "")
        + (
            f"a retrain of up to {fidelity.retrain_cap} epochs ({fidelity.retrain_epochs} at the typical width); "
            if fidelity.retrain_cap > fidelity.retrain_epochs
            else f"a retrain of {fidelity.retrain_epochs} epochs; "
        )
        + budget_note
    )
    return SpacePlan(
        space=space_from_dict(document, source="planned space"),
        reasons=reasons,
        budget_s=planned_s,
        budget_given=timeout is not None,
        step_cost=cost,
        yaml=render_plan(document, reasons=reasons),
        summary=summary,
    )


def _skeleton(facts: DataFacts, reasons: dict[str, str]) -> _Skeleton:
    """Return the depth (from the image size), the stem and the batch size, with their reasons."""
    stem = facts.side >= STEM_STRIDE_FROM_PX
    side = facts.side // 2 if stem else facts.side
    blocks = block_count(side)
    reasons["model.blocks.count"] = (
        f"{format_number_of(blocks, 'pooling block')}: {facts.side} px -> {side // 2**blocks} px"
        + (" after a strided first conv" if stem else "")
        + (f"; {blocks - 1} also searched" if blocks > 1 else "")
    )
    reasons["training.batch_size"] = f"{facts.train_images:,} training images"
    return _Skeleton(blocks=blocks, stem=stem, batch=batch_size(facts), facts=facts)


def _fidelity(
    skeleton: _Skeleton,
    cost: StepCost,
    *,
    budget_s: float,
    max_trials: int | None,
    budget_given: bool,
    augmentations: int,
    reasons: dict[str, str],
) -> _Fidelity:
    """Return the widths, FLOPs limit and epochs that fit the budget on this machine, with their reasons.

    A budgeted plan whose space searches ``augmentations`` (> 1) combinations keeps a share of the
    budget for the augmentation check, when it fits.

    With ``max_trials`` but no budget given, the networks are those of the default budget, each
    trial gets what one of its trials gets, and the retrain shrinks with the search (to no fewer
    epochs than a trial's), so one trial asked for stays quick.
    """
    facts = skeleton.facts
    retrain_s = RETRAIN_SHARE * budget_s
    full_images = facts.train_images + facts.validation_images
    width, retrain_epochs = _width_and_retrain(skeleton.flops, cost, retrain_s=retrain_s, images=full_images)
    # at least the narrowest network, however short the budget: a plan always holds a network to train
    max_flops = max(
        cost.flops_within(retrain_s / (retrain_epochs * full_images)), skeleton.flops(width, large=False)
    )
    reasons["model.blocks.filters"] = (
        f"widths that let {retrain_epochs} retrain epochs fit; doubled per block"
    )
    reasons["search.constraints.max_flops"] = (
        f"{retrain_epochs} epochs of {full_images:,} images fit in {_minutes(retrain_s)} at "
        f"{cost.seconds_per_image(max_flops) * 1e3:.2f} ms per image (measured here, {cost.device})"
    )
    reasons["search.retrain_share"] = f"{100 * RETRAIN_SHARE:.0f}% of the budget for the final retrain"
    reasons["search.pruner"] = (
        f"stops only trials in the lowest quarter: about {TARGET_TRIALS} whole trials are planned"
    )
    search_s = (1 - RETRAIN_SHARE) * budget_s
    counted = max_trials is not None and not budget_given
    trials = TARGET_TRIALS if max_trials is None else max_trials
    # A counted plan's trials are the default budget's; only a budgeted plan has a final rung.
    fidelity_trials = TARGET_TRIALS if counted else trials
    # trials range from the narrowest network to the limit, and the sampler drifts towards the limit
    trial_image_s = cost.seconds_per_image(math.sqrt(skeleton.flops(width, large=False) * max_flops))
    rung_s = RUNG_SHARE * budget_s
    min_epochs = math.ceil(TRIAL_SHARE_OF_RETRAIN_EPOCHS * retrain_epochs)
    check = (
        None
        if counted or augmentations < 2
        else check_fidelity(
            cost.seconds_per_image(max_flops),
            facts=facts,
            check_s=CHECK_SHARE * budget_s,
            runs=augmentations,
            epochs=(retrain_epochs, 2 * min_epochs),
        )
    )
    if check is not None:
        search_s -= CHECK_SHARE * budget_s
        check_epochs, check_fraction = check
        check_images = round(check_fraction * facts.train_images)
        reasons["search.augmentation_check.epochs"] = (
            f"the winner trained as long as the retrain with each of the {augmentations} augmentations "
            "searched: trials too short to show what augmentation gives a long retrain"
        )
        reasons["search.augmentation_check.train_fraction"] = (
            f"{check_images:,} images for each run: the {augmentations} runs of {check_epochs} epochs fit in "
            f"{100 * CHECK_SHARE:.0f}% of the budget"
        )
    rung_epochs = final_rung_epochs(
        cost.seconds_per_image(max_flops),  # the top trials tend to be the largest networks allowed
        facts=facts,
        rung_s=rung_s,
        trial_fidelity=trial_fidelity(
            trial_image_s,
            facts=facts,
            search_s=search_s - rung_s,
            trials=fidelity_trials,
            min_epochs=min_epochs,
        ),
    )
    if rung_epochs:
        search_s -= rung_s
    epochs, fraction = trial_fidelity(
        trial_image_s, facts=facts, search_s=search_s, trials=fidelity_trials, min_epochs=min_epochs
    )
    if counted:
        search_s *= trials / TARGET_TRIALS
        rung_epochs = 0
    if rung_epochs:
        reasons["search.final_rung.epochs"] = (
            f"the top {RUNG_CANDIDATES} trials trained again on all {facts.train_images:,} training images "
            f"fit in {100 * RUNG_SHARE:.0f}% of the budget: {rung_epochs / (epochs * fraction):.1f}x a trial's "
            "training, where regularisation and augmentation show"
        )
    planned_retrain = retrain_epochs
    if counted and trials < TARGET_TRIALS:
        retrain_epochs = min(planned_retrain, max(epochs, round(planned_retrain * trials / TARGET_TRIALS)))
        reasons["search.retrain_epochs"] = (
            f"{planned_retrain} epochs fit the default budget; shortened with the search to {trials} "
            f"of its about {TARGET_TRIALS} trials, to no fewer than a trial's"
        )
        reasons["training.epochs"] = f"what each of the default budget's about {TARGET_TRIALS} trials gets"
    else:
        reasons["search.retrain_epochs"] = "the most that fit in the retrain's share at the typical width"
        reasons["training.epochs"] = f"about {trials} trials fit in the rest of the budget"
    # With a budget, a winner narrower than the typical width retrains longer: the retrain is cut to
    # its share, measured on the winner's trials (a cap of 30 gave one 20 of its 30 minutes).
    retrain_cap = retrain_epochs if counted else RETRAIN_EPOCHS[0]
    if retrain_cap > retrain_epochs:
        reasons["search.retrain_epochs"] = (
            f"as many as fit in the retrain's share for the winner: {retrain_epochs} at the typical width"
        )
    if fraction < 1:
        reasons["search.trial_train_fraction"] = (
            f"trials train on {fraction:.0%} of the training split, judged on all of the validation split"
            + (f"; {epochs} epochs, a sixth of the retrain's, come first" if epochs >= min_epochs else "")
        )
    return _Fidelity(
        width=width,
        max_flops=int(max_flops),
        retrain_epochs=retrain_epochs,
        retrain_cap=retrain_cap,
        epochs=epochs,
        fraction=fraction,
        planned_s=search_s
        + (RUNG_SHARE * budget_s if rung_epochs else 0.0)
        + (CHECK_SHARE * budget_s if check else 0.0)
        + retrain_s * retrain_epochs / planned_retrain,
        rung_epochs=rung_epochs,
        check=check,
    )


def _augmentation(facts: DataFacts, reasons: dict[str, str]) -> dict[str, Any]:
    """Return the augmentation to search, with reasons."""
    augmentation: dict[str, Any] = {"flip": ["none", "horizontal"]}
    reasons["training.augmentation.flip"] = (
        "whether a flip keeps the label cannot be seen in pixels: searched"
    )
    if facts.side >= TRANSLATION_FROM_PX:
        augmentation["translation"] = [0.0, 0.06]
        reasons["training.augmentation.translation"] = "small shifts, searched"
    return augmentation


def _class_balance(facts: DataFacts, reasons: dict[str, str]) -> bool:
    """Return whether the classes are unbalanced; then trials are judged by balanced accuracy and weighting is searched.

    Images to come need not share the training split's class shares: judged by plain accuracy, a
    network that gives up on the rare classes looks good. Whether weighting the loss by class
    pays is searched, judged by that balanced accuracy.
    """
    if facts.largest_class_share < UNBALANCED_RATIO * facts.smallest_class_share:
        return False
    shares = f"{facts.smallest_class_share:.1%} to {facts.largest_class_share:.1%} of the images"
    reasons["search.balanced_validation"] = f"unbalanced classes ({shares}): every class counts the same"
    reasons["training.class_weight"] = "unbalanced classes: a loss that weighs every class the same, searched"
    return True


def default_budget(facts: DataFacts) -> float:
    """Return the budget planned when none is given: 4.5 minutes for small data, up to an hour for large."""
    pixels = facts.train_images * facts.height * facts.width * facts.channels
    if pixels <= 5e6:
        return 270.0  # with the probe, the report and start-up the command ends within 5 minutes
    if pixels <= 1e8:
        return 1800.0
    return 3600.0


def block_count(side: int) -> int:
    """Return how many 2x pooling blocks bring a ``side``-pixel map down to about ``LAST_MAP_PX``."""
    return max(1, min(MAX_BLOCKS, int(math.log2(max(side, 2) / LAST_MAP_PX))))


def batch_size(facts: DataFacts) -> int:
    """Return the batch size: small batches for small data (more steps per epoch), 128 for large."""
    if facts.train_images < SMALL_DATA_IMAGES:
        return 32
    if facts.train_images < LARGE_DATA_IMAGES:
        return 64
    return 128


def trial_fidelity(
    seconds_per_image: float, *, facts: DataFacts, search_s: float, trials: int, min_epochs: int = 1
) -> tuple[int, float]:
    """Return (epochs, training fraction) of the richest trials of which ``trials`` fit in ``search_s``.

    Trials of at least ``min_epochs`` come first, on as many images as fit; only when none fits do
    fewer epochs on more images.
    """
    options = sorted(
        ((epochs, fraction) for epochs in TRIAL_EPOCHS for fraction in TRIAL_FRACTIONS),
        key=lambda option: (option[0] < min(min_epochs, TRIAL_EPOCHS[0]), -option[0] * option[1], -option[0]),
    )
    smallest = min(1.0, MIN_TRIAL_IMAGES / max(facts.train_images, 1))
    for epochs, fraction in options:
        if fraction < smallest and fraction != TRIAL_FRACTIONS[0]:
            continue
        per_epoch = EPOCH_OVERHEAD_S + seconds_per_image * (
            fraction * facts.train_images + EVALUATION_COST * facts.validation_images
        )
        if trials * epochs * per_epoch <= search_s:
            return epochs, fraction
    return TRIAL_EPOCHS[-1], max(smallest, TRIAL_FRACTIONS[-1])


def final_rung_epochs(
    seconds_per_image: float, *, facts: DataFacts, rung_s: float, trial_fidelity: tuple[int, float]
) -> int:
    """Return the most epochs of ``RUNG_CANDIDATES`` runs on all training images within ``rung_s``; 0: no rung pays.

    A rung pays when each run sees at least ``MIN_GAIN`` times the images a trial trains on, in at
    least as many epochs (``trial_fidelity`` is the trials' epochs and training fraction).
    """
    trial_epochs, trial_fraction = trial_fidelity
    per_epoch = EPOCH_OVERHEAD_S + seconds_per_image * (
        facts.train_images + EVALUATION_COST * facts.validation_images
    )
    for epochs in RUNG_EPOCHS:
        if RUNG_CANDIDATES * epochs * per_epoch <= rung_s:
            return epochs if epochs >= max(MIN_GAIN * trial_epochs * trial_fraction, trial_epochs) else 0
    return 0


def check_fidelity(
    seconds_per_image: float, *, facts: DataFacts, check_s: float, runs: int, epochs: tuple[int, int]
) -> tuple[int, float] | None:
    """Return (epochs, training fraction) of ``runs`` augmentation-check runs that fit in ``check_s``; None: none fit.

    ``epochs`` is (the retrain's, the fewest worth a check): the most epochs in that range first, each
    run on as many images as then fit, at least ``MIN_TRIAL_IMAGES`` (or all of them).
    """
    most, fewest = epochs
    least_images = min(MIN_TRIAL_IMAGES, facts.train_images)
    for count in (most, *(value for value in RETRAIN_EPOCHS if fewest <= value < most)):
        images = (check_s / (runs * count) - EPOCH_OVERHEAD_S) / seconds_per_image
        if images >= least_images:
            fraction = min(1.0, math.floor(200 * images / facts.train_images) / 200)
            return count, max(fraction, least_images / facts.train_images)
    return None


def _width_and_retrain(
    flops: Callable[..., float], cost: StepCost, *, retrain_s: float, images: int
) -> tuple[int, int]:
    """Return the widest base width and the most retrain epochs such that the retrain fits."""
    for epochs in RETRAIN_EPOCHS:
        limit = cost.flops_within(retrain_s / (epochs * images))
        # most of the space must fit: the narrow networks within the limit, the widest at most three times over
        fitting = [
            width
            for width in WIDTHS
            if flops(width, large=False) <= limit and flops(width, large=True) <= 3 * limit
        ]
        if fitting and (epochs <= RETRAIN_EPOCHS[2] or len(fitting) >= 3):
            return fitting[-1], epochs
    return WIDTHS[0], RETRAIN_EPOCHS[-1]


def _filters(width: int, block: int) -> list[int]:
    base = width * 2 ** (block - 1)
    return sorted({min(_vector_friendly(base), MAX_FILTERS), min(_vector_friendly(base * 1.5), MAX_FILTERS)})


def _vector_friendly(channels: float) -> int:
    return CHANNEL_MULTIPLE * math.ceil(channels / CHANNEL_MULTIPLE)


def _head_units(classes: int) -> list[int]:
    low = max(64, 2 ** math.ceil(math.log2(4 * classes)))
    return [low, 2 * low]


def _space_document(
    *,
    name: str,
    skeleton: _Skeleton,
    fidelity: _Fidelity,
    augmentation: dict[str, Any],
    unbalanced: bool,
    budget_s: float | None,
    max_trials: int | None,
) -> dict[str, Any]:
    blocks, width = skeleton.blocks, fidelity.width
    per_block: dict[int, dict[str, Any]] = {1: {"strides": 2}} if skeleton.stem else {}
    per_block.update({number: {"filters": _filters(width, number)} for number in range(2, blocks + 1)})
    search: dict[str, Any] = {
        "algorithm": "tpe",
        "pruner": "quartile",
        "max_trials": max_trials or 1000,
        "trial_train_fraction": fidelity.fraction,
        "retrain_epochs": fidelity.retrain_cap,
        "retrain_share": RETRAIN_SHARE,
        "constraints": {"max_flops": fidelity.max_flops},
        **(
            {
                "augmentation_check": {
                    "epochs": fidelity.check[0],
                    "train_fraction": fidelity.check[1],
                    "share": CHECK_SHARE,
                }
            }
            if fidelity.check
            else {}
        ),
        **(
            {
                "final_rung": {
                    "candidates": RUNG_CANDIDATES,
                    "epochs": fidelity.rung_epochs,
                    "share": RUNG_SHARE,
                }
            }
            if fidelity.rung_epochs
            else {}
        ),
        "objective": {"metric": "val_accuracy", "direction": "maximize"},
        **({"balanced_validation": True} if unbalanced else {}),
    }
    if budget_s is not None:
        search["timeout"] = format_duration(budget_s)
    return {
        "name": name,
        "description": "",
        "model": {
            "blocks": {
                "count": {"low": max(1, blocks - 1), "high": blocks} if blocks > 1 else 1,
                "filters": _filters(width, 1),
                "kernel_size": 3,
                "padding": "same",
                "activation": list(BLOCK_ACTIVATIONS),
                "batch_norm": True,
                "convs": [1, 2],
                "pooling": "max",
                "pool_size": 2,
                "dropout": list(BLOCK_DROPOUTS),
                **({"per_block": per_block} if per_block else {}),
            },
            "head": {
                "pooling": ["flatten", "global_avg"],
                "dense_layers": [0, 1],
                "units": _head_units(skeleton.facts.classes),
                "dropout": [0.0, 0.3, 0.5],
            },
        },
        "training": {
            "optimizer": ["adam", "adamw"],
            "learning_rate": {"low": 5e-4, "high": 5e-3, "log": True},
            "lr_schedule": "cosine",
            "batch_size": skeleton.batch,
            "epochs": fidelity.epochs,
            "label_smoothing": [0.0, 0.1],
            **({"class_weight": ["none", "balanced"]} if unbalanced else {}),
            "augmentation": augmentation,
        },
        "search": search,
    }


def _minutes(seconds: float) -> str:
    """Return an estimated duration rounded to minutes (seconds under one)."""
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _budget(seconds: float) -> str:
    """Return a budget as a user gives one: whole minutes as "15 min", else to the second ("1 min 30 s")."""
    whole = round(seconds)
    return f"{whole // 60} min" if whole >= 60 and whole % 60 == 0 else format_seconds(seconds)
