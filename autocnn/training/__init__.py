"""One trial's training: compile, fit with callbacks (pruning, NaN guard, deadline), evaluate, predict."""

from autocnn.training._compile import (
    SparseSmoothedCrossentropy,
    compile_for_export,
    compile_for_training,
    make_loss,
    make_optimizer,
)
from autocnn.training._fit import FitResult, evaluate_model, fit_config
from autocnn.training._monitor import FitStop, TrialMonitor
from autocnn.training._predict import predict_outputs

__all__ = [
    "FitResult",
    "FitStop",
    "SparseSmoothedCrossentropy",
    "TrialMonitor",
    "compile_for_export",
    "compile_for_training",
    "evaluate_model",
    "fit_config",
    "make_loss",
    "make_optimizer",
    "predict_outputs",
]
