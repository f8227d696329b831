"""onnxsym.auditing.compose: the weights with their padding section, the padding with the lean of
each conv (the public analyze_weights and analyze_padding)."""
from __future__ import annotations


def test_deformconv_is_diagnosed_and_its_offsets_are_not_an_image(tmp_path):
    from onnx import TensorProto, helper as h

    from graphs import init, save, weight
    from onnxsym import analyze_weights

    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    off = h.make_tensor_value_info("off", TensorProto.FLOAT, [1, 18, 4, 4])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, None)
    n = h.make_node("DeformConv", ["x", "w", "off"], ["y"], name="dc", kernel_shape=[3, 3], strides=[2, 2],
                    pads=[1, 1, 1, 1])
    m = h.make_model(h.make_graph([n], "g", [x, off], [y], initializer=[init("w", weight())]),
                     opset_imports=[h.make_opsetid("", 19)])
    m.ir_version = 9
    rep = analyze_weights(save(m, tmp_path / "dc.onnx"), padding=True)
    assert [(l.id, l.op_type, l.status) for l in rep.layers] == [("dc", "DeformConv", "ok")]
    pad = rep.padding
    assert [r.id for r in pad.layers] == ["dc"] and pad.layers[0].uneven  # 8 even, stride 2, pads 1
    assert [i["name"] for i in pad.inputs] == ["x"]


def test_padding_section_joins_the_weights_skews_by_layer_id():
    import pytest

    from graphs import layer_model
    from onnxsym import InputError, analyze_padding, analyze_weights

    m = layer_model([1, 3, 224, 224], [3, 3], [2, 2], pads=[1, 1, 1, 1])
    rep = analyze_weights(m, padding=True)
    assert rep.padding.layers[0].skew == list(rep.skews()["L0"]) and rep.padding.layers[0].lean is not None
    assert rep.to_dict()["padding"]["schema"] == "onnxsym.padding/1"
    sym = layer_model([1, 3, "W"], [3], [2], pads=[1, 1])               # a 1-D conv of unknown width
    assert analyze_weights(sym, padding=True).padding is None          # no size known: no section
    assert analyze_weights(sym, input_shape="1x3x64").padding.input["spatial"] == [64]
    with pytest.raises(InputError, match="zero or negative"):
        analyze_weights(sym, input_shape="1x3x0")                      # a given shape is checked
    # the lean read from the weights, or not
    assert analyze_padding(m, suggest=False).layers[0].skew == rep.padding.layers[0].skew
    off = analyze_padding(m, lean=False, suggest=False)
    assert off.layers[0].skew is None and "skew not checked" in off.summary_line
