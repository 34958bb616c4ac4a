"""Test-time augmentation: the final model averages shifted and mirrored views only when they beat the image alone."""

from __future__ import annotations

import dataclasses
import warnings

import keras
import numpy as np
import pytest

from autocnn.config import AugmentationConfig, PredictionViews
from autocnn.core.session import search
from autocnn.core.study import FinalResult, load_study
from autocnn.core.test_time import ViewChoice, choose_views, views_for
from autocnn.data import load_dataset
from autocnn.model import network_of, view_count
from autocnn.training import evaluate_model
from tests.finals import final_result

SIDE = 5
CENTER = (SIDE // 2) * SIDE + SIDE // 2


def _center_reader() -> keras.Model:
    """Return a network that says class 1 when the centre pixel is bright, and leans slightly to class 0 otherwise.

    A view that moves an off-centre dot to the centre makes it certain of class 1; the other views
    lean to class 0 by so little that the average of all five still says class 1.
    """
    network = keras.Sequential(
        [keras.Input((SIDE, SIDE, 1)), keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")]
    )
    kernel = np.zeros((SIDE * SIDE, 2), dtype="float32")
    kernel[CENTER, 1] = 20.0
    network.layers[-1].set_weights([kernel, np.array([0.0, -0.1], dtype="float32")])
    return network


def _dots(positions: list[tuple[int, int] | None]) -> np.ndarray:
    images = np.zeros((len(positions), SIDE, SIDE, 1), dtype="float32")
    for index, position in enumerate(positions):
        if position is not None:
            images[index, position[0], position[1], 0] = 1.0
    return images


def test_shifted_views_that_find_the_off_centre_dots_are_kept():
    centre = SIDE // 2
    positions = [
        None,
        None,
        (centre, centre),
        (centre - 1, centre),
        (centre, centre + 1),
        (centre + 1, centre),
    ]
    labels = np.array([0, 0, 1, 1, 1, 1])
    # 0.4 of 5 pixels is the largest training shift; the views move half of it: 1 pixel
    choice = choose_views(
        _center_reader(),
        augmentation=AugmentationConfig(translation=0.4),
        guard_images=_dots(positions),
        guard_labels=labels,
    )
    assert choice is not None
    assert choice.views == PredictionViews(shift=1)
    assert choice.plain_guard_accuracy == pytest.approx(3 / 6)
    assert choice.guard_accuracy == pytest.approx(1.0)
    assert choice.kept


def test_mirrored_views_that_hurt_are_not_kept():
    # class 1 when the dot is in the left column, 0 when it is in the right one: the mirror swaps them
    network = keras.Sequential([keras.Input((SIDE, SIDE, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
    kernel = np.zeros((SIDE * SIDE, 2), dtype="float32")
    for row in range(SIDE):
        kernel[row * SIDE, 1] = 5.0
        kernel[row * SIDE + SIDE - 1, 0] = 5.0
    network.layers[-1].set_weights([kernel, np.zeros(2, dtype="float32")])
    choice = choose_views(
        network,
        augmentation=AugmentationConfig(flip="horizontal"),
        guard_images=_dots([(0, 0), (3, 0), (1, SIDE - 1), (4, SIDE - 1)]),
        guard_labels=np.array([1, 1, 0, 0]),
    )
    assert choice is not None
    assert choice.views == PredictionViews(flip="horizontal")
    assert choice.plain_guard_accuracy == 1.0
    assert choice.guard_accuracy < 1.0
    assert not choice.kept


def test_views_that_only_tie_with_the_image_alone_are_not_kept():
    tie = ViewChoice(views=PredictionViews(shift=1), guard_accuracy=0.9, plain_guard_accuracy=0.9)
    assert not tie.kept


@pytest.mark.parametrize(
    ("augmentation", "expected"),
    [
        (AugmentationConfig(), []),
        (AugmentationConfig(rotation=0.1, zoom=0.1, contrast=0.2), []),
        (AugmentationConfig(translation=0.06), [PredictionViews(shift=1)]),  # 28 px: at most 1.7 px
        (AugmentationConfig(translation=0.2), [PredictionViews(shift=3)]),  # at most 5.6 px
        (AugmentationConfig(flip="horizontal"), [PredictionViews(flip="horizontal")]),
        (
            AugmentationConfig(flip="horizontal_and_vertical", translation=0.06),
            [
                PredictionViews(flip="horizontal"),
                PredictionViews(shift=1),
                PredictionViews(shift=1, flip="horizontal"),
            ],
        ),
    ],
)
def test_only_transformations_the_network_trained_with_are_tried(augmentation, expected):
    assert views_for(augmentation, image_size=(28, 28)) == expected


def test_a_shift_never_moves_the_whole_image_out():
    assert views_for(AugmentationConfig(translation=0.5), image_size=(2, 3)) == [PredictionViews(shift=1)]


def test_no_guard_images_or_nothing_to_try_gives_no_choice():
    network = _center_reader()
    assert (
        choose_views(
            network,
            augmentation=AugmentationConfig(translation=0.4),
            guard_images=_dots([]),
            guard_labels=np.array([], dtype=int),
        )
        is None
    )
    assert (
        choose_views(
            network, augmentation=AugmentationConfig(), guard_images=_dots([None]), guard_labels=np.array([0])
        )
        is None
    )


def test_the_choice_round_trips_with_the_final_result():
    choice = ViewChoice(
        views=PredictionViews(shift=2, flip="vertical"), guard_accuracy=0.91, plain_guard_accuracy=0.9
    )
    final = final_result(
        test_accuracy=0.95, test_time_views=choice, plain_test_accuracy=0.94, guard_images=1000
    )
    assert FinalResult.from_dict(final.to_dict()) == final
    text = final.views_summary
    assert "6 views of each image (the image and its 4 shifts by 2 pixels and its upside-down image)" in text
    assert "0.9100 on the 1,000 validation images held back from the retrain, against 0.9000" in text
    assert "on test 0.9500 against 0.9400" in text
    balanced = final_result(test_time_views=dataclasses.replace(choice, balanced=True), guard_images=1000)
    assert FinalResult.from_dict(balanced.to_dict()) == balanced
    assert "which scored balanced accuracy 0.9100 on the 1,000 validation images" in balanced.views_summary


SHIFTED = """
  augmentation:
    translation: 0.1
"""


def _with_translation(tiny_space, *, views: bool):
    text = tiny_space.read_text().replace("  epochs: 2\n", "  epochs: 2\n" + SHIFTED)
    if not views:
        text = text.replace("  max_trials: 3\n", "  max_trials: 3\n  test_time_augmentation: false\n")
    tiny_space.write_text(text)
    return tiny_space


def test_the_search_tries_the_views_on_the_guard_and_saves_what_it_chose(tiny_space, workdir):
    study = search(_with_translation(tiny_space, views=True), dataset="digits", workdir=workdir, max_trials=2)
    final = load_study(study.name, workdir=workdir).final
    assert final is not None and final.test_time_views is not None
    choice = final.test_time_views
    assert choice.views == PredictionViews(shift=1)  # 8 x 8 digits, shifted at most 0.8 px in training
    assert choice.plain_guard_accuracy == pytest.approx(final.guard_accuracy)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        saved = keras.models.load_model(final.model_path)  # compiled as saved, as most users load it
    assert [str(warning.message) for warning in caught] == []
    assert view_count(saved) == (5 if choice.kept else 1)
    assert (final.plain_test_accuracy is not None) == choice.kept
    data = load_dataset("digits", validation_fraction=0.1, seed=0)
    assert evaluate_model(saved, data.x_test, data.y_test)["accuracy"] == pytest.approx(final.test_accuracy)
    if choice.kept:
        network = network_of(saved)
        network.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        plain = evaluate_model(network, data.x_test, data.y_test)["accuracy"]
        assert plain == pytest.approx(final.plain_test_accuracy)


def test_an_export_that_retrains_another_trial_chooses_its_views_the_same_way(tiny_space, workdir, tmp_path):
    import json

    from autocnn.export import CARD_JSON, export_study

    study = search(_with_translation(tiny_space, views=True), dataset="digits", workdir=workdir, max_trials=2)
    other = next(record.number for record in study.ranked() if record.number != study.final.trial_number)
    result = export_study(study, format="keras", out=tmp_path / "dist", trial=other)
    card = json.loads((tmp_path / "dist" / CARD_JSON).read_text())
    training = card["training"]
    assert training["views"] in (1, 5)
    assert view_count(keras.models.load_model(result.path, compile=False)) == training["views"]
    assert card["model"]["views"] == training["views"]
    kept = training["held_back_accuracy_of_views"] > training["held_back_accuracy"]
    assert (training["views"] == 5) == kept


def test_the_search_keeps_the_image_alone_when_views_are_switched_off(tiny_space, workdir):
    study = search(
        _with_translation(tiny_space, views=False), dataset="digits", workdir=workdir, max_trials=2
    )
    final = study.final
    assert final is not None
    assert final.test_time_views is None and final.plain_test_accuracy is None
    assert view_count(keras.models.load_model(final.model_path, compile=False)) == 1
