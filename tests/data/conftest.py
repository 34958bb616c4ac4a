"""Fixtures of the data tests: an empty Keras cache and fresh per-process dataset caches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from autocnn.data import _registry


@pytest.fixture
def fresh_cache() -> Iterator[None]:
    """Forget datasets loaded earlier in this process, so a load really reads and splits again."""
    _registry._read_raw.cache_clear()
    _registry._prepare.cache_clear()
    yield
    _registry._read_raw.cache_clear()
    _registry._prepare.cache_clear()


@pytest.fixture
def empty_keras_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point Keras (already imported or not) at an empty home; return its datasets folder."""
    import keras  # noqa: F401  (Keras reads KERAS_HOME once, at import)
    from keras.src.backend import config

    home = tmp_path / "keras_home"
    home.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setattr(config, "_KERAS_DIR", str(home))
    return home / "datasets"
