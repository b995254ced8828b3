"""A tiny onnxruntime model for tests of sessions: its one input sets how large its work is."""

from __future__ import annotations


def sized_ones(value: float = 1.0) -> bytes:
    """y = sum(value * ones(shape)): the `shape` input (int64, one element) sets the size of
    the intermediate tensor, so how much memory and time a run takes; `value` tells copies
    apart. Needs the `onnx` package (tests only)."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [
            helper.make_node(
                "ConstantOfShape",
                ["shape"],
                ["ones"],
                value=helper.make_tensor("v", TensorProto.FLOAT, [1], [value]),
            ),
            helper.make_node("ReduceSum", ["ones"], ["y"], keepdims=0),
        ],
        "sized",
        [helper.make_tensor_value_info("shape", TensorProto.INT64, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    serialized: bytes = model.SerializeToString()
    return serialized
