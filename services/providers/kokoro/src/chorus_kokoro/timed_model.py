"""Kokoro's per-token durations, exposed as a model output so words can be timed.

The int8 ONNX file outputs only audio, but its graph computes how many frames each token
lasts (the predictor's rounded, clipped durations) before the decoder spreads the tokens
over those frames. Adding that tensor as a second output, named `duration` as kokoro-onnx
expects, costs nothing at inference: the graph computes it anyway.
"""

from __future__ import annotations

import logging
from pathlib import Path

import onnx
from onnx import helper

log = logging.getLogger("chorus.kokoro")

DURATION_OUTPUT = "duration"


def with_durations(model: Path) -> bytes | None:
    """The model with its token durations as an output, serialized; None if the graph has no
    tensor of that shape (then the engine declares no timestamps)."""
    proto = onnx.load(str(model))
    graph = proto.graph
    if any(o.name == DURATION_OUTPUT for o in graph.output):
        return bytes(proto.SerializeToString())
    rounded = {out for node in graph.node if node.op_type == "Round" for out in node.output}
    # Durations are round(sigmoid(logits).sum() / speed) clipped to at least one frame; the
    # only Clip that reads a Round in Kokoro's graph.
    clips = [n for n in graph.node if n.op_type == "Clip" and n.input and n.input[0] in rounded]
    if len(clips) != 1:
        log.warning("no token-duration tensor in %s; word timestamps are off", model.name)
        return None
    graph.node.append(
        helper.make_node(
            "Identity", [clips[0].output[0]], [DURATION_OUTPUT], name="chorus_durations"
        )
    )
    graph.output.append(
        helper.make_tensor_value_info(DURATION_OUTPUT, onnx.TensorProto.FLOAT, [1, None])
    )
    return bytes(proto.SerializeToString())
