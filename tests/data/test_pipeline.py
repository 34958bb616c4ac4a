"""make_pipeline and build_augmentation: batches, per-epoch shuffling and augmentation in training only."""

from __future__ import annotations

import numpy as np
import pytest

from autocnn.data import build_augmentation, make_pipeline
from autocnn.errors import ConfigError, DataError


def indexed(count: int = 50, size: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Images whose every pixel equals index/100, and labels equal to the index."""
    x = np.repeat(np.arange(count, dtype=np.float32) / 100, size * size).reshape(count, size, size, 1)
    return x, np.arange(count, dtype=np.int64)


def epoch_order(pipeline: object) -> list[int]:
    return [int(label) for _, labels in pipeline for label in labels.numpy()]  # type: ignore[attr-defined]


def test_batches_have_the_right_shapes_and_dtypes() -> None:
    x, y = indexed(10)
    for training in (True, False):
        batches = list(make_pipeline(x, y, batch_size=4, training=training))
        assert [tuple(images.shape) for images, _ in batches] == [(4, 5, 5, 1), (4, 5, 5, 1), (2, 5, 5, 1)]
        assert [tuple(labels.shape) for _, labels in batches] == [(4,), (4,), (2,)]
        assert batches[0][0].dtype.name == "float32" and batches[0][1].dtype.name == "int64"


def test_images_stay_with_their_labels() -> None:
    x, y = indexed()
    for images, labels in make_pipeline(x, y, batch_size=8, training=True, seed=1):
        np.testing.assert_allclose(images.numpy()[:, 2, 2, 0], labels.numpy() / 100, atol=1e-7)


def test_training_reshuffles_every_epoch_and_evaluation_keeps_the_order() -> None:
    x, y = indexed()
    training = make_pipeline(x, y, batch_size=8, training=True, seed=0)
    first, second = epoch_order(training), epoch_order(training)
    assert sorted(first) == sorted(second) == list(range(50))  # each epoch sees every image once
    assert first != list(range(50)) and second != first
    evaluation = make_pipeline(x, y, batch_size=8, training=False)
    assert epoch_order(evaluation) == epoch_order(evaluation) == list(range(50))


def test_shuffling_is_seeded() -> None:
    x, y = indexed()
    same = [epoch_order(make_pipeline(x, y, batch_size=8, training=True, seed=3)) for _ in range(2)]
    other = epoch_order(make_pipeline(x, y, batch_size=8, training=True, seed=4))
    assert same[0] == same[1] and other != same[0]


def test_augmentation_applies_only_in_training() -> None:
    import keras

    x, y = indexed(12)
    plus_one = keras.Sequential([keras.layers.Lambda(lambda images: images + 1.0)])
    trained = np.concatenate(
        [
            images.numpy()
            for images, _ in make_pipeline(x, y, batch_size=5, training=False, augmentation=plus_one)
        ]
    )
    np.testing.assert_array_equal(trained, x)  # evaluation: never augmented
    for images, labels in make_pipeline(x, y, batch_size=5, training=True, augmentation=plus_one):
        np.testing.assert_allclose(images.numpy(), x[labels.numpy()] + 1.0, atol=1e-6)


def test_real_flip_augmentation_flips_some_training_images_and_keeps_labels() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((64, 6, 6, 1)).astype(np.float32)
    y = np.arange(64, dtype=np.int64)
    augmentation = build_augmentation(flip="horizontal", seed=0)
    flipped = unchanged = 0
    for images, labels in make_pipeline(
        x, y, batch_size=16, training=True, augmentation=augmentation, seed=0
    ):
        for image, label in zip(images.numpy(), labels.numpy(), strict=True):
            if np.allclose(image, x[label]):
                unchanged += 1
            else:
                np.testing.assert_allclose(image, x[label][:, ::-1], atol=1e-6)  # the label's image, mirrored
                flipped += 1
    assert flipped > 10 and unchanged > 10


def test_build_augmentation_is_none_when_everything_is_off() -> None:
    assert build_augmentation() is None
    assert (
        build_augmentation(
            flip="none", rotation=0.0, translation=0.0, zoom=0.0, contrast=0.0, erasing=0.0, seed=1
        )
        is None
    )


def test_build_augmentation_layers() -> None:
    model = build_augmentation(
        flip="horizontal_and_vertical",
        rotation=0.1,
        translation=0.1,
        zoom=0.2,
        contrast=0.3,
        erasing=0.5,
        seed=0,
    )
    assert model is not None
    names = [type(layer).__name__ for layer in model.layers]
    assert names == [
        "RandomFlip",
        "RandomRotation",
        "RandomTranslation",
        "RandomZoom",
        "RandomContrast",
        "RandomErasing",
    ]
    assert model.layers[0].mode == "horizontal_and_vertical"
    only_zoom = build_augmentation(zoom=0.1)
    assert only_zoom is not None and [type(layer).__name__ for layer in only_zoom.layers] == ["RandomZoom"]
    images = np.random.default_rng(0).random((4, 8, 8, 1)).astype(np.float32)
    out = model(images, training=True).numpy()
    assert out.shape == images.shape and out.min() >= 0.0 and out.max() <= 1.0 + 1e-6


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"flip": "diagonal"}, "flip"),
        ({"rotation": -0.1}, "rotation"),
        ({"zoom": 1.5}, "zoom"),
        ({"contrast": True}, "contrast"),
        ({"erasing": 1.2}, "erasing"),
        ({"flip": "horizontal", "seed": -2}, "seed"),
    ],
)
def test_build_augmentation_rejects_bad_values(options: dict[str, object], parameter: str) -> None:
    with pytest.raises(ConfigError, match=f"The '{parameter}' parameter must be"):
        build_augmentation(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize("probability", [0.0, 1.0])
def test_random_erasing_hits_each_image_with_the_given_probability(probability: float) -> None:
    images = np.full((64, 16, 16, 1), 0.5, dtype=np.float32)
    only_flip = build_augmentation(flip="horizontal", seed=3)
    with_erasing = build_augmentation(flip="horizontal", erasing=probability, seed=3)
    assert only_flip is not None and with_erasing is not None
    changed = (with_erasing(images, training=True).numpy() != 0.5).any(axis=(1, 2, 3))
    assert changed.mean() == probability
    assert (only_flip(images, training=True).numpy() == 0.5).all()


def test_random_erasing_changes_a_rectangle_within_the_value_range() -> None:
    images = np.full((200, 20, 20, 1), 0.5, dtype=np.float32)
    layers = build_augmentation(erasing=0.5, seed=1)
    assert layers is not None
    out = layers(images, training=True).numpy()
    changed = out != 0.5
    hit = changed.any(axis=(1, 2, 3))
    assert 0.35 < hit.mean() < 0.65
    assert out.min() >= 0.0 and out.max() <= 1.0
    for image in changed[hit][:20, :, :, 0]:
        rows, cols = np.nonzero(image.any(axis=1))[0], np.nonzero(image.any(axis=0))[0]
        box = image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        # Noise is clipped to [0, 1], so some pixels in the box can land on 0.5 again, but few.
        assert box.mean() > 0.9
        assert 0.01 < box.size / image.size < 0.5
    assert (layers(images, training=False).numpy() == images).all()


def test_make_pipeline_rejects_bad_arguments() -> None:
    x, y = indexed(6)
    with pytest.raises(ConfigError, match="The 'batch_size' parameter must be a positive int; got 0"):
        make_pipeline(x, y, batch_size=0, training=True)
    with pytest.raises(DataError, match="6 images but 5 labels"):
        make_pipeline(x, y[:5], batch_size=2, training=True)
    with pytest.raises(DataError, match="no images"):
        make_pipeline(x[:0], y[:0], batch_size=2, training=False)


def test_a_model_trains_on_the_pipeline() -> None:
    import keras

    x, y = indexed(40)
    model = keras.Sequential([keras.Input((5, 5, 1)), keras.layers.Flatten(), keras.layers.Dense(40)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(
        make_pipeline(
            x, y, batch_size=8, training=True, augmentation=build_augmentation(flip="vertical", seed=0)
        ),
        epochs=2,
        shuffle=False,  # the pipeline shuffles; Keras warns when asked to shuffle a tf.data.Dataset
        verbose=0,
    )
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()


def test_pipelines_run_without_the_tf_data_autotuner() -> None:
    # The autotuner's thread made each epoch's new iterator wait out its sleep (benchmarks/input_pipeline.py).
    x, y = indexed(10)
    augmentation = build_augmentation(flip="horizontal", seed=0)
    for training in (True, False):
        pipeline = make_pipeline(x, y, batch_size=4, training=training, augmentation=augmentation)
        assert pipeline.options().autotune.enabled is False
        assert sorted(epoch_order(pipeline)) == list(range(10))
