# mobilenetv2_formats.py - keras.applications MobileNetV2 (alpha 1.0, 224x224x3, 1000
# classes; Keras 2.15's layer names and configs, from make_fixtures.mobilenet_v2) with
# random but sensible weights (He-normal kernels, biases ~ N(0, 0.1), gamma ~ U(0.5, 1.5),
# moving_mean ~ N(0, 0.2), moving_variance ~ U(0.5, 1.5)), written as a Keras 2 model.h5, a
# Keras 3 model.keras and a TF.js layers model quantized to uint8 (tfjs_uint8/, 4 MB
# shards), with input.bin (batch 2, NHWC float32, pixels preprocessed as
# mobilenet_v2.preprocess_input does: x / 127.5 - 1) and the outputs of keras_reference.py:
# expected.bin from the float32 weights (for model.h5 and model.keras) and
# tfjs_uint8/expected.bin from the dequantized ones, which dequantized.h5 holds as a Keras
# 2 .h5 (the two must give identical logits). Not run in CI (about 33 MB of files);
# for trying the importer on a full-size model:
#
#   /usr/bin/python3 tests/keras/mobilenetv2_formats.py OUTDIR [--seed N]
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import keras_layouts as K  # noqa: E402
import keras_reference as R  # noqa: E402
import make_fixtures as M  # noqa: E402


def main():
    p = argparse.ArgumentParser(description="a full-size MobileNetV2 in the Keras layouts")
    p.add_argument("out", help="output directory")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    model = M.mobilenet_v2()
    walk = K.Walk(model)
    rng = np.random.default_rng(a.seed)
    weights = M.random_weights(walk, rng)
    x = (M.pixels((2, 224, 224, 3), rng, "255") / 127.5 - 1.0).astype(np.float32)
    h5 = os.path.join(a.out, "model.h5")
    K.write_keras2_h5(h5, model, weights)
    K.write_keras3(os.path.join(a.out, "model.keras"), model, weights)
    q = os.path.join(a.out, "tfjs_uint8")
    K.write_tfjs(q, h5, quantization="uint8")
    M.write_bin(os.path.join(a.out, "input.bin"), x)
    y = R.run(model, weights, x)[0]
    M.write_bin(os.path.join(a.out, "expected.bin"), y)
    cfg, named = K.read_tfjs(os.path.join(q, "model.json"))
    yq = R.run(cfg, K.tfjs_to_layers(cfg, named), x)[0]
    M.write_bin(os.path.join(q, "expected.bin"), yq)
    # The same model as a Keras 2 .h5 holding the uint8 model's dequantized weights: it and
    # tfjs_uint8/ must give identical logits.
    K.write_keras2_h5(os.path.join(a.out, "dequantized.h5"), model, K.tfjs_to_layers(cfg, named))
    total, trainable, frozen = K.count_params(walk)
    info = {"name": "mobilenetv2_1.00_224", "input_shape": [224, 224, 3], "batch": 2,
            "input_range": [-1, 1], "outputs": 1000,
            "params": {"total": total, "trainable": trainable, "non_trainable": frozen},
            "top1": [int(v) for v in y.argmax(1)], "top1_uint8": [int(v) for v in yq.argmax(1)],
            "max_abs_diff_uint8": float(np.abs(yq - y).max())}
    M.write_info(os.path.join(a.out, "info.json"), info)
    print(json.dumps(info))


if __name__ == "__main__":
    main()
