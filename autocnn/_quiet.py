"""Quiet TensorFlow's C++ start-up logging before anything imports it (users can override)."""

from __future__ import annotations

import os


def quiet_tensorflow() -> None:
    """Hide TensorFlow's start-up info lines unless the user set TF_CPP_MIN_LOG_LEVEL."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
