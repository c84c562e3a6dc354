# make_fixtures.py - the Keras fixtures of clnet's importer tests (tests/io/test_keras*.c):
# small models covering every layer class the importer maps, each written as Keras 2 .h5,
# Keras 3 .keras and TF.js layers model (keras_layouts.py), with an NHWC float32 input of
# batch 2 and the outputs Keras would give (keras_reference.py, float64 cast to float32);
# full-size keras.applications look-alikes (ResNet50, MobileNetV2) whose datasets are left
# unwritten (read back as fill values) for the parameter totals; an unsupported model; and
# hostile files (hostile/README.md). Run with Debian's /usr/bin/python3 (python3-h5py 3.7,
# python3-numpy, python3-torch); never a clnet dependency: the files are committed.
#
#   /usr/bin/python3 tests/keras/make_fixtures.py                   everything
#   /usr/bin/python3 tests/keras/make_fixtures.py --only mobilenet_block
#   /usr/bin/python3 tests/keras/make_fixtures.py --only hostile
#   /usr/bin/python3 tests/keras/make_fixtures.py --check           read every file back
#
# Deterministic: the same h5py/libhdf5, numpy and torch give the same bytes.
import argparse
import io
import json
import os
import shutil
import sys
import zipfile
import zlib

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import keras_layouts as K  # noqa: E402
import keras_reference as R  # noqa: E402

FIXTURES = os.path.join(HERE, "fixtures")
BATCH = 2


def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


# ---- weights ----------------------------------------------------------------------------


def random_weights(walk, rng):
    """Seeded weights that make every parameter matter: He-normal kernels, biases ~ N(0,
    0.1), gamma ~ U(0.5, 1.5), beta and moving_mean ~ N(0, 0.2), moving_variance ~ U(0.5,
    1.5); Normalization's statistics near pixel values'."""
    out = {}
    for l in walk.model["config"]["layers"]:
        n = l["config"]["name"]
        if n in walk.sub:
            out[n] = random_weights(walk.sub[n], rng)
            continue
        ws = []
        for k2, _, shape, _ in walk.specs.get(n, []):
            if k2 in ("kernel", "depthwise_kernel", "pointwise_kernel"):
                fan_in = int(np.prod(shape[:-1])) if k2 != "depthwise_kernel" else \
                    int(shape[0] * shape[1])
                a = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
            elif k2 == "bias":
                a = rng.normal(0.0, 0.1, shape)
            elif k2 in ("gamma", "moving_variance"):
                a = rng.uniform(0.5, 1.5, shape)
            elif k2 in ("beta", "moving_mean"):
                a = rng.normal(0.0, 0.2, shape)
            elif k2 == "mean":
                a = rng.uniform(100.0, 150.0, shape)
            elif k2 == "variance":
                a = rng.uniform(2000.0, 4000.0, shape)
            elif k2 == "count":
                ws.append(np.array(1000, dtype=np.int64))
                continue
            else:
                raise ValueError(f"no initializer for {n}/{k2}")
            ws.append(a.astype(np.float32))
        if ws:
            out[n] = ws
    return out


def pixels(shape, rng, scale):
    """Pixel-like input: integers 0..255 (scale "255") or those / 255 (scale "1")."""
    x = rng.integers(0, 256, size=shape).astype(np.float32)
    return x if scale == "255" else (x / 255.0).astype(np.float32)


# ---- the small models -------------------------------------------------------------------


def sequential_basic():
    m = K.sequential("sequential", [
        K.input_layer("input_1", (12, 9, 3)),
        K.conv2d("conv2d", 8, 3, strides=2, padding="same"),
        K.batch_norm("batch_normalization", epsilon=1.001e-5),
        K.relu("re_lu"),
        K.max_pool("max_pooling2d", 2),
        K.flatten("flatten"),
        K.dense("dense", 16, activation="relu"),
        K.dropout("dropout", 0.3),
        K.dense("dense_1", 5, activation="softmax"),
    ])
    return m, ("Sequential: InputLayer, Conv2D 3x3/2 same with bias on 12x9 (pads 0/1 rows, "
               "1/1 columns), BatchNormalization eps 1.001e-5, ReLU, MaxPooling2D 2, Flatten "
               "(NHWC order), Dense relu, Dropout, Dense softmax. model.h5 is compiled: "
               "training_config and an optimizer_weights group (Adam: iteration, m/..., "
               "v/...) to ignore; their contents are plausible, not checked against Keras.")


def functional_resnet_block():
    f = K.Functional("resnet_block")
    x = f.input("input_1", (12, 10, 3))
    x = f(K.zero_pad("conv1_pad", 3), x)
    x = f(K.conv2d("conv1_conv", 8, 7, strides=2), x)
    x = f(K.batch_norm("conv1_bn", axis=3, epsilon=1.001e-5), x)
    x = f(K.activation("conv1_relu", "relu"), x)
    s = x
    y = f(K.conv2d("block1_1_conv", 8, 3, padding="same", use_bias=False), x)
    y = f(K.batch_norm("block1_1_bn", axis=3, epsilon=1.001e-5), y)
    y = f(K.activation("block1_1_relu", "relu"), y)
    y = f(K.conv2d("block1_2_conv", 8, 3, padding="same", use_bias=False, groups=2), y)
    y = f(K.batch_norm("block1_2_bn", axis=3, epsilon=1.001e-5), y)
    x = f(K.merge("Add", "block1_add"), s, y)
    x = f(K.activation("block1_out", "relu"), x)
    s = f(K.conv2d("block2_0_conv", 16, 1, strides=2), x)
    s = f(K.batch_norm("block2_0_bn", axis=3, epsilon=1.001e-5), s)
    y = f(K.conv2d("block2_1_conv", 16, 1, strides=2), x)
    y = f(K.batch_norm("block2_1_bn", axis=3, epsilon=1.001e-5), y)
    y = f(K.activation("block2_1_relu", "relu"), y)
    y = f(K.conv2d("block2_2_conv", 16, 3, padding="same"), y)
    y = f(K.batch_norm("block2_2_bn", axis=3, epsilon=1.001e-5), y)
    x = f(K.merge("Add", "block2_add"), s, y)
    x = f(K.activation("block2_out", "relu"), x)
    x = f(K.global_avg_pool("avg_pool"), x)
    x = f(K.dense("predictions", 5), x)
    return f.config(x), ("Functional, keras.applications ResNet style: ZeroPadding2D 3, "
                         "Conv2D 7x7/2 valid with bias, BatchNormalization (axis 3, eps "
                         "1.001e-5), Activation relu, identity and 1x1/2 projection "
                         "shortcuts, Conv2D without bias (one grouped: groups 2, kernel "
                         "(3, 3, 4, 8)), Add, GlobalAveragePooling2D, Dense (logits).")


def _mbv2_bn(name):
    return K.batch_norm(name, axis=-1, epsilon=1e-3, momentum=0.999)


def mobilenet_block():
    f = K.Functional("mobilenet_block")
    x = f.input("input_1", (12, 10, 3))
    x = f(K.conv2d("Conv1", 8, 3, padding="same", use_bias=False), x)
    x = f(_mbv2_bn("bn_Conv1"), x)
    x = f(K.relu("Conv1_relu", 6.0), x)
    y = f(K.conv2d("block_1_expand", 24, 1, padding="same", use_bias=False), x)
    y = f(_mbv2_bn("block_1_expand_BN"), y)
    y = f(K.relu("block_1_expand_relu", 6.0), y)
    # imagenet_utils.correct_pad on 12x10: ((0, 1), (0, 1))
    y = f(K.zero_pad("block_1_pad", ((0, 1), (0, 1))), y)
    y = f(K.depthwise_conv2d("block_1_depthwise", 3, strides=2, padding="valid",
                             use_bias=False), y)
    y = f(_mbv2_bn("block_1_depthwise_BN"), y)
    y = f(K.relu("block_1_depthwise_relu", 6.0), y)
    y = f(K.conv2d("block_1_project", 8, 1, padding="same", use_bias=False), y)
    x = f(_mbv2_bn("block_1_project_BN"), y)
    y = f(K.conv2d("block_2_expand", 16, 1, padding="same", use_bias=False), x)
    y = f(_mbv2_bn("block_2_expand_BN"), y)
    y = f(K.relu("block_2_expand_relu", 6.0), y)
    y = f(K.depthwise_conv2d("block_2_depthwise", 3, strides=1, padding="same",
                             depth_multiplier=2, use_bias=True), y)
    y = f(_mbv2_bn("block_2_depthwise_BN"), y)
    y = f(K.relu("block_2_depthwise_relu", 6.0), y)
    y = f(K.conv2d("block_2_project", 8, 1, padding="same", use_bias=False), y)
    y = f(_mbv2_bn("block_2_project_BN"), y)
    x = f(K.merge("Add", "block_2_add"), x, y)
    x = f(K.conv2d("Conv_1", 16, 1, use_bias=False), x)
    x = f(_mbv2_bn("Conv_1_bn"), x)
    x = f(K.relu("out_relu", 6.0), x)
    x = f(K.global_avg_pool("global_average_pooling2d"), x)
    x = f(K.dense("predictions", 5), x)
    return f.config(x), ("Functional, MobileNetV2 inverted residuals: correct_pad's "
                         "ZeroPadding2D ((0, 1), (0, 1)) then DepthwiseConv2D 3x3/2 valid, "
                         "ReLU(max_value=6), DepthwiseConv2D 3x3/1 same with "
                         "depth_multiplier 2 and a bias, 1x1 Conv2D expand/project, "
                         "BatchNormalization (axis -1, eps 1e-3, momentum 0.999), Add.")


def separable_concat():
    f = K.Functional("separable_concat")
    x = f.input("input_1", (11, 10, 3))
    a = f(K.separable_conv2d("sep_1", 8, 3, padding="same", depth_multiplier=2), x)
    b = f(K.separable_conv2d("sep_2", 8, 3, strides=2, padding="same", use_bias=False), a)
    c = f(K.avg_pool("avg_pool_same", 3, strides=2, padding="same"), a)
    d = f(K.conv2d("conv_3x3", 8, 3, padding="same"), a)
    d = f(K.max_pool("max_pool_same", 2, strides=2, padding="same"), d)
    x = f(K.concatenate("concat", axis=-1), b, c, d)
    x = f(K.relu("leaky", negative_slope=0.1), x)
    g = f(K.global_avg_pool("se_squeeze"), x)
    g = f(K.reshape("se_reshape", (1, 1, 24)), g)
    g = f(K.dense("se_reduce", 6, activation="relu"), g)
    g = f(K.dense("se_expand", 24, activation="sigmoid"), g)
    x = f(K.merge("Multiply", "se_excite"), x, g)
    x = f(K.global_max_pool("max_head", keepdims=True), x)
    x = f(K.flatten("flatten"), x)
    x = f(K.dense("predictions", 5), x)
    return f.config(x), ("Functional on 11x10 (odd and even): SeparableConv2D 3x3 same "
                         "stride 1 (depth_multiplier 2, bias) and stride 2 (no bias), "
                         "AveragePooling2D 3x3/2 same (divides by the cells inside), "
                         "Conv2D 3x3 same, MaxPooling2D 2x2/2 same, "
                         "Concatenate of three, ReLU(negative_slope=0.1), a squeeze-and-"
                         "excitation gate (GlobalAveragePooling2D, Reshape to (1, 1, 24), "
                         "Dense relu, Dense sigmoid, Multiply), GlobalMaxPooling2D "
                         "keepdims, Flatten, Dense.")


def rescaling_nested():
    seq = K.sequential("block_seq", [
        K.input_layer("block_seq_input", (12, 10, 3)),
        K.conv2d("seq_conv", 8, 3, strides=2, padding="same"),
        K.batch_norm("seq_bn"),
        K.relu("seq_relu"),
    ])
    g = K.Functional("block_fn")
    i = g.input("block_fn_input", (6, 5, 8))
    y = g(K.conv2d("fn_conv", 8, 1), i)
    y = g(K.batch_norm("fn_bn"), y)
    y = g(K.activation("fn_relu", "relu"), y)
    s = g(K.global_avg_pool("fn_squeeze", keepdims=True), y)
    s = g(K.dense("fn_gate", 8, activation="sigmoid"), s)
    y = g(K.merge("Multiply", "fn_excite"), y, s)
    fn = g.config(y)
    f = K.Functional("rescaling_nested")
    x = f.input("input_1", (12, 10, 3))
    x = f(K.rescaling("rescaling", 1.0 / 127.5, -1.0), x)
    x = f(seq, x)
    x = f(fn, x)
    x = f(K.global_avg_pool("avg_pool"), x)
    x = f(K.dense("predictions", 5), x)
    return f.config(x), ("Functional: Rescaling(1/127.5, offset -1) on 0..255 pixels, a "
                         "nested Sequential (its own InputLayer; Conv2D 3x3/2, BN, ReLU) and "
                         "a nested Functional used as a layer (Conv2D 1x1, BN, relu, "
                         "GlobalAveragePooling2D keepdims, Dense sigmoid, broadcast "
                         "Multiply), GlobalAveragePooling2D, Dense. In Keras 2 both nested "
                         "models are called at node index 1; each nested model's h5 group "
                         "holds its layers' weights, trainable ones first.")


def finetune_sequential():
    g = K.Functional("base")
    i = g.input("input_1", (12, 10, 3))
    y = g(K.conv2d("base_conv1", 8, 3, strides=2, padding="same", use_bias=False), i)
    y = g(K.batch_norm("base_bn1", epsilon=1e-3, momentum=0.999), y)
    y = g(K.relu("base_relu1", 6.0), y)
    y = g(K.depthwise_conv2d("base_dw", 3, padding="same", use_bias=False), y)
    y = g(K.batch_norm("base_bn2", epsilon=1e-3, momentum=0.999), y)
    y = g(K.relu("base_relu2", 6.0), y)
    y = g(K.conv2d("base_conv2", 16, 1, use_bias=False), y)
    y = g(K.batch_norm("base_bn3", epsilon=1e-3, momentum=0.999), y)
    base = K.set_trainable(g.config(y), False)
    m = K.sequential("sequential", [
        # Keras 2's Sequential.add of a model with an input shape makes this InputLayer,
        # named after the model (training_utils.get_input_shape_and_dtype).
        K.input_layer("base_input", (12, 10, 3)),
        base,
        K.global_avg_pool("global_average_pooling2d"),
        K.dropout("dropout", 0.2),
        K.dense("dense", 3),
    ])
    return m, ("Sequential wrapping a frozen Functional base (base.trainable = False, as "
               "the transfer-learning tutorials) plus a new head: GlobalAveragePooling2D, "
               "Dropout, Dense. The frozen base's h5 group lists each layer's weights "
               "together, layer after layer (kernel; gamma, beta, moving_mean, "
               "moving_variance; ...): a frozen model has no trainable weights. Its "
               "parameters are all non-trainable.")


def normalization_first():
    f = K.Functional("normalization_first")
    x = f.input("input_1", (12, 10, 3))
    x = f(K.normalization("normalization"), x)
    x = f(K.conv2d("conv", 8, 3, strides=2, padding="same"), x)
    x = f(K.batch_norm("bn"), x)
    x = f(K.activation("swish", "swish"), x)
    x = f(K.global_avg_pool("avg_pool"), x)
    x = f(K.dense("predictions", 5), x)
    return f.config(x), ("Functional: an adapted Normalization first (weights mean, "
                         "variance [3] and count, an int64 scalar: Keras 2 h5 dataset of "
                         "shape (), TF.js int32) on 0..255 pixels, then Conv2D, BN, "
                         "Activation swish, GlobalAveragePooling2D, Dense.")


def normalization_config():
    m = K.sequential("sequential", [
        K.input_layer("input_1", (8, 7, 3)),
        K.normalization("normalization", mean=[123.675, 116.28, 103.53],
                        variance=[3409.976, 3262.6944, 3291.890625]),
        K.conv2d("conv2d", 4, 3, padding="same", activation="relu"),
        K.global_avg_pool("global_average_pooling2d"),
        K.dense("dense", 3),
    ])
    return m, ("Sequential: a Normalization whose mean and variance are in the config "
               "(ImageNet's, in 0..255 units; no weights), Conv2D with a relu activation, "
               "GlobalAveragePooling2D, Dense.")


LONG = "a_layer_with_a_rather_long_name_to_split_layer_names"


def long_names():
    f = K.Functional("long_names")
    x = f.input(LONG + "_input", (8, 6, 3))
    for k in range(6):
        x = f(K.conv2d(f"{LONG}_conv_{k}", 4, 3, padding="same"), x)
        x = f(K.relu(f"{LONG}_relu_{k}"), x)
    x = f(K.global_avg_pool(LONG + "_pool"), x)
    x = f(K.dense(LONG + "_logits", 3), x)
    return f.config(x), ("Functional of 15 layers with 55-byte names, written with the "
                         "attribute limit lowered to 256 bytes (keras_layouts' attr_limit): "
                         "layer_names is split as Keras splits attributes over 64512 bytes, "
                         "into layer_names0 .. layer_names3 (np.array_split, fixed-length "
                         "strings), in model.h5. weight_names stay whole.")


SMALL = {
    "sequential_basic": (sequential_basic, "1", ("uint8",), True),
    "functional_resnet_block": (functional_resnet_block, "1", ("uint16",), False),
    "mobilenet_block": (mobilenet_block, "1", ("uint8", "uint16", "float16"), False),
    "separable_concat": (separable_concat, "1", ("float16",), False),
    "rescaling_nested": (rescaling_nested, "255", ("uint8",), True),
    "finetune_sequential": (finetune_sequential, "1", (), True),
    "normalization_first": (normalization_first, "255", (), False),
    "normalization_config": (normalization_config, "255", (), False),
    "long_names": (long_names, "1", (), False),
}


# also saved as Keras 3 saves a .h5 (model_keras3.h5)
KERAS3_H5 = ("rescaling_nested",)


def adam_state(model, weights):
    """optimizer_weights of a compiled Keras 2.11+ Adam after some steps: iteration, then
    m and v of each trainable weight (optimizer.py add_variable_from_reference names them
    m/<variable>, v/<variable>); values random. Only for the importer to ignore."""
    rng = rng_for("adam")
    out = [("iteration:0", np.array(30, dtype=np.int64))]
    walk = K.Walk(model)
    for l in model["config"]["layers"]:
        if l["class_name"] == "InputLayer":
            continue
        n = l["config"]["name"]
        for (k2, _, shape, tw), a in zip(walk.specs.get(n, []), weights.get(n, [])):
            if tw:
                for p in ("m", "v"):
                    out.append((f"{p}/{n}/{k2}:0",
                                (rng.normal(0, 0.01, shape) ** (2 if p == "v" else 1))
                                .astype(np.float32)))
    return out


TRAINING_CONFIG = {"loss": "sparse_categorical_crossentropy", "metrics": [["accuracy"]],
                   "weighted_metrics": None, "loss_weights": None,
                   "optimizer_config": {"class_name": "Adam", "config": {
                       "name": "Adam", "weight_decay": None, "clipnorm": None,
                       "global_clipnorm": None, "clipvalue": None, "use_ema": False,
                       "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                       "jit_compile": False, "is_legacy_optimizer": False,
                       "learning_rate": 0.0010000000474974513, "beta_1": 0.9,
                       "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}}}


def write_info(path, info):
    """info.json: one key a line, values compact."""
    body = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in info.items())
    with open(path, "w") as f:
        f.write("{\n" + body + "\n}\n")


def write_bin(path, a):
    np.ascontiguousarray(a, dtype="<f4").tofile(path)


def size_kb(path):
    tot = 0
    for root, _, files in os.walk(path):
        tot += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return tot / 1024.0


def make_small(name):
    build, scale, quants, weights_h5 = SMALL[name]
    model, desc = build()
    out = os.path.join(FIXTURES, name)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    walk = K.Walk(model)
    rng = rng_for(name)
    weights = random_weights(walk, rng)
    in_shape = tuple(walk.input_shapes[0][1:])
    x = pixels((BATCH,) + in_shape, rng, scale)
    h5 = os.path.join(out, "model.h5")
    kw = {}
    if name == "long_names":
        kw["attr_limit"] = 256
    if name == "sequential_basic":
        kw["training_config"] = TRAINING_CONFIG
        kw["optimizer_weights"] = adam_state(model, weights)
    K.write_keras2_h5(h5, model, weights, **kw)
    files = ["model.h5"]
    if weights_h5:
        K.write_keras2_weights(os.path.join(out, "weights.h5"), model, weights,
                               attr_limit=kw.get("attr_limit", K.HDF5_OBJECT_HEADER_LIMIT))
        files.append("weights.h5")
    K.write_keras3(os.path.join(out, "model.keras"), model, weights)
    files.append("model.keras")
    if name in KERAS3_H5:
        K.write_keras3_h5(os.path.join(out, "model_keras3.h5"), model, weights)
        files.append("model_keras3.h5")
    # small shards, so that a fixture has several and a weight spans two
    K.write_tfjs(os.path.join(out, "tfjs"), h5, shard_bytes=4096)
    files.append("tfjs/")
    ys = R.run(model, weights, x)
    write_bin(os.path.join(out, "input.bin"), x)
    write_bin(os.path.join(out, "expected.bin"), np.concatenate([y.reshape(BATCH, -1)
                                                                for y in ys], axis=1))
    for q in quants:
        d = os.path.join(out, "tfjs_" + q)
        K.write_tfjs(d, h5, quantization=q)
        cfg, named = K.read_tfjs(os.path.join(d, "model.json"))
        yq = R.run(cfg, K.tfjs_to_layers(cfg, named), x)
        write_bin(os.path.join(d, "expected.bin"),
                  np.concatenate([y.reshape(BATCH, -1) for y in yq], axis=1))
        files.append(f"tfjs_{q}/")
    total, trainable, frozen = K.count_params(walk)
    info = {"name": name, "description": desc,
            "input_shape": list(in_shape), "batch": BATCH,
            "input_range": [0, 255] if scale == "255" else [0, 1],
            "output_shapes": [list(s[1:]) for s in walk.output_shapes],
            "outputs": int(sum(np.prod(s[1:]) for s in walk.output_shapes)),
            "params": {"total": total, "trainable": trainable, "non_trainable": frozen},
            "classes": sorted({l["class_name"] for l in _all_layers(model)}),
            "files": files, "keras2_version": K.KERAS2_VERSION,
            "keras3_version": K.KERAS3_VERSION}
    write_info(os.path.join(out, "info.json"), info)
    print(f"{name}: {size_kb(out):.0f} KB, {total} params, outputs {info['output_shapes']}")


def _all_layers(model):
    for l in model["config"]["layers"]:
        yield l
        if K.is_model(l):
            yield from _all_layers(l)


# ---- unsupported ------------------------------------------------------------------------


def make_unsupported():
    f = K.Functional("unsupported")
    x = f.input("input_1", (12, 10, 3))
    x = f(K.conv2d("conv", 8, 3, padding="same"), x)
    x = f(K.conv2d("conv_dilated", 8, 3, padding="same", dilation_rate=2), x)
    x = f(K.upsampling2d("upsample", 2), x)
    x = f(K.conv2d_transpose("deconv", 4, 3, strides=2, padding="same"), x)
    x = f(K.conv2d("conv_channels_first", 4, 3, padding="same",
                   data_format="channels_first"), x)
    x = f(K.global_avg_pool("avg_pool"), x)
    x = f(K.dense("predictions", 5), x)
    model = f.config(x)
    # shapes by hand (channels_first and Conv2DTranspose are beyond Walk's shape rules):
    # conv (12, 10, 8); upsample (24, 20, 8); deconv (48, 40, 4); conv_channels_first reads
    # axis 1 (48) as channels: (4, 40, 4); avg_pool over axes 1, 2: (4,); predictions (5,)
    rng = rng_for("unsupported")
    shapes = {"conv": [(3, 3, 3, 8), (8,)], "conv_dilated": [(3, 3, 8, 8), (8,)],
              "deconv": [(3, 3, 4, 8), (4,)],
              "conv_channels_first": [(3, 3, 48, 4), (4,)], "predictions": [(4, 5), (5,)]}
    weights = {n: [(("kernel", "bias")[i], rng.normal(0, 0.1, s).astype(np.float32))
                   for i, s in enumerate(ss)] for n, ss in shapes.items()}
    out = os.path.join(FIXTURES, "unsupported")
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    _write_h5_unchecked(os.path.join(out, "model.h5"), model, weights)
    info = {"name": "unsupported",
            "description": "A valid Keras 2 model.h5 clnet cannot run: a Conv2D "
                           "('conv_dilated') with dilation_rate 2, two layer classes it "
                           "lacks (UpSampling2D 'upsample', Conv2DTranspose 'deconv') and a "
                           "Conv2D ('conv_channels_first') with data_format channels_first. "
                           "The import must fail with CLNET_ERR_UNSUPPORTED and one message "
                           "naming all four (class and layer name; the key and value for "
                           "the Conv2Ds), not only the first.",
            "input_shape": [12, 10, 3],
            "expected_error": "CLNET_ERR_UNSUPPORTED",
            "unsupported": [{"layer": "conv_dilated", "class": "Conv2D",
                             "key": "dilation_rate", "value": [2, 2]},
                            {"layer": "upsample", "class": "UpSampling2D"},
                            {"layer": "deconv", "class": "Conv2DTranspose"},
                            {"layer": "conv_channels_first", "class": "Conv2D",
                             "key": "data_format", "value": "channels_first"}],
            "files": ["model.h5"], "keras2_version": K.KERAS2_VERSION}
    write_info(os.path.join(out, "info.json"), info)
    print(f"unsupported: {size_kb(out):.0f} KB")


def _write_h5_unchecked(path, model, weights):
    """write_keras2_h5 for a model Walk cannot infer: weights given as (name, array)."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = K.KERAS2_VERSION
        f.attrs["backend"] = K.BACKEND
        f.attrs["model_config"] = json.dumps(K.keras2_config(model)).encode("utf8")
        g = f.create_group("model_weights")
        layers = model["config"]["layers"]
        K.save_attributes(g, "layer_names", [l["name"].encode() for l in layers])
        g.attrs["backend"] = K.BACKEND.encode()
        g.attrs["keras_version"] = K.KERAS2_VERSION.encode()
        for l in sorted(layers, key=lambda l: l["name"]):
            lg = g.create_group(l["name"])
            ws = weights.get(l["name"], [])
            names = [f"{l['name']}/{k}:0".encode() for k, _ in ws]
            K.save_attributes(lg, "weight_names", names)
            for n, (_, a) in zip(names, ws):
                lg.create_dataset(n, data=a)
        K.save_attributes(g.create_group("top_level_model_weights"), "weight_names", [])


# ---- keras.applications look-alikes -----------------------------------------------------


def resnet50(classes=1000, size=224):
    """keras.applications.ResNet50 (applications/resnet.py ResNet, stack1, block1): the
    names, configs and order of Keras 2.15's."""
    f = K.Functional("resnet50")
    x = f.input("input_1", (size, size, 3))
    x = f(K.zero_pad("conv1_pad", ((3, 3), (3, 3))), x)
    x = f(K.conv2d("conv1_conv", 64, 7, strides=2, use_bias=True), x)
    x = f(K.batch_norm("conv1_bn", axis=3, epsilon=1.001e-5), x)
    x = f(K.activation("conv1_relu", "relu"), x)
    x = f(K.zero_pad("pool1_pad", ((1, 1), (1, 1))), x)
    x = f(K.max_pool("pool1_pool", 3, strides=2), x)

    def block1(x, filters, stride=1, conv_shortcut=True, name=""):
        if conv_shortcut:
            s = f(K.conv2d(name + "_0_conv", 4 * filters, 1, strides=stride), x)
            s = f(K.batch_norm(name + "_0_bn", axis=3, epsilon=1.001e-5), s)
        else:
            s = x
        x = f(K.conv2d(name + "_1_conv", filters, 1, strides=stride), x)
        x = f(K.batch_norm(name + "_1_bn", axis=3, epsilon=1.001e-5), x)
        x = f(K.activation(name + "_1_relu", "relu"), x)
        x = f(K.conv2d(name + "_2_conv", filters, 3, padding="SAME"), x)
        x = f(K.batch_norm(name + "_2_bn", axis=3, epsilon=1.001e-5), x)
        x = f(K.activation(name + "_2_relu", "relu"), x)
        x = f(K.conv2d(name + "_3_conv", 4 * filters, 1), x)
        x = f(K.batch_norm(name + "_3_bn", axis=3, epsilon=1.001e-5), x)
        x = f(K.merge("Add", name + "_add"), s, x)
        return f(K.activation(name + "_out", "relu"), x)

    def stack1(x, filters, blocks, stride1=2, name=""):
        x = block1(x, filters, stride=stride1, name=name + "_block1")
        for i in range(2, blocks + 1):
            x = block1(x, filters, conv_shortcut=False, name=name + "_block" + str(i))
        return x

    x = stack1(x, 64, 3, stride1=1, name="conv2")
    x = stack1(x, 128, 4, name="conv3")
    x = stack1(x, 256, 6, name="conv4")
    x = stack1(x, 512, 3, name="conv5")
    x = f(K.global_avg_pool("avg_pool"), x)
    x = f(K.dense("predictions", classes, activation="softmax"), x)
    return f.config(x)


def make_divisible(v, divisor=8, min_value=None):
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def correct_pad(size, kernel=3):
    adjust = (1 - size[0] % 2, 1 - size[1] % 2)
    c = (kernel // 2, kernel // 2)
    return ((c[0] - adjust[0], c[0]), (c[1] - adjust[1], c[1]))


def mobilenet_v2(alpha=1.0, size=224, classes=1000):
    """keras.applications.MobileNetV2 (applications/mobilenet_v2.py, _inverted_res_block,
    imagenet_utils.correct_pad): Keras 2.15's names, configs and order."""
    f = K.Functional(f"mobilenetv2_{alpha:0.2f}_{size}")
    x = f.input("input_1", (size, size, 3))
    shapes = {"input_1": (size, size, 3)}

    def call(layer, *ins):
        r = f(layer, *ins)
        shapes[r.layer] = K.output_shape(layer, [(None,) + shapes[i.layer] for i in ins])[1:]
        return r

    x = call(K.conv2d("Conv1", make_divisible(32 * alpha, 8), 3, strides=(2, 2),
                      padding="same", use_bias=False), x)
    x = call(_mbv2_bn("bn_Conv1"), x)
    x = call(K.relu("Conv1_relu", 6.0), x)

    def block(inputs, expansion, stride, filters, block_id):
        in_ch = shapes[inputs.layer][-1]
        pw = make_divisible(int(filters * alpha), 8)
        x = inputs
        prefix = f"block_{block_id}_"
        if block_id:
            x = call(K.conv2d(prefix + "expand", expansion * in_ch, 1, padding="same",
                              use_bias=False), x)
            x = call(_mbv2_bn(prefix + "expand_BN"), x)
            x = call(K.relu(prefix + "expand_relu", 6.0), x)
        else:
            prefix = "expanded_conv_"
        if stride == 2:
            x = call(K.zero_pad(prefix + "pad", correct_pad(shapes[x.layer][:2])), x)
        x = call(K.depthwise_conv2d(prefix + "depthwise", 3, strides=stride, use_bias=False,
                                    padding="same" if stride == 1 else "valid"), x)
        x = call(_mbv2_bn(prefix + "depthwise_BN"), x)
        x = call(K.relu(prefix + "depthwise_relu", 6.0), x)
        x = call(K.conv2d(prefix + "project", pw, 1, padding="same", use_bias=False), x)
        x = call(_mbv2_bn(prefix + "project_BN"), x)
        if in_ch == pw and stride == 1:
            return call(K.merge("Add", prefix + "add"), inputs, x)
        return x

    setting = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
               (6, 160, 3, 2), (6, 320, 1, 1)]
    bid = 0
    for t, c, n, s in setting:
        for i in range(n):
            x = block(x, t, s if i == 0 else 1, c, bid)
            bid += 1
    last = make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = call(K.conv2d("Conv_1", last, 1, use_bias=False), x)
    x = call(_mbv2_bn("Conv_1_bn"), x)
    x = call(K.relu("out_relu", 6.0), x)
    x = call(K.global_avg_pool("global_average_pooling2d"), x)
    x = call(K.dense("predictions", classes, activation="softmax"), x)
    return f.config(x)


# Fill values of the unwritten datasets, by weight kind (positive variances).
FILL = {"kernel": 0.001, "depthwise_kernel": 0.01, "pointwise_kernel": 0.002, "bias": 0.02,
        "gamma": 1.0, "beta": 0.0, "moving_mean": 0.05, "moving_variance": 0.9}


class Unwritten:
    """Stands in for an array: write_keras2_h5 / write_keras3 create the dataset chunked
    with a fill value and write no data (unallocated chunks read back as the fill)."""

    def __init__(self, shape, fill):
        self.shape, self.fill_value, self.dtype = tuple(shape), np.float32(fill), np.dtype("f4")


def fill_weights(walk):
    out = {}
    for l in walk.model["config"]["layers"]:
        n = l["config"]["name"]
        ws = [Unwritten(shape, FILL[k2]) for k2, _, shape, _ in walk.specs.get(n, [])]
        if ws:
            out[n] = ws
    return out


APPS = {"resnet50_app": (resnet50, "ResNet50", 25636712),
        "mobilenetv2_app": (mobilenet_v2, "MobileNetV2 alpha 1.0", 3538984)}


def make_app(name):
    build, title, want = APPS[name]
    model = build()
    walk = K.Walk(model)
    total, trainable, frozen = K.count_params(walk)
    if total != want:
        raise SystemExit(f"{name}: {total} parameters, keras.applications has {want}")
    out = os.path.join(FIXTURES, name)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    weights = fill_weights(walk)
    K.write_keras2_h5(os.path.join(out, "model.h5"), model, weights)
    # as the shipped keras.applications weight files: no top_level_model_weights (before
    # Keras 2.7), fixed-length name arrays (h5py 2)
    K.write_keras2_weights(os.path.join(out, "weights.h5"), model, weights, strings="fixed",
                           top_level=False)
    # deflated, unlike Keras's stored entries: 0.6 MB of empty HDF5 groups become 25 KB
    K.write_keras3(os.path.join(out, "model.keras"), model, weights,
                   compression=zipfile.ZIP_DEFLATED)
    n_layers = len(model["config"]["layers"])
    info = {"name": name,
            "description": f"keras.applications {title} at 224x224x3 with 1000 classes: "
                           "its layer names, configs and order (Keras 2.15). Every dataset "
                           "is chunked and left unwritten, so it reads back as its fill "
                           "value (kernels 0.001, depthwise kernels 0.01, biases 0.02, "
                           "gamma 1, beta 0, moving_mean 0.05, moving_variance 0.9). "
                           "weights.h5 is laid out as the shipped weight files (no "
                           "top_level_model_weights, fixed-length name arrays); model.keras's "
                           "entries are deflated (Keras stores them; a re-zipped file "
                           "deflates). For the "
                           "parameter totals of model.summary(); no TF.js, no outputs.",
            "input_shape": [224, 224, 3], "output_shapes": [[1000]], "outputs": 1000,
            "layers": n_layers,
            "params": {"total": total, "trainable": trainable, "non_trainable": frozen},
            "fill_values": FILL,
            "files": ["model.h5", "weights.h5", "model.keras"],
            "keras2_version": K.KERAS2_VERSION, "keras3_version": K.KERAS3_VERSION}
    write_info(os.path.join(out, "info.json"), info)
    print(f"{name}: {size_kb(out):.0f} KB, {n_layers} layers, {total} = {trainable} + "
          f"{frozen}")


# ---- hostile ----------------------------------------------------------------------------


def make_hostile():
    out = os.path.join(FIXTURES, "hostile")
    readme = os.path.join(out, "README.md")
    keep = open(readme).read() if os.path.exists(readme) else None
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    if keep:
        with open(readme, "w") as f:
            f.write(keep)
    model, _ = sequential_basic()
    walk = K.Walk(model)
    weights = random_weights(walk, rng_for("hostile"))
    good = os.path.join(out, "good.h5.tmp")
    K.write_keras2_h5(good, model, weights)
    data = open(good, "rb").read()
    with open(os.path.join(out, "truncated.h5"), "wb") as f:
        f.write(data[:len(data) // 2])
    # a layer of the config whose group has no datasets (weight_names still names them)
    shutil.copy(good, os.path.join(out, "missing_weights.h5"))
    with h5py.File(os.path.join(out, "missing_weights.h5"), "a") as f:
        del f["model_weights/dense/dense"]
    # a kernel stored with the wrong shape
    shutil.copy(good, os.path.join(out, "wrong_shape.h5"))
    with h5py.File(os.path.join(out, "wrong_shape.h5"), "a") as f:
        del f["model_weights/conv2d/conv2d/kernel:0"]
        f["model_weights/conv2d/conv2d"].create_dataset(
            "kernel:0", data=np.zeros((3, 3, 3, 6), np.float32))
    with open(os.path.join(out, "not_hdf5.h5"), "w") as f:
        f.write('{"this": "is JSON, not HDF5"}\n')
    # a model_config attribute that is not JSON (cut in the middle)
    shutil.copy(good, os.path.join(out, "config_not_json.h5"))
    with h5py.File(os.path.join(out, "config_not_json.h5"), "a") as f:
        f.attrs["model_config"] = f.attrs["model_config"][:200].encode()
    os.remove(good)
    kpath = os.path.join(out, "good.keras.tmp")
    K.write_keras3(kpath, model, weights)
    K.write_keras3(os.path.join(out, "no_weights.keras"), model, weights, omit_weights=True)
    data = open(kpath, "rb").read()
    with open(os.path.join(out, "truncated.keras"), "wb") as f:
        f.write(data[:len(data) // 2])
    # model.weights.h5 without the vars of the second Dense (layers/dense_1)
    with zipfile.ZipFile(kpath) as zin, \
            zipfile.ZipFile(os.path.join(out, "missing_vars.keras"), "w") as zout:
        for zi in zin.infolist():
            b = zin.read(zi.filename)
            if zi.filename == "model.weights.h5":
                buf = io.BytesIO(b)
                with h5py.File(buf, "a") as f:
                    del f["layers/dense_1/vars/0"]
                    del f["layers/dense_1/vars/1"]
                b = buf.getvalue()
            zout.writestr(zi, b)
    os.remove(kpath)
    h5 = os.path.join(out, "tmp.h5")
    K.write_keras2_h5(h5, model, weights)
    d = os.path.join(out, "tfjs_missing_shard")
    K.write_tfjs(d, h5, shard_bytes=2048)
    shards = sorted(p for p in os.listdir(d) if p.endswith(".bin"))
    os.remove(os.path.join(d, shards[-1]))
    d = os.path.join(out, "tfjs_short_shard")
    K.write_tfjs(d, h5, shard_bytes=2048)
    shards = sorted(p for p in os.listdir(d) if p.endswith(".bin"))
    last = os.path.join(d, shards[-1])
    b = open(last, "rb").read()
    with open(last, "wb") as f:
        f.write(b[:len(b) - 100])
    # a manifest weight declaring 2^20 x 2^20 values (4 TiB) over a shard of 16 bytes
    d = os.path.join(out, "tfjs_huge_shape")
    K.write_tfjs(d, h5)
    mj = json.load(open(os.path.join(d, "model.json")))
    mj["weightsManifest"][0]["weights"][0]["shape"] = [1048576, 1048576]
    with open(os.path.join(d, "model.json"), "w") as f:
        json.dump(mj, f)
    with open(os.path.join(d, "group1-shard1of1.bin"), "wb") as f:
        f.write(bytes(16))
    os.remove(h5)
    print(f"hostile: {size_kb(out):.0f} KB; missing {shards[-1]} in tfjs_missing_shard")


# ---- checks -----------------------------------------------------------------------------


def check_small(name):
    """Reads every file of a fixture back through keras_layouts' readers (h5py, zipfile,
    json; they follow the files, not the model description), runs keras_reference on
    what was read and compares with expected.bin."""
    d = os.path.join(FIXTURES, name)
    info = json.load(open(os.path.join(d, "info.json")))
    x = np.fromfile(os.path.join(d, "input.bin"), "<f4").reshape([BATCH] + info["input_shape"])
    want = np.fromfile(os.path.join(d, "expected.bin"), "<f4").reshape(BATCH, -1)

    def cmp(label, ys, ref, tol=2e-6):
        got = np.concatenate([y.reshape(BATCH, -1) for y in ys], axis=1)
        err = np.abs(got - ref).max() / max(1.0, np.abs(ref).max())
        status = "ok" if err <= tol else "MISMATCH"
        print(f"  {name}/{label}: max rel diff {err:.2e} {status}")
        if err > tol:
            raise SystemExit(f"{name}/{label} disagrees with expected.bin")

    _check_h5_names(os.path.join(d, "model.h5"), "model_weights")
    model, w = K.read_keras2_h5(os.path.join(d, "model.h5"))
    cmp("model.h5", R.run(model, w, x), want)
    if os.path.exists(os.path.join(d, "weights.h5")):
        _check_h5_names(os.path.join(d, "weights.h5"), None)
        _, w2 = K.read_keras2_h5(os.path.join(d, "weights.h5"), weights_only_model=model)
        cmp("weights.h5", R.run(model, w2, x), want)
    if os.path.exists(os.path.join(d, "model_keras3.h5")):
        _check_h5_names(os.path.join(d, "model_keras3.h5"), "model_weights")
        m3, w5 = K.read_keras2_h5(os.path.join(d, "model_keras3.h5"))
        cmp("model_keras3.h5", R.run(m3, w5, x, keras=3), want)
    cfg3, w3 = K.read_keras3(os.path.join(d, "model.keras"))
    cmp("model.keras", R.run(K.keras3_to_walkable(cfg3), w3, x, keras=3), want)
    for q in ("", "_uint8", "_uint16", "_float16"):
        p = os.path.join(d, "tfjs" + q, "model.json")
        if not os.path.exists(p):
            continue
        cfg, named = K.read_tfjs(p)
        ys = R.run(cfg, K.tfjs_to_layers(cfg, named), x)
        if q:
            ref = np.fromfile(os.path.join(d, "tfjs" + q, "expected.bin"), "<f4")
            cmp("tfjs" + q, ys, ref.reshape(BATCH, -1))
            drift = np.abs(ref.reshape(BATCH, -1) - want).max()
            print(f"  {name}/tfjs{q}: quantization moves the outputs by up to {drift:.2e}")
        else:
            cmp("tfjs", ys, want)


def _check_h5_names(path, root):
    """Every name of layer_names has a group, every weight_names entry a dataset."""
    with h5py.File(path, "r") as f:
        g = f[root] if root else f
        names = K.load_attributes(g, "layer_names")
        n = 0
        for ln in names:
            for wn in K.load_attributes(g[ln], "weight_names"):
                if wn not in g[ln] or not isinstance(g[ln][wn], h5py.Dataset):
                    raise SystemExit(f"{path}: {ln} names {wn}, which is not a dataset")
                n += 1
        print(f"  {os.path.relpath(path, FIXTURES)}: {len(names)} layer groups, {n} weight "
              f"names, all resolve")


def check_app(name):
    build, _, want = APPS[name]
    d = os.path.join(FIXTURES, name)
    for fname, root in (("model.h5", "model_weights"), ("weights.h5", None)):
        _check_h5_names(os.path.join(d, fname), root)
        total = 0
        with h5py.File(os.path.join(d, fname), "r") as f:
            g = f[root] if root else f
            for ln in K.load_attributes(g, "layer_names"):
                for wn in K.load_attributes(g[ln], "weight_names"):
                    total += g[ln][wn].size
        print(f"  {name}/{fname}: {total} values in the datasets")
        if total != want:
            raise SystemExit(f"{name}/{fname}: {total} != {want}")
    with zipfile.ZipFile(os.path.join(d, "model.keras")) as zf:
        cfg = json.loads(zf.read("config.json"))
        with h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r") as f:
            sizes = []
            f.visititems(lambda n, o: sizes.append(o.size) if isinstance(o, h5py.Dataset)
                         else None)
            total = sum(sizes)
            with h5py.File(os.path.join(d, "model.h5"), "r") as f2:
                k = f2["model_weights/conv1_conv/conv1_conv/kernel:0"] if name.startswith(
                    "resnet") else f2["model_weights/bn_Conv1/bn_Conv1/moving_variance:0"]
                print(f"  {name}: a dataset reads back as {np.array(k).ravel()[:3]} "
                      f"(allocated {k.id.get_storage_size()} bytes)")
    print(f"  {name}/model.keras: {total} values, {len(cfg['config']['layers'])} layers")
    if total != want:
        raise SystemExit(f"{name}/model.keras: {total} != {want}")


def check_reference():
    """keras_reference against naive loops (TF's definitions written out) on a few cases:
    'same' stride 2 on even and odd sizes, dilation, depthwise with a multiplier, groups,
    average pooling 'same' excluding the padding, max pooling 'same'."""
    rng = np.random.default_rng(7)

    def naive_conv(x, k, s, pads, d=1, groups=1, depthwise=False):
        n, h, w, c = x.shape
        (t, b), (l, r) = pads
        xp = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
        kh, kw = k.shape[:2]
        keh, kew = (kh - 1) * d + 1, (kw - 1) * d + 1
        oh, ow = (xp.shape[1] - keh) // s + 1, (xp.shape[2] - kew) // s + 1
        if depthwise:
            m = k.shape[3]
            out = np.zeros((n, oh, ow, c * m))
            for i in range(oh):
                for j in range(ow):
                    win = xp[:, i * s:i * s + keh:d, j * s:j * s + kew:d, :]
                    for ci in range(c):
                        for mi in range(m):
                            out[:, i, j, ci * m + mi] = (win[..., ci] * k[:, :, ci, mi]).sum((1, 2))
            return out
        cout = k.shape[3]
        cg, og = c // groups, cout // groups
        out = np.zeros((n, oh, ow, cout))
        for i in range(oh):
            for j in range(ow):
                win = xp[:, i * s:i * s + keh:d, j * s:j * s + kew:d, :]
                for g in range(groups):
                    out[:, i, j, g * og:(g + 1) * og] = np.einsum(
                        "nhwc,hwco->no", win[..., g * cg:(g + 1) * cg], k[..., g * og:(g + 1) * og])
        return out

    def naive_pool(x, p, s, pads, kind):
        (t, b), (l, r) = pads
        n, h, w, c = x.shape
        oh, ow = (h + t + b - p) // s + 1, (w + l + r - p) // s + 1
        out = np.zeros((n, oh, ow, c))
        for i in range(oh):
            for j in range(ow):
                r0, c0 = i * s - t, j * s - l
                rs = slice(max(r0, 0), min(r0 + p, h))
                cs = slice(max(c0, 0), min(c0 + p, w))
                win = x[:, rs, cs, :]
                out[:, i, j] = win.max((1, 2)) if kind == "max" else win.mean((1, 2))
        return out

    worst = 0.0
    for h, w in ((12, 10), (11, 9), (12, 9)):
        x = rng.normal(size=(2, h, w, 4))
        for k, s, d, groups in ((3, 2, 1, 1), (3, 1, 2, 1), (1, 2, 1, 1), (3, 1, 1, 2),
                                (5, 2, 1, 1), (2, 2, 1, 1)):
            ker = rng.normal(size=(k, k, 4 // groups, 6))
            pads = (R.same_pads(h, k, s, d), R.same_pads(w, k, s, d))
            got = R.conv2d_nhwc(R._t(x), ker, None, (s, s), "same", (d, d), groups).numpy()
            worst = max(worst, np.abs(got - naive_conv(x, ker, s, pads, d, groups)).max())
            got = R.conv2d_nhwc(R._t(x), ker, None, (s, s), "valid", (d, d), groups).numpy()
            worst = max(worst, np.abs(got - naive_conv(x, ker, s, ((0, 0), (0, 0)), d,
                                                       groups)).max())
        ker = rng.normal(size=(3, 3, 4, 2))
        pads = (R.same_pads(h, 3, 2), R.same_pads(w, 3, 2))
        got = R.depthwise_nhwc(R._t(x), ker, None, (2, 2), "same").numpy()
        worst = max(worst, np.abs(got - naive_conv(x, ker, 2, pads, depthwise=True)).max())
        for p, s in ((3, 2), (2, 2), (3, 1)):
            pads = (R.same_pads(h, p, s), R.same_pads(w, p, s))
            for kind in ("max", "avg"):
                got = R.pool_nhwc(R._t(x), kind, (p, p), (s, s), "same").numpy()
                worst = max(worst, np.abs(got - naive_pool(x, p, s, pads, kind)).max())
    assert R.same_pads(12, 3, 2) == (0, 1) and R.same_pads(9, 3, 2) == (1, 1)
    assert R.same_pads(11, 3, 1, 2) == (2, 2) and R.same_pads(10, 1, 2) == (0, 0)
    # 'same' stride 2 on an even size is F.pad(0, 1, 0, 1) then a valid convolution
    import torch
    import torch.nn.functional as F
    x = rng.normal(size=(1, 12, 10, 3))
    ker = rng.normal(size=(3, 3, 3, 5))
    a = R.conv2d_nhwc(R._t(x), ker, None, (2, 2), "same").numpy()
    b = F.conv2d(F.pad(torch.tensor(x).permute(0, 3, 1, 2), (0, 1, 0, 1)),
                 torch.tensor(ker).permute(3, 2, 0, 1), stride=2).permute(0, 2, 3, 1).numpy()
    worst = max(worst, np.abs(a - b).max())
    print(f"  keras_reference vs naive loops and F.pad + conv: max abs diff {worst:.1e}")
    if worst > 1e-9:
        raise SystemExit("keras_reference disagrees with the naive definitions")


def write_readme_index():
    """fixtures/README.md: the list of fixtures, from their info.json."""
    lines = ["# Keras fixtures", "",
             "Written by `tests/keras/make_fixtures.py` (do not edit; this file is "
             "regenerated from the fixtures on disk; `hostile/README.md` is not). "
             "`tests/keras/README.md` describes the layouts and the format facts.", "",
             "| fixture | size | params (total = trainable + non-trainable) | files | "
             "what it covers |", "| --- | --- | --- | --- | --- |"]
    for name in sorted(os.listdir(FIXTURES)):
        p = os.path.join(FIXTURES, name, "info.json")
        if not os.path.exists(p):
            continue
        info = json.load(open(p))
        pr = info.get("params")
        ps = f"{pr['total']:,} = {pr['trainable']:,} + {pr['non_trainable']:,}" if pr else "-"
        lines.append(f"| `{name}` | {size_kb(os.path.join(FIXTURES, name)):.0f} KB | {ps} | "
                     f"{', '.join(info['files'])} | {info['description']} |")
    lines.append("")
    with open(os.path.join(FIXTURES, "README.md"), "w") as f:
        f.write("\n".join(lines))


def main():
    p = argparse.ArgumentParser(description="clnet's Keras test fixtures")
    p.add_argument("--only", help="one fixture (" + ", ".join(
        list(SMALL) + list(APPS) + ["unsupported", "hostile"]) + ")")
    p.add_argument("--check", action="store_true",
                   help="read the fixtures back and check them; write nothing")
    a = p.parse_args()
    names = list(SMALL) + list(APPS) + ["unsupported", "hostile"]
    if a.only:
        if a.only not in names:
            raise SystemExit(f"--only: no fixture {a.only!r}; one of {', '.join(names)}")
        names = [a.only]
    if a.check:
        check_reference()
        for n in names:
            if n in SMALL:
                check_small(n)
            elif n in APPS:
                check_app(n)
        return
    os.makedirs(FIXTURES, exist_ok=True)
    for n in names:
        if n in SMALL:
            make_small(n)
        elif n in APPS:
            make_app(n)
        elif n == "unsupported":
            make_unsupported()
        else:
            make_hostile()
    write_readme_index()
    print(f"fixtures: {size_kb(FIXTURES):.0f} KB")


if __name__ == "__main__":
    main()
