"""Build models/keras_digits.onnx: a small Keras CNN trained on scikit-learn's digits, exported
with tf2onnx so the ONNX graph takes NHWC input and has TF-style SAME padding on stride-2 convs.

Run it with a Python that has tensorflow-cpu, tf2onnx and scikit-learn (kept out of the main
environment so its protobuf/onnx are not disturbed), e.g.

    python3 -m venv ~/venvs/tf
    ~/venvs/tf/bin/pip install tensorflow-cpu==2.21.0 tf2onnx==1.17.0 scikit-learn==1.9.1
    ~/venvs/tf/bin/python models/build_keras_digits.py

Data: sklearn.datasets.load_digits (1797 8x8 greyscale digits, values 0..16), upsampled to
32x32 (bilinear), scaled to [0, 1] and repeated to 3 channels; stratified 80/20 split, seed 0.
Model (input NHWC [N, 32, 32, 3]):
    conv0  Conv2D 16, 3x3, stride 1, same, relu        32x32
    conv1  Conv2D 32, 3x3, stride 2, same, relu        16x16   (TF SAME: pad 0 top/left, 1 bottom/right)
    dw2    DepthwiseConv2D 3x3, stride 1, same, relu   16x16
    pw3    Conv2D 32, 1x1, relu                        16x16
    conv4  Conv2D 64, 3x3, stride 2, same, relu        8x8     (TF SAME again)
    GlobalAveragePooling2D -> Dense 10 (logits)
Exported with tf2onnx opset 17, ir_version set to 8, input "input" [N,32,32,3] float32,
output "logits" [N,10]; the script checks onnxruntime against Keras on the test set.
"""
from __future__ import annotations

import hashlib
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402
import onnx  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "models", "keras_digits.onnx")
SEED = 0
EPOCHS = 20


def data():
    d = load_digits()
    x = d.images.astype(np.float32) / 16.0  # [N, 8, 8]
    x = tf.image.resize(x[..., None], (32, 32), method="bilinear").numpy()
    x = np.repeat(x, 3, axis=-1).astype(np.float32)  # [N, 32, 32, 3]
    return train_test_split(x, d.target.astype(np.int64), test_size=0.2,
                            random_state=SEED, stratify=d.target)


def model():
    L = tf.keras.layers
    inp = tf.keras.Input((32, 32, 3), name="input")
    x = L.Conv2D(16, 3, strides=1, padding="same", activation="relu", name="conv0")(inp)
    x = L.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="conv1")(x)
    x = L.DepthwiseConv2D(3, strides=1, padding="same", activation="relu", name="dw2")(x)
    x = L.Conv2D(32, 1, activation="relu", name="pw3")(x)
    x = L.Conv2D(64, 3, strides=2, padding="same", activation="relu", name="conv4")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    out = L.Dense(10, name="logits")(x)
    return tf.keras.Model(inp, out, name="keras_digits")


def main() -> None:
    tf.keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(2)
    xtr, xte, ytr, yte = data()
    m = model()
    m.compile(optimizer=tf.keras.optimizers.Adam(2e-3),
              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
    t0 = time.time()
    m.fit(xtr, ytr, batch_size=32, epochs=EPOCHS, shuffle=True, verbose=2)
    print(f"training took {time.time() - t0:.1f} s")
    _, acc = m.evaluate(xte, yte, verbose=0)
    print(f"Keras test accuracy: {acc:.4f} on {len(yte)} held-out digits")

    spec = (tf.TensorSpec([None, 32, 32, 3], tf.float32, name="input"),)

    @tf.function(input_signature=spec)
    def fn(x):
        return {"logits": m(x, training=False)}

    proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=17,
                                             output_path=None)
    proto.ir_version = 8
    for vi in list(proto.graph.input) + list(proto.graph.output):
        vi.type.tensor_type.shape.dim[0].dim_param = "N"  # tf2onnx names it unk__NN
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, OUT)

    import onnxruntime as ort

    sess = ort.InferenceSession(OUT, providers=["CPUExecutionProvider"])
    iname = sess.get_inputs()[0].name
    oname = sess.get_outputs()[0].name
    print(f"ONNX input {iname} {sess.get_inputs()[0].shape}, output {oname} "
          f"{sess.get_outputs()[0].shape}")
    ref = m.predict(xte, verbose=0)
    got = sess.run([oname], {iname: xte})[0]
    err = float(np.abs(ref - got).max())
    onnx_acc = float((got.argmax(1) == yte).mean())
    print(f"max |keras - onnxruntime| = {err:.2e}; ONNX test accuracy {onnx_acc:.4f}; "
          f"argmax agreement {(got.argmax(1) == ref.argmax(1)).mean():.4f}")
    assert err < 1e-4, err
    assert acc > 0.9, acc

    g = proto.graph
    for n in g.node:
        if n.op_type in ("Conv", "ConvTranspose"):
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in attrs.items()}
            print(f"  {n.op_type} {n.name}: {attrs}")
    from collections import Counter

    print("op counts:", dict(sorted(Counter(n.op_type for n in g.node).items())))
    sha = hashlib.sha256(open(OUT, "rb").read()).hexdigest()
    print(f"{OUT}: {os.path.getsize(OUT)} bytes, sha256 {sha}")


if __name__ == "__main__":
    main()
