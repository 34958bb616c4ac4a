"""Test-time augmentation for the final model, chosen on the held-back guard images.

The final model may average its predictions over shifted (and mirrored) views of each image, the
transformations it trained with. Each candidate set of views is scored on the guard images, which
neither the retrain nor the trial trained on, beside the image alone; the views are kept only when
they score strictly higher, since every view costs one more pass of the network per prediction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from autocnn.config import AugmentationConfig, Flip, PredictionViews
from autocnn.core.final_model import FinalModel, guard_indices, image_accuracy

if TYPE_CHECKING:
    import keras

    from autocnn.data import Dataset

__all__ = ["SHIFT_SHARE", "ViewChoice", "choose_views", "views_for", "with_chosen_views"]

#: A shifted view moves the image by this share of the training's largest shift (at least a pixel).
SHIFT_SHARE = 0.5


@dataclass(frozen=True)
class ViewChoice:
    """The best set of views tried on the guard images, its score and the image alone's."""

    views: PredictionViews
    guard_accuracy: float
    plain_guard_accuracy: float
    balanced: bool = False  # the scores are balanced accuracies

    @property
    def kept(self) -> bool:
        """Whether the final model averages these views (they scored higher than the image alone)."""
        return self.guard_accuracy > self.plain_guard_accuracy

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "views": self.views.model_dump(),
            "guard_accuracy": self.guard_accuracy,
            "plain_guard_accuracy": self.plain_guard_accuracy,
            "balanced": self.balanced,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ViewChoice:
        """Read a dict made by :meth:`to_dict`."""
        return cls(
            views=PredictionViews.model_validate(data["views"]),
            guard_accuracy=float(data["guard_accuracy"]),
            plain_guard_accuracy=float(data["plain_guard_accuracy"]),
            balanced=bool(data.get("balanced", False)),
        )


def views_for(augmentation: AugmentationConfig, *, image_size: tuple[int, int]) -> list[PredictionViews]:
    """Return the view sets worth trying for a network trained with ``augmentation``, fewest views first.

    Only transformations the network trained with are candidates (one it never saw hurts it):
    shifts by ``SHIFT_SHARE`` of its largest shift (at least a pixel) when it trained with
    translation, the mirror image when it trained with flips, and both.
    """
    smaller_side = min(image_size)
    shift = 0
    if augmentation.translation > 0 and smaller_side > 1:
        shift = min(max(1, round(augmentation.translation * smaller_side * SHIFT_SHARE)), smaller_side - 1)
    flip: Flip = "horizontal" if augmentation.flip == "horizontal_and_vertical" else augmentation.flip
    candidates = []
    if flip != "none":
        candidates.append(PredictionViews(flip=flip))
    if shift:
        candidates.append(PredictionViews(shift=shift))
    if shift and flip != "none":
        candidates.append(PredictionViews(shift=shift, flip=flip))
    return candidates


def choose_views(
    network: keras.Model,
    *,
    augmentation: AugmentationConfig,
    guard_images: np.ndarray,
    guard_labels: np.ndarray,
    balanced: bool = False,
) -> ViewChoice | None:
    """Score each set of views ``augmentation`` allows on the guard images; return the best, or None.

    None when there is nothing to try: the network trained without shifts and flips, or there are
    no guard images. Of views that score the same, the fewer win.
    """
    from autocnn.model._views import with_views

    candidates = views_for(
        augmentation, image_size=(int(network.input_shape[1]), int(network.input_shape[2]))
    )
    if len(guard_labels) == 0 or not candidates:
        return None
    plain = image_accuracy(network, guard_images, guard_labels, balanced=balanced)
    scored = [
        (image_accuracy(with_views(network, views), guard_images, guard_labels, balanced=balanced), views)
        for views in candidates
    ]
    score, views = max(scored, key=lambda item: (item[0], -item[1].count))
    return ViewChoice(views=views, guard_accuracy=score, plain_guard_accuracy=plain, balanced=balanced)


def with_chosen_views(
    kept: FinalModel, dataset: Dataset, *, seed: int, balanced: bool = False
) -> tuple[keras.Model, ViewChoice | None]:
    """Return the model to ship for ``kept``, averaging the views that beat the image alone, and the choice.

    The views are judged on the guard that :func:`~autocnn.core.final_model.retrain_guarded` held
    back from ``dataset`` with ``seed``.
    """
    from autocnn.model._views import with_views

    _, guard = guard_indices(dataset, seed=seed)
    choice = choose_views(
        kept.model,
        augmentation=kept.config.training.augmentation,
        guard_images=dataset.x_val[guard],
        guard_labels=dataset.y_val[guard],
        balanced=balanced,
    )
    if choice is None or not choice.kept:
        return kept.model, choice
    return with_views(kept.model, choice.views), choice
