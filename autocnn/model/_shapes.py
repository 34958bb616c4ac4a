"""Shape arithmetic, parameter and FLOP counts of a TrialConfig, without building anything."""

from __future__ import annotations

import math
from dataclasses import dataclass

from autocnn.config import TrialConfig
from autocnn.errors import InvalidArchitectureError


@dataclass(frozen=True)
class LayerInfo:
    """One layer as the builder will create it: its name, output shape, params and FLOPs."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    flops: int


@dataclass(frozen=True)
class Architecture:
    """The whole network's layers, total parameters and FLOPs (2 x multiply-adds)."""

    layers: tuple[LayerInfo, ...]

    @property
    def params(self) -> int:
        """Total number of parameters (trainable and not), as Keras counts them."""
        return sum(layer.params for layer in self.layers)

    @property
    def flops(self) -> int:
        """Floating-point operations of one forward pass of one image (conv and dense layers)."""
        return sum(layer.flops for layer in self.layers)


def conv_output_size(size: int, *, kernel: int, stride: int, dilation: int, padding: str) -> int:
    """Return a conv's output length along one axis: floor((in + 2p - d(k-1) - 1) / s) + 1.

    With ``same`` padding Keras pads so that the output is ceil(in / s).
    """
    if padding == "same":
        return math.ceil(size / stride)
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def pool_output_size(size: int, *, pool: int, stride: int) -> int:
    """Return a (valid-padded) pooling layer's output length along one axis."""
    if size < pool:
        return 0
    return (size - pool) // stride + 1


def analyze_architecture(
    config: TrialConfig, *, input_shape: tuple[int, int, int], num_classes: int
) -> Architecture:
    """Return the layers the builder would create, or raise InvalidArchitectureError with the reason.

    Example:
        >>> from autocnn.config import TrialConfig
        >>> config = TrialConfig.from_dict({"model": {"blocks": [{"filters": 8}]}})
        >>> analyze_architecture(config, input_shape=(8, 8, 1), num_classes=10).params
        1370

    """
    height, width, channels = input_shape
    layers: list[LayerInfo] = []
    for number, block in enumerate(config.model.blocks, start=1):
        for conv in range(1, block.convs + 1):
            stride = block.strides if conv == 1 else 1
            where = f"block {number} conv {conv}"
            if stride > 1 and block.dilation > 1:
                raise InvalidArchitectureError(
                    f"{where}: strides {stride} with dilation {block.dilation} is not supported by "
                    "Keras Conv2D; use strides 1 or dilation 1"
                )
            new_height = conv_output_size(
                height,
                kernel=block.kernel_size,
                stride=stride,
                dilation=block.dilation,
                padding=block.padding,
            )
            new_width = conv_output_size(
                width, kernel=block.kernel_size, stride=stride, dilation=block.dilation, padding=block.padding
            )
            if new_height <= 0 or new_width <= 0:
                span = block.dilation * (block.kernel_size - 1) + 1
                raise InvalidArchitectureError(
                    f"{where}: a {block.kernel_size}x{block.kernel_size} kernel (dilation {block.dilation}, "
                    f"span {span}) with valid padding reduces {height}x{width} to "
                    f"{max(new_height, 0)}x{max(new_width, 0)}"
                )
            weights = block.kernel_size * block.kernel_size * channels * block.filters
            bias = 0 if block.batch_norm else block.filters
            macs = new_height * new_width * weights
            height, width, channels = new_height, new_width, block.filters
            layers.append(
                LayerInfo(
                    f"block{number}_conv{conv}", "Conv2D", (height, width, channels), weights + bias, 2 * macs
                )
            )
            if block.batch_norm:
                layers.append(
                    LayerInfo(
                        f"block{number}_bn{conv}",
                        "BatchNormalization",
                        (height, width, channels),
                        4 * channels,
                        0,
                    )
                )
            layers.append(
                LayerInfo(f"block{number}_act{conv}", "Activation", (height, width, channels), 0, 0)
            )
        if block.pooling != "none":
            stride = block.pool_strides or block.pool_size
            new_height = pool_output_size(height, pool=block.pool_size, stride=stride)
            new_width = pool_output_size(width, pool=block.pool_size, stride=stride)
            if new_height <= 0 or new_width <= 0:
                raise InvalidArchitectureError(
                    f"block {number} pooling: {block.pooling} pooling {block.pool_size}x{block.pool_size} "
                    f"reduces {height}x{width} to {new_height}x{new_width}; use fewer blocks, "
                    "pooling none or a smaller pool size"
                )
            height, width = new_height, new_width
            kind = "MaxPooling2D" if block.pooling == "max" else "AveragePooling2D"
            layers.append(LayerInfo(f"block{number}_pool", kind, (height, width, channels), 0, 0))
        if block.dropout > 0:
            layers.append(LayerInfo(f"block{number}_dropout", "Dropout", (height, width, channels), 0, 0))
    head = config.model.head
    if head.pooling == "flatten":
        features = height * width * channels
        layers.append(LayerInfo("head_flatten", "Flatten", (features,), 0, 0))
    else:
        features = channels
        kind = "GlobalAveragePooling2D" if head.pooling == "global_avg" else "GlobalMaxPooling2D"
        layers.append(LayerInfo(f"head_{head.pooling}", kind, (features,), 0, 0))
    for number, units in enumerate(head.dense_units, start=1):
        layers.append(
            LayerInfo(
                f"head_dense{number}", "Dense", (units,), features * units + units, 2 * features * units
            )
        )
        features = units
        if head.dropout > 0:
            layers.append(LayerInfo(f"head_dropout{number}", "Dropout", (units,), 0, 0))
    layers.append(
        LayerInfo(
            "output",
            "Dense",
            (num_classes,),
            features * num_classes + num_classes,
            2 * features * num_classes,
        )
    )
    return Architecture(tuple(layers))
