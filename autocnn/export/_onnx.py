"""Fill a gap of tf2onnx 1.17 that Keras' ONNX export runs into with autocnn's networks."""

from __future__ import annotations

from typing import Any

__all__ = ["register_tf2onnx_fixes"]

_registered = False


def register_tf2onnx_fixes() -> None:
    """Teach tf2onnx TensorFlow's ``Erfc`` op (exact GELU uses it) as ``1 - Erf(x)``; idempotent.

    Without it, tf2onnx copies ``Erfc`` into the ONNX graph unchanged and onnxruntime refuses the
    model ("This is an invalid model ... Erfc"), so every network with a ``gelu`` activation fails.
    """
    global _registered
    if _registered:
        return
    import numpy as np
    from tf2onnx import utils
    from tf2onnx.handler import tf_op

    @tf_op("Erfc")
    class _Erfc:
        @classmethod
        def version_9(cls, ctx: Any, node: Any, **kwargs: Any) -> None:
            """Rewrite ``Erfc(x)`` as ``Sub(1, Erf(x))`` (ONNX has Erf since opset 9)."""
            node.type = "Erf"
            output = node.output[0]
            dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(output))
            one = ctx.make_const(utils.make_name(f"{node.name}_one"), np.array(1, dtype=dtype))
            subtract = ctx.insert_new_node_on_output(
                "Sub", output, inputs=[one.output[0], output], name=utils.make_name(f"{node.name}_erfc")
            )
            ctx.copy_shape(output, subtract.output[0])
            ctx.set_dtype(subtract.output[0], ctx.get_dtype(output))

    _registered = True
