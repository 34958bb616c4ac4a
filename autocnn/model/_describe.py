"""A compact, readable one-line description of a configuration's architecture."""

from __future__ import annotations

from autocnn.config import TrialConfig

_HEAD_POOLING = {"flatten": "flat", "global_avg": "gap", "global_max": "gmp"}


def describe_config(config: TrialConfig) -> str:
    """Return e.g. ``C32k3s1·BN·relu·max2 | C64k3s1·relu·max2 | flat | D128·do0.3 | adam 1e-3``.

    Example:
        >>> from autocnn.config import TrialConfig
        >>> describe_config(TrialConfig.from_dict({"model": {"blocks": [{"filters": 8, "batch_norm": True}]}}))
        'C8k3s1·BN·relu·max2 | flat | adam 0.001'

    """
    parts = []
    for block in config.model.blocks:
        conv = f"C{block.filters}k{block.kernel_size}s{block.strides}"
        if block.dilation > 1:
            conv += f"d{block.dilation}"
        if block.padding == "valid":
            conv += "v"
        if block.convs > 1:
            conv = f"{block.convs}x{conv}"
        pieces = [conv]
        if block.batch_norm:
            pieces.append("BN")
        pieces.append(block.activation)
        if block.pooling != "none":
            stride = block.pool_strides or block.pool_size
            pool = f"{block.pooling}{block.pool_size}"
            pieces.append(pool if stride == block.pool_size else f"{pool}s{stride}")
        if block.dropout > 0:
            pieces.append(f"do{block.dropout:.2g}")
        parts.append("·".join(pieces))
    head = config.model.head
    parts.append(_HEAD_POOLING[head.pooling])
    for units in head.dense_units:
        dense = f"D{units}"
        if head.dropout > 0:
            dense += f"·do{head.dropout:.2g}"
        parts.append(dense)
    training = config.training
    train = f"{training.optimizer} {training.learning_rate:.2g}"
    if training.lr_schedule != "constant":
        train += f" {training.lr_schedule}"
    if training.augmentation.enabled:
        train += " aug"
    parts.append(train)
    return " | ".join(parts)
