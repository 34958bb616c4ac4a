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
from autocnn.model._views import AVERAGED_VIEWS_NAME, network_of, view_count, with_views

__all__ = [
    "AVERAGED_VIEWS_NAME",
    "Architecture",
    "FusedBatchNormalization",
    "LayerInfo",
    "analyze_architecture",
    "build_model",
    "conv_output_size",
    "describe_config",
    "network_of",
    "pool_output_size",
    "view_count",
    "with_keras_batch_norm",
    "with_views",
]
