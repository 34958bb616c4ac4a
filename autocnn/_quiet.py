"""Keep TensorFlow's start-up chatter (C++ log lines on stderr) away from people's terminals."""

from __future__ import annotations

import logging
import os
import sys

#: Libraries whose INFO lines (e.g. "Creating initial MLflow database tables...") are not for users.
CHATTY_LOGGERS = ("mlflow", "alembic", "optuna", "urllib3", "git")


def quiet_tensorflow() -> None:
    """Hide TensorFlow's start-up info lines unless the user set TF_CPP_MIN_LOG_LEVEL."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras and probe the GPUs with the process's stderr silenced.

    TensorFlow's C++ runtime writes lines such as "oneDNN custom operations are on" or
    "failed call to cuInit" straight to file descriptor 2 while it starts, whatever the
    Python log level; the CLI calls this once so that users see only autocnn's output.
    Set AUTOCNN_TF_LOGS=1 to see them.
    """
    if "tensorflow" in sys.modules or os.environ.get("AUTOCNN_TF_LOGS") == "1":
        return
    quiet_tensorflow()
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras  # noqa: F401
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quiet_library_logs() -> None:
    """Show only warnings and errors from the libraries autocnn drives (the CLI calls this unless --debug)."""
    # MLflow sets its logger's level from this variable when it is imported (also in worker processes).
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # TensorFlow's Python warnings (e.g. tf.function retracing) are about its internals, not the user's data.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
