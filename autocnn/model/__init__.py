"""TrialConfig → keras.Sequential, with shape arithmetic, parameter and FLOP counts."""

from autocnn.model._batch_norm import FusedBatchNormalization, with_keras_batch_norm
from autocnn.model._builder import build_model
from autocnn.model._describe import describe_config
from autocnn.model._shapes import (
    Architecture,
    LayerInfo,
    analyze_architecture,
    conv_output_size,
    pool_output_size,
)

__all__ = [
    "Architecture",
    "FusedBatchNormalization",
    "LayerInfo",
    "analyze_architecture",
    "build_model",
    "conv_output_size",
    "describe_config",
    "pool_output_size",
    "with_keras_batch_norm",
]
