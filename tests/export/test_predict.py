"""Predicting image files: training preprocessing, class names, size checks, safe loading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from autocnn.cli import as_flags
from autocnn.errors import ConfigError, DataError
from autocnn.export import class_names_for, load_model_safely, predict_images
from tests.export.conftest import CLASS_NAMES


def _confident_indices(model: Any, images: np.ndarray, count: int) -> list[int]:
    probabilities = model.predict(images, verbose=0)
    return [int(i) for i in np.argsort(-probabilities.max(axis=1))[:count]]


def _write_png(path: Path, image: np.ndarray, mode: str = "L") -> Path:
    pixels = np.round(image[..., 0] * 255).astype(np.uint8)
    picture = Image.fromarray(pixels, mode="L")
    (picture.convert(mode) if mode != "L" else picture).save(path)
    return path


def test_predict_images_gives_the_models_own_top_class(
    tmp_path: Path, exported: dict[str, Any], trained_model: Any, digits: Any
) -> None:
    indices = [*_confident_indices(trained_model, digits.x_test, 3), 0, 1, 2]
    paths = [_write_png(tmp_path / f"digit{n}.png", digits.x_test[i]) for n, i in enumerate(indices)]
    model = load_model_safely(exported["keras"].path)
    names = class_names_for(exported["keras"].path, model=model)
    predictions = predict_images(model, paths, class_names=names, top=3)
    # What the model says about the same pixels (8-bit, as stored in a PNG) scaled to [0, 1].
    pixels = np.round(digits.x_test[indices] * 255) / 255
    expected = trained_model.predict(pixels, verbose=0)
    assert [p.path for p in predictions] == paths
    for prediction, row in zip(predictions, expected, strict=True):
        order = np.argsort(-row)[:3]
        assert prediction.label == CLASS_NAMES[int(order[0])]
        assert [score.index for score in prediction.top] == [int(i) for i in order]
        assert [score.name for score in prediction.top] == [CLASS_NAMES[int(i)] for i in order]
        assert [score.probability for score in prediction.top] == pytest.approx(row[order].tolist(), abs=1e-5)
    assert predictions[0].summary().startswith(f"{paths[0]}: {predictions[0].label} (")
    same = trained_model.predict(digits.x_test[indices[:3]], verbose=0).argmax(axis=1)
    assert [p.top[0].index for p in predictions[:3]] == same.tolist()


def test_without_a_card_classes_are_indices_and_top_is_capped(
    tmp_path: Path, trained_model: Any, digits: Any
) -> None:
    path = _write_png(tmp_path / "x.png", digits.x_test[0])
    (prediction,) = predict_images(trained_model, [path], top=50)
    assert len(prediction.top) == 10
    assert prediction.label == str(int(trained_model.predict(digits.x_test[:1], verbose=0).argmax()))
    assert sum(score.probability for score in prediction.top) == pytest.approx(1.0, abs=1e-4)


def test_jpeg_and_rgb_images_are_converted_to_the_models_channels(
    tmp_path: Path, trained_model: Any, digits: Any
) -> None:
    index = _confident_indices(trained_model, digits.x_test, 1)[0]
    gray = _write_png(tmp_path / "gray.png", digits.x_test[index])
    rgb = _write_png(tmp_path / "rgb.png", digits.x_test[index], mode="RGB")
    jpeg = tmp_path / "rgb.jpg"
    Image.open(rgb).save(jpeg, quality=100)
    results = predict_images(trained_model, [gray, rgb, jpeg])
    assert results[0].top[0] == results[1].top[0]
    assert results[2].top[0].index == results[0].top[0].index


def test_a_wrong_size_image_names_the_expected_size(tmp_path: Path, trained_model: Any) -> None:
    path = tmp_path / "big.png"
    Image.fromarray(np.zeros((16, 20), dtype=np.uint8)).save(path)
    with pytest.raises(
        DataError, match=r"big\.png: the image is 20x16 pixels but the model expects 8x8"
    ) as caught:
        predict_images(trained_model, [path])
    assert "or turn on `resize` to resize it bilinearly" in str(caught.value)
    assert "or turn on --resize to resize it" in as_flags(str(caught.value))
    (prediction,) = predict_images(trained_model, [path], resize=True)
    assert len(prediction.top) == 3


def test_unreadable_and_missing_images_are_data_errors(tmp_path: Path, trained_model: Any) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    with pytest.raises(DataError, match=r"broken\.png: cannot be read as an image"):
        predict_images(trained_model, [broken])
    with pytest.raises(DataError, match="no such image file"):
        predict_images(trained_model, [tmp_path / "missing.png"])


@pytest.mark.parametrize(
    ("options", "message"), [({"top": 0}, "'top' parameter"), ({"class_names": ["a"]}, "must name 10")]
)
def test_bad_prediction_options(
    tmp_path: Path, trained_model: Any, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        predict_images(trained_model, [tmp_path / "unused.png"], **options)


@pytest.fixture(scope="module")
def lambda_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import keras

    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Lambda(lambda x: x * 2.0, name="doubler"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    path = tmp_path_factory.mktemp("unsafe") / "lambda.keras"
    model.save(path)
    return path


def test_safe_mode_refuses_a_model_with_a_lambda_layer(lambda_model_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"refusing to load it: it holds Python code \(Lambda layer 'doubler'\)"
    ) as caught:
        load_model_safely(lambda_model_path)
    assert "turn on `unsafe`" in str(caught.value)
    assert "turn on --unsafe" in as_flags(str(caught.value))


def test_unsafe_loads_a_lambda_model_and_predicts(
    lambda_model_path: Path, tmp_path: Path, digits: Any
) -> None:
    model = load_model_safely(lambda_model_path, unsafe=True)
    assert model.layers[0].name == "doubler"
    path = _write_png(tmp_path / "x.png", digits.x_test[0])
    (prediction,) = predict_images(model, [path], top=1)
    assert prediction.top[0].probability > 0


def test_keras_safe_mode_is_the_backstop(lambda_model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from autocnn.export import _predict

    monkeypatch.setattr(_predict, "_layers", lambda config: iter(()))  # hide the Lambda from the pre-check
    with pytest.raises(ConfigError, match=r"Keras' safe mode found Python code"):
        load_model_safely(lambda_model_path)


@pytest.mark.parametrize("name", ["model.tflite", "model.h5", "missing.keras", "folder"])
def test_only_existing_keras_files_are_loaded(tmp_path: Path, exported: dict[str, Any], name: str) -> None:
    path = tmp_path / name
    if name == "folder":
        path.mkdir()
    elif name != "missing.keras":
        path.write_bytes(b"x")
    with pytest.raises(ConfigError, match="no such model file" if name == "missing.keras" else r"\.keras"):
        load_model_safely(path)


def test_a_corrupt_keras_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.keras"
    path.write_bytes(b"not a zip")
    with pytest.raises(ConfigError, match=r"cannot be read as a \.keras model file"):
        load_model_safely(path)
