# keras_layouts.py - one Keras model written in every file layout clnet's Keras importer
# reads, byte-for-byte as Keras and tfjs-converter lay them out (their code is not copied;
# each writer follows the named source, read at the versions below):
#
#   write_keras2_h5        Keras 2 model.save("m.h5"): keras 2.15.0 keras/saving/legacy/
#                          hdf5_format.py (save_model_to_hdf5, save_weights_to_hdf5_group,
#                          save_attributes_to_hdf5_group); tf-keras 2.21 and Keras 3's
#                          keras/src/legacy/saving/legacy_h5_format.py write the same groups.
#   write_keras2_weights   Keras 2 model.save_weights("w.h5"): the same groups at the root.
#   write_keras3           Keras 3 model.save("m.keras"): keras 3.15.1 keras/src/saving/
#                          saving_lib.py (zip of metadata.json, config.json, model.weights.h5),
#                          serialization_lib.py, models/functional.py, models/sequential.py.
#   write_tfjs             tensorflowjs_converter --input_format keras m.h5 DIR [--quantize_*]:
#                          tfjs-converter/python/tensorflowjs/converters/keras_h5_conversion.py,
#                          write_weights.py, quantization.py.
#
# The model is given as Keras 2 gives it: the model config dict of model.h5's model_config
# attribute ({"class_name": "Functional"|"Sequential", "config": {...}}, built with the layer
# helpers below, whose key order is each class's get_config()), and the weights of each
# layer as numpy arrays in Keras's order and shapes: weights[layer_name] = [arrays], a nested
# model's entry a dict of its own layers' weights. Keras 3's config is derived from it
# (keras3_config), with the renames Keras 3 made. Run with Debian's /usr/bin/python3
# (python3-h5py 3.7, python3-numpy). tests/keras/README.md lists the format facts.
import copy
import io
import json
import math
import os
import re
import zipfile

import h5py
import numpy as np

KERAS2_VERSION = "2.15.0"
KERAS3_VERSION = "3.15.1"
BACKEND = "tensorflow"
TFJS_CONVERTED_BY = "TensorFlow.js Converter v4.22.0"
# hdf5_format.py: an HDF5 object header holds at most 64 KB of attributes.
HDF5_OBJECT_HEADER_LIMIT = 64512
# saving_lib.py writes datetime.now(); fixed here so the fixtures are reproducible.
DATE_SAVED = "2026-01-01@00:00:00"
ZIP_DATE = (2026, 1, 1, 0, 0, 0)
TFJS_SHARD_BYTES = 4 * 1024 * 1024  # write_weights.py's default shard size

MODEL_CLASSES = ("Functional", "Model", "Sequential")


# ---------------------------------------------------------------------------------------
# Keras 2 layer configs: {"class_name", "config"} as legacy serialization writes them, the
# config's keys in get_config()'s order (keras 2.15). Initializers in the 2.13+ form
# ({"module": "keras.initializers", ...}); write_keras2_h5(initializers="2.12") rewrites
# them to the {"class_name", "config"} form of Keras <= 2.12.
# ---------------------------------------------------------------------------------------


def initializer(cls, config=None):
    return {"module": "keras.initializers", "class_name": cls,
            "config": {} if config is None else config, "registered_name": None}


def glorot():
    return initializer("GlorotUniform", {"seed": None})


def _pair(v):
    return [v, v] if isinstance(v, int) else list(v)


def _f32(v):
    # ReLU and LeakyReLU keep their floats through backend.cast_to_floatx (np.float32):
    # json then prints the float32 value widened, 0.1 -> 0.10000000149011612.
    return None if v is None else float(np.float32(v))


def _layer(cls, name, config, trainable=True, k3=None):
    d = {"class_name": cls,
         "config": {"name": name, "trainable": trainable, "dtype": "float32", **config}}
    if k3:
        d["_k3"] = k3  # what Keras 3 would keep that Keras 2's config lost (dropped on write)
    return d


def input_layer(name, shape):
    return {"class_name": "InputLayer",
            "config": {"batch_input_shape": [None] + list(shape), "dtype": "float32",
                       "sparse": False, "ragged": False, "name": name}}


def _conv_keys(filters, kernel_size, strides, padding, dilation_rate, groups, activation,
               use_bias, data_format, kernel_initializer=None):
    return {"filters": filters, "kernel_size": _pair(kernel_size), "strides": _pair(strides),
            "padding": padding.lower(), "data_format": data_format,
            "dilation_rate": _pair(dilation_rate), "groups": groups,
            "activation": activation, "use_bias": use_bias,
            "kernel_initializer": kernel_initializer or glorot(),
            "bias_initializer": initializer("Zeros"), "kernel_regularizer": None,
            "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
            "bias_constraint": None}


def conv2d(name, filters, kernel_size, strides=1, padding="valid", dilation_rate=1, groups=1,
           activation="linear", use_bias=True, data_format="channels_last", trainable=True):
    return _layer("Conv2D", name, _conv_keys(filters, kernel_size, strides, padding,
                                             dilation_rate, groups, activation, use_bias,
                                             data_format), trainable)


def conv2d_transpose(name, filters, kernel_size, strides=1, padding="valid",
                     activation="linear", use_bias=True):
    c = _conv_keys(filters, kernel_size, strides, padding, 1, 1, activation, use_bias,
                   "channels_last")
    c["output_padding"] = None
    return _layer("Conv2DTranspose", name, c)


def upsampling2d(name, size=2, interpolation="nearest"):
    return _layer("UpSampling2D", name, {"size": _pair(size), "data_format": "channels_last",
                                         "interpolation": interpolation})


def depthwise_conv2d(name, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                     dilation_rate=1, activation="linear", use_bias=True, trainable=True):
    # base_depthwise_conv.py: Conv's config less filters and kernel_*, depthwise_* appended.
    c = _conv_keys(None, kernel_size, strides, padding, dilation_rate, 1, activation, use_bias,
                   "channels_last")
    for k in ("filters", "kernel_initializer", "kernel_regularizer", "kernel_constraint"):
        c.pop(k)
    c.update({"depth_multiplier": depth_multiplier, "depthwise_initializer": glorot(),
              "depthwise_regularizer": None, "depthwise_constraint": None})
    return _layer("DepthwiseConv2D", name, c, trainable)


def separable_conv2d(name, filters, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                     dilation_rate=1, activation="linear", use_bias=True, trainable=True):
    # base_separable_conv.py: dict(Conv's config + its own): Conv's keys keep their places
    # (kernel_initializer etc. stay, unused), the new ones are appended.
    c = _conv_keys(filters, kernel_size, strides, padding, dilation_rate, 1, activation,
                   use_bias, "channels_last")
    c.update({"depth_multiplier": depth_multiplier, "depthwise_initializer": glorot(),
              "pointwise_initializer": glorot(), "depthwise_regularizer": None,
              "pointwise_regularizer": None, "depthwise_constraint": None,
              "pointwise_constraint": None})
    return _layer("SeparableConv2D", name, c, trainable)


def batch_norm(name, axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True, rank=4,
               trainable=True):
    # Keras 2 stores the axis as build() leaves it: a list of non-negative axes
    # (tf_utils.validate_axis); Keras 3 keeps the int it was given.
    return _layer("BatchNormalization", name,
                  {"axis": [axis % rank], "momentum": momentum, "epsilon": epsilon,
                   "center": center, "scale": scale, "beta_initializer": initializer("Zeros"),
                   "gamma_initializer": initializer("Ones"),
                   "moving_mean_initializer": initializer("Zeros"),
                   "moving_variance_initializer": initializer("Ones"),
                   "beta_regularizer": None, "gamma_regularizer": None,
                   "beta_constraint": None, "gamma_constraint": None},
                  trainable, k3={"axis": axis})


def relu(name, max_value=None, negative_slope=0.0, threshold=0.0):
    return _layer("ReLU", name, {"max_value": _f32(max_value),
                                 "negative_slope": _f32(negative_slope),
                                 "threshold": _f32(threshold)},
                  k3={"max_value": max_value, "negative_slope": negative_slope,
                      "threshold": threshold})


def leaky_relu(name, alpha=0.3):
    return _layer("LeakyReLU", name, {"alpha": _f32(alpha)}, k3={"negative_slope": alpha})


def activation(name, fn):
    return _layer("Activation", name, {"activation": fn})


def softmax(name, axis=-1):
    return _layer("Softmax", name, {"axis": axis})


def _pool(cls, name, pool_size, strides, padding):
    return _layer(cls, name, {"pool_size": _pair(pool_size),
                              "padding": padding.lower(),
                              "strides": _pair(pool_size if strides is None else strides),
                              "data_format": "channels_last"})


def max_pool(name, pool_size=2, strides=None, padding="valid"):
    return _pool("MaxPooling2D", name, pool_size, strides, padding)


def avg_pool(name, pool_size=2, strides=None, padding="valid"):
    return _pool("AveragePooling2D", name, pool_size, strides, padding)


def global_avg_pool(name, keepdims=False):
    return _layer("GlobalAveragePooling2D", name,
                  {"data_format": "channels_last", "keepdims": keepdims})


def global_max_pool(name, keepdims=False):
    return _layer("GlobalMaxPooling2D", name,
                  {"data_format": "channels_last", "keepdims": keepdims})


def zero_pad(name, padding):
    # zero_padding2d.py normalizes an int p or (ph, pw) to ((t, b), (l, r)).
    if isinstance(padding, int):
        padding = ((padding, padding), (padding, padding))
    elif isinstance(padding[0], int):
        padding = ((padding[0], padding[0]), (padding[1], padding[1]))
    return _layer("ZeroPadding2D", name, {"padding": [list(p) for p in padding],
                                          "data_format": "channels_last"})


def dense(name, units, activation="linear", use_bias=True, trainable=True):
    return _layer("Dense", name,
                  {"units": units, "activation": activation, "use_bias": use_bias,
                   "kernel_initializer": glorot(), "bias_initializer": initializer("Zeros"),
                   "kernel_regularizer": None, "bias_regularizer": None,
                   "activity_regularizer": None, "kernel_constraint": None,
                   "bias_constraint": None}, trainable)


def dropout(name, rate):
    return _layer("Dropout", name, {"rate": rate, "noise_shape": None, "seed": None})


def flatten(name):
    return _layer("Flatten", name, {"data_format": "channels_last"})


def reshape(name, target_shape):
    return _layer("Reshape", name, {"target_shape": list(target_shape)})


def rescaling(name, scale, offset=0.0):
    return _layer("Rescaling", name, {"scale": scale, "offset": offset})


def normalization(name, axis=-1, mean=None, variance=None, invert=False):
    """mean/variance None: the adapted form (weights mean, variance, count); else the values
    live in the config (lists or scalars) and the layer has no weights."""
    return _layer("Normalization", name,
                  {"axis": [axis] if isinstance(axis, int) else list(axis), "invert": invert,
                   "mean": mean, "variance": variance})


def merge(cls, name):
    return _layer(cls, name, {})


def concatenate(name, axis=-1):
    return _layer("Concatenate", name, {"axis": axis})


# ---------------------------------------------------------------------------------------
# Models. Functional builds the layer list and its inbound nodes as functional.py's
# get_network_config serializes them; Sequential lists its layers, InputLayer first.
# ---------------------------------------------------------------------------------------


class Ref:
    """A tensor of a functional graph: (layer name, node index, tensor index)."""

    def __init__(self, layer, node=0, tensor=0):
        self.layer, self.node, self.tensor = layer, node, tensor

    def k2(self):
        return [self.layer, self.node, self.tensor, {}]


def _keras2_node_index(layer):
    # functional.py _should_skip_first_node: a Functional (or a Sequential that starts with
    # an InputLayer) already has the node of its own construction, so the node made by
    # calling it in the outer model is its node 1.
    if layer["class_name"] in ("Functional", "Model"):
        return 1
    if layer["class_name"] == "Sequential":
        ls = layer["config"]["layers"]
        return 1 if ls and ls[0]["class_name"] == "InputLayer" else 0
    return 0


class Functional:
    def __init__(self, name, trainable=True):
        self.name, self.trainable = name, trainable
        self.layers = []

    def input(self, name, shape):
        self.layers.append(dict(input_layer(name, shape), name=name, inbound_nodes=[]))
        return Ref(name)

    def __call__(self, layer, *inputs):
        """layer(x) or, for merge layers, layer([a, b, ...]) when several inputs."""
        name = layer["config"]["name"]
        entry = copy.deepcopy(layer)
        entry["name"] = name
        entry["inbound_nodes"] = [[r.k2() for r in inputs]]
        self.layers.append(entry)
        return Ref(name, _keras2_node_index(layer))

    def config(self, outputs, inputs=None):
        if inputs is None:
            inputs = [Ref(l["name"]) for l in self.layers if l["class_name"] == "InputLayer"]
        outs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return {"class_name": "Functional",
                "config": {"name": self.name, "trainable": self.trainable,
                           "layers": self.layers,
                           "input_layers": [[r.layer, r.node, r.tensor] for r in inputs],
                           "output_layers": [[r.layer, r.node, r.tensor] for r in outs]}}


def sequential(name, layers, trainable=True):
    return {"class_name": "Sequential",
            "config": {"name": name, "layers": [copy.deepcopy(l) for l in layers]},
            **({"_trainable": False} if not trainable else {})}


def set_trainable(model, value):
    """model.trainable = value: Keras 2 and 3 set every sublayer's flag too (the config's
    "trainable" of each); Sequential's Keras 2 config has no trainable key of its own, so
    it is remembered beside the config."""
    if model["class_name"] == "Sequential":
        model["_trainable"] = value
    else:
        model["config"]["trainable"] = value
    for l in model["config"]["layers"]:
        if l["class_name"] in MODEL_CLASSES:
            set_trainable(l, value)
        elif "trainable" in l["config"]:
            l["config"]["trainable"] = value
    return model


def is_model(layer):
    return layer["class_name"] in MODEL_CLASSES


def layer_trainable(layer):
    if layer["class_name"] == "Sequential":
        return layer.get("_trainable", True)
    return layer["config"].get("trainable", True)


def _strip_private(obj):
    if isinstance(obj, dict):
        return {k: _strip_private(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [_strip_private(v) for v in obj]
    return obj


def _legacy_initializers(obj):
    """Keras <= 2.12 serialized initializers as {"class_name", "config"}."""
    if isinstance(obj, dict):
        if obj.get("module") == "keras.initializers" and "registered_name" in obj:
            return {"class_name": obj["class_name"], "config": obj["config"]}
        return {k: _legacy_initializers(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_legacy_initializers(v) for v in obj]
    return obj


def keras2_config(model, initializers="2.15"):
    c = _strip_private(model)
    return _legacy_initializers(c) if initializers == "2.12" else c


# ---------------------------------------------------------------------------------------
# Shapes and weights: each layer's output shape (batch None) and its weights as Keras 2
# names them (Keras 3's variable names where they differ).
# ---------------------------------------------------------------------------------------


def _same_out(n, s):
    return -(-n // s)


def _conv_out(n, k, s, d, padding):
    keff = (k - 1) * d + 1
    return _same_out(n, s) if padding == "same" else (n - keff) // s + 1


def weight_specs(layer, in_shapes):
    """[(keras2 name, keras3 name, shape, trainable-in-its-layer)] of a non-model layer."""
    c, cls = layer["config"], layer["class_name"]
    x = in_shapes[0]
    if cls in ("Conv2D", "Conv2DTranspose", "SeparableConv2D", "DepthwiseConv2D"):
        kh, kw = c["kernel_size"]
        cin = x[1] if c.get("data_format") == "channels_first" else x[-1]
    if cls == "Conv2D":
        w = [("kernel", "kernel", (kh, kw, cin // c["groups"], c["filters"]), True)]
        return w + ([("bias", "bias", (c["filters"],), True)] if c["use_bias"] else [])
    if cls == "Conv2DTranspose":
        w = [("kernel", "kernel", (kh, kw, c["filters"], cin), True)]
        return w + ([("bias", "bias", (c["filters"],), True)] if c["use_bias"] else [])
    if cls == "DepthwiseConv2D":
        m = c["depth_multiplier"]
        w = [("depthwise_kernel", "kernel", (kh, kw, cin, m), True)]
        return w + ([("bias", "bias", (cin * m,), True)] if c["use_bias"] else [])
    if cls == "SeparableConv2D":
        m = c["depth_multiplier"]
        w = [("depthwise_kernel", "depthwise_kernel", (kh, kw, cin, m), True),
             ("pointwise_kernel", "pointwise_kernel", (1, 1, cin * m, c["filters"]), True)]
        return w + ([("bias", "bias", (c["filters"],), True)] if c["use_bias"] else [])
    if cls == "Dense":
        w = [("kernel", "kernel", (x[-1], c["units"]), True)]
        return w + ([("bias", "bias", (c["units"],), True)] if c["use_bias"] else [])
    if cls == "BatchNormalization":
        axis = c["axis"][0] if isinstance(c["axis"], list) else c["axis"]
        ch = (x[axis],)
        w = [("gamma", "gamma", ch, True)] if c["scale"] else []
        w += [("beta", "beta", ch, True)] if c["center"] else []
        return w + [("moving_mean", "moving_mean", ch, False),
                    ("moving_variance", "moving_variance", ch, False)]
    if cls == "Normalization":
        if c["mean"] is not None:
            return []
        keep = tuple(x[a] for a in sorted(a % len(x) for a in c["axis"]))
        return [("mean", "mean", keep, False), ("variance", "variance", keep, False),
                ("count", "count", (), False)]
    return []


def output_shape(layer, in_shapes):
    c, cls = layer["config"], layer["class_name"]
    x = list(in_shapes[0]) if in_shapes else None
    if cls == "InputLayer":
        return tuple(c.get("batch_input_shape") or c.get("batch_shape"))
    if cls in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D",
               "AveragePooling2D"):
        if c.get("data_format", "channels_last") != "channels_last":
            if cls != "Conv2D":
                raise ValueError(f"{cls} {c['name']}: only channels_last shapes are inferred")
            n, ch, h, w = x
            kh, kw = c["kernel_size"]
            sh, sw = c["strides"]
            dh, dw = c["dilation_rate"]
            return (n, c["filters"], _conv_out(h, kh, sh, dh, c["padding"]),
                    _conv_out(w, kw, sw, dw, c["padding"]))
        k = c.get("kernel_size") or c.get("pool_size")
        d = c.get("dilation_rate", [1, 1])
        h = _conv_out(x[1], k[0], c["strides"][0], d[0], c["padding"])
        w = _conv_out(x[2], k[1], c["strides"][1], d[1], c["padding"])
        ch = {"Conv2D": lambda: c["filters"], "SeparableConv2D": lambda: c["filters"],
              "DepthwiseConv2D": lambda: x[3] * c["depth_multiplier"]}.get(cls, lambda: x[3])()
        return (x[0], h, w, ch)
    if cls == "Conv2DTranspose":
        s = c["strides"]
        if c["padding"] == "same":
            return (x[0], x[1] * s[0], x[2] * s[1], c["filters"])
        k = c["kernel_size"]
        return (x[0], x[1] * s[0] + max(k[0] - s[0], 0), x[2] * s[1] + max(k[1] - s[1], 0),
                c["filters"])
    if cls == "UpSampling2D":
        return (x[0], x[1] * c["size"][0], x[2] * c["size"][1], x[3])
    if cls == "ZeroPadding2D":
        (t, b), (l, r) = c["padding"]
        return (x[0], x[1] + t + b, x[2] + l + r, x[3])
    if cls in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        return (x[0], 1, 1, x[3]) if c.get("keepdims") else (x[0], x[3])
    if cls == "Dense":
        return tuple(x[:-1]) + (c["units"],)
    if cls == "Flatten":
        return (x[0], int(np.prod(x[1:])))
    if cls == "Reshape":
        t = list(c["target_shape"])
        if -1 in t:
            known = int(np.prod([v for v in t if v != -1]))
            t[t.index(-1)] = int(np.prod(x[1:])) // known
        return (x[0],) + tuple(t)
    if cls == "Concatenate":
        axis = c["axis"] % len(x)
        out = list(x)
        out[axis] = sum(s[axis] for s in in_shapes)
        return tuple(out)
    if cls in ("Add", "Multiply", "Subtract", "Average", "Maximum", "Minimum"):
        rank = max(len(s) for s in in_shapes)
        out = []
        for i in range(rank):
            dims = [s[len(s) - rank + i] for s in in_shapes if len(s) - rank + i >= 0]
            known = [d for d in dims if d not in (None, 1)]
            out.append(known[0] if known else (None if None in dims else 1))
        return tuple(out)
    if cls in ("BatchNormalization", "ReLU", "Activation", "Dropout", "Rescaling",
               "Normalization", "Softmax", "LeakyReLU", "ELU"):
        return tuple(x)
    raise ValueError(f"no shape rule for {cls} ({c.get('name')})")


class Walk:
    """A model's layers in order with their input and output shapes and weight specs,
    nested models walked too (walk.sub[name] is the nested model's Walk)."""

    def __init__(self, model, in_shape=None):
        self.model = model
        self.cls = model["class_name"]
        self.name = model["config"]["name"]
        self.shapes = {}   # (layer, node, tensor) -> shape, node as Keras 2 numbers it
        self.in_shapes = {}
        self.out = {}      # layer name -> output shape
        self.specs = {}
        self.sub = {}
        layers = model["config"]["layers"]
        if self.cls == "Sequential":
            prev = None
            for i, l in enumerate(layers):
                n = l["config"]["name"]
                if l["class_name"] == "InputLayer":
                    prev = output_shape(l, [])
                    self.out[n] = prev
                    self.in_shapes[n] = []
                    continue
                if prev is None:
                    prev = in_shape
                self._one(l, [prev])
                prev = self.out[n]
            self.output_shapes = [prev]
            self.input_shapes = [self.out[layers[0]["config"]["name"]]
                                 if layers[0]["class_name"] == "InputLayer" else in_shape]
        else:
            for l in layers:
                n = l["name"]
                if l["class_name"] == "InputLayer":
                    self.out[n] = output_shape(l, [])
                    self.in_shapes[n] = []
                    continue
                ins = [self.out[e[0]] for e in l["inbound_nodes"][0]]
                self._one(l, ins)
            self.output_shapes = [self.out[o[0]] for o in model["config"]["output_layers"]]
            self.input_shapes = [self.out[i[0]] for i in model["config"]["input_layers"]]

    def _one(self, l, ins):
        n = l["config"]["name"]
        self.in_shapes[n] = ins
        if is_model(l):
            w = Walk(l, ins[0])
            self.sub[n] = w
            self.out[n] = w.output_shapes[0]
            self.specs[n] = []
        else:
            self.out[n] = output_shape(l, ins)
            self.specs[n] = weight_specs(l, ins)

    def layer(self, name):
        for l in self.model["config"]["layers"]:
            if l["config"]["name"] == name:
                return l
        raise KeyError(name)


def count_params(walk, trainable_ctx=True):
    """(total, trainable, non_trainable) as model.summary() counts them: BN moving
    statistics and Normalization's mean, variance and count are non-trainable, as is
    every weight of a layer or model whose trainable flag is off."""
    tot = tr = 0
    for l in walk.model["config"]["layers"]:
        n = l["config"]["name"]
        on = trainable_ctx and layer_trainable(l)
        if n in walk.sub:
            t, a, _ = count_params(walk.sub[n], on)
            tot += t
            tr += a
            continue
        for _, _, shape, tw in walk.specs.get(n, []):
            size = int(np.prod(shape)) if shape else 1
            tot += size
            tr += size if (tw and on) else 0
    return tot, tr, tot - tr


def check_weights(walk, weights):
    """Every layer with weights has the arrays its config implies, of those shapes."""
    for l in walk.model["config"]["layers"]:
        n = l["config"]["name"]
        if n in walk.sub:
            check_weights(walk.sub[n], weights.get(n, {}))
            continue
        specs = walk.specs.get(n, [])
        got = weights.get(n, [])
        if len(got) != len(specs):
            raise ValueError(f"layer {n}: {len(got)} weights given, its config has {len(specs)}")
        for (k2, _, shape, _), a in zip(specs, got):
            a = _array(a)
            if tuple(a.shape) != tuple(shape):
                raise ValueError(f"layer {n} weight {k2}: shape {a.shape}, config says {shape}")


def _array(w):
    return w[1] if isinstance(w, tuple) else w


# ---------------------------------------------------------------------------------------
# Keras 2 HDF5
# ---------------------------------------------------------------------------------------


def save_attributes(group, name, data, limit=HDF5_OBJECT_HEADER_LIMIT, strings="vlen"):
    """hdf5_format.py save_attributes_to_hdf5_group: one attribute, or when the array is
    over the object header limit, name0, name1, ... (np.array_split chunks). h5py 3 stores
    the unsplit list of bytes as variable-length ASCII strings, the split chunks (numpy
    arrays) as fixed-length ones; strings="fixed" stores the unsplit one fixed-length too,
    as h5py 2 did (and so the files of that era, keras.applications' among them)."""
    bad = [x for x in data if len(x) > limit]
    if bad:
        raise RuntimeError(f"attributes over {limit} bytes: {bad}")
    arr = np.asarray(data)
    chunks = 1
    parts = np.array_split(arr, chunks)
    while any(p.nbytes > limit for p in parts):
        chunks += 1
        parts = np.array_split(arr, chunks)
    if chunks > 1:
        for i, p in enumerate(parts):
            group.attrs["%s%d" % (name, i)] = p
    else:
        group.attrs[name] = arr if (strings == "fixed" and len(data)) else data


def legacy_slots(layer, walk):
    """The weights of a layer of the model walk describes, as _legacy_weights lists them
    (trainable_weights then non_trainable_weights): [(layer path, index in that layer's
    own list)]. A model's trainable_weights are its layers' trainable_variables in layer
    order, [] when the model is frozen; its non_trainable_weights its layers'
    non-trainable ones, preceded by their trainable ones when it is frozen. A frozen layer
    has no trainable weights and lists all its own (training.py, base_layer.py). As
    model.trainable = False freezes every sublayer too, a frozen nested model lists each
    layer's weights together, layer after layer; a trainable one all the kernels, biases,
    gammas and betas first, then all the moving statistics."""

    def parts(l, wk, names):
        n = l["config"]["name"]
        if is_model(l):
            tr, ntr = [], []
            for sl in l["config"]["layers"]:
                t, u = parts(sl, wk.sub[n], names + (n,))
                tr += t
                ntr += u
            return (tr, ntr) if layer_trainable(l) else ([], tr + ntr)
        specs = wk.specs.get(n, [])
        own_tr = [(names + (n,), i) for i, s in enumerate(specs) if s[3]]
        own_ntr = [(names + (n,), i) for i, s in enumerate(specs) if not s[3]]
        return (own_tr, own_ntr) if layer_trainable(l) else ([], own_tr + own_ntr)

    tr, ntr = parts(layer, walk, ())
    return tr + ntr


def _lookup(weights, walk, path, i):
    """(keras 2 weight name, array) of weight i of the layer at path."""
    w, wk = weights, walk
    for n in path[:-1]:
        w, wk = w.get(n, {}), wk.sub[n]
    a = w[path[-1]][i]
    if isinstance(a, tuple):
        return a[0], a[1]
    return wk.specs[path[-1]][i][0], a


def _legacy_weight_list(layer, weights, walk):
    """[(weight name as Keras 2 writes it, array)] of one layer group."""
    out = []
    for path, i in legacy_slots(layer, walk):
        k2, a = _lookup(weights, walk, path, i)
        out.append((f"{path[-1]}/{k2}:0", a))
    return out


def _dataset(group, name, a):
    """A dataset as Keras makes it (contiguous, written whole); an array-like with a fill_value
    attribute (make_fixtures.Unwritten) becomes a chunked dataset with that fill value and
    no data written: its chunks stay unallocated and read back as the fill."""
    if hasattr(a, "fill_value"):
        return group.create_dataset(name, a.shape, dtype=a.dtype, chunks=True,
                                    fillvalue=a.fill_value)
    a = np.asarray(a)
    d = group.create_dataset(name, a.shape, dtype=a.dtype)
    if a.shape:
        d[:] = a
    else:
        d[()] = a
    return d


def _h5_weights_group(f, model, weights, walk, limit, strings, top_level, version):
    """save_weights_to_hdf5_group: layer_names of model.layers (a Sequential's InputLayer
    is not among them), backend, keras_version; a group per layer in sorted name order
    holding weight_names and the datasets at those names; top_level_model_weights (Keras
    2.7 and later) with no weights."""
    layers = [l for l in model["config"]["layers"]
              if not (model["class_name"] == "Sequential" and l["class_name"] == "InputLayer")]
    names = [l["config"]["name"].encode("utf8") for l in layers]
    save_attributes(f, "layer_names", names, limit, strings)
    f.attrs["backend"] = BACKEND.encode("utf8")
    f.attrs["keras_version"] = version.encode("utf8")
    for l in sorted(layers, key=lambda l: l["config"]["name"]):
        g = f.create_group(l["config"]["name"])
        ws = _legacy_weight_list(l, weights, walk)
        wnames = [n.encode("utf8") for n, _ in ws]
        save_attributes(g, "weight_names", wnames, limit, strings)
        for n, (_, a) in zip(wnames, ws):
            _dataset(g, n, a)
    if top_level:
        g = f.create_group("top_level_model_weights")
        save_attributes(g, "weight_names", [], limit, strings)


def write_keras2_h5(path, model, weights, attr_limit=HDF5_OBJECT_HEADER_LIMIT,
                    strings="vlen", top_level=True, version=KERAS2_VERSION,
                    initializers="2.15", training_config=None, optimizer_weights=None):
    """Keras 2 model.save(path) of an h5 path. attr_limit below 64512 forces the
    layer_names0, layer_names1, ... split on a small model. training_config (a dict) is
    written as Keras does for a compiled model; optimizer_weights [(name, array)] as the
    optimizer_weights group."""
    walk = Walk(model)
    check_weights(walk, weights)
    cfg = keras2_config(model, initializers)
    with h5py.File(path, "w") as f:
        meta = {"keras_version": version, "backend": BACKEND, "model_config": cfg}
        if training_config is not None:
            meta["training_config"] = training_config
        for k, v in meta.items():
            # saving_utils.model_metadata, then dicts as json.dumps(...).encode("utf8")
            f.attrs[k] = json.dumps(v).encode("utf8") if isinstance(v, dict) else v
        _h5_weights_group(f.create_group("model_weights"), model, weights, walk, attr_limit,
                          strings, top_level, version)
        if optimizer_weights:
            g = f.create_group("optimizer_weights")
            names = [n.encode("utf8") for n, _ in optimizer_weights]
            save_attributes(g, "weight_names", names, attr_limit, strings)
            for n, (_, a) in zip(names, optimizer_weights):
                _dataset(g, n, a)


def write_keras2_weights(path, model, weights, attr_limit=HDF5_OBJECT_HEADER_LIMIT,
                         strings="vlen", top_level=True, version=KERAS2_VERSION):
    """Keras 2 model.save_weights(path): the layer groups and layer_names at the root."""
    walk = Walk(model)
    check_weights(walk, weights)
    with h5py.File(path, "w") as f:
        _h5_weights_group(f, model, weights, walk, attr_limit, strings, top_level, version)


# ---------------------------------------------------------------------------------------
# Keras 3 .keras
# ---------------------------------------------------------------------------------------


def to_snake_case(name):
    # keras/src/utils/naming.py
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _k3_policy(dtype):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype},
            "registered_name": None}


def _k3_init(v):
    if isinstance(v, dict) and "class_name" in v:
        return {"module": "keras.initializers", "class_name": v["class_name"],
                "config": v.get("config", {}), "registered_name": None}
    return v


def _k3_layer_config(layer):
    """The config Keras 3.15 serializes for the class, from the Keras 2 one."""
    c, cls, k3 = layer["config"], layer["class_name"], layer.get("_k3", {})
    if cls == "InputLayer":
        return {"batch_shape": c["batch_input_shape"], "dtype": c["dtype"], "sparse": False,
                "ragged": False, "name": c["name"], "optional": False}
    out = {"name": c["name"], "trainable": c.get("trainable", True),
           "dtype": _k3_policy(c.get("dtype", "float32"))}

    def take(*keys, init=()):
        for k in keys:
            out[k] = _k3_init(c[k]) if k in init else c[k]

    inits = ("kernel_initializer", "bias_initializer", "depthwise_initializer",
             "pointwise_initializer", "beta_initializer", "gamma_initializer",
             "moving_mean_initializer", "moving_variance_initializer")
    if cls in ("Conv2D", "Conv2DTranspose"):
        take("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
             "groups", "activation", "use_bias", "kernel_initializer", "bias_initializer",
             "kernel_regularizer", "bias_regularizer", "activity_regularizer",
             "kernel_constraint", "bias_constraint", init=inits)
        if cls == "Conv2DTranspose":
            out["output_padding"] = c.get("output_padding")
    elif cls == "DepthwiseConv2D":
        take("depth_multiplier", "kernel_size", "strides", "padding", "data_format",
             "dilation_rate", "activation", "use_bias", "depthwise_initializer",
             "bias_initializer", "depthwise_regularizer", "bias_regularizer",
             "activity_regularizer", "depthwise_constraint", "bias_constraint", init=inits)
    elif cls == "SeparableConv2D":
        take("depth_multiplier", "filters", "kernel_size", "strides", "padding",
             "data_format", "dilation_rate", "activation", "use_bias",
             "depthwise_initializer", "pointwise_initializer", "bias_initializer",
             "depthwise_regularizer", "pointwise_regularizer", "bias_regularizer",
             "activity_regularizer", "depthwise_constraint", "pointwise_constraint",
             "bias_constraint", init=inits)
    elif cls == "BatchNormalization":
        out["axis"] = k3.get("axis", c["axis"][0] if isinstance(c["axis"], list) else c["axis"])
        take("momentum", "epsilon", "center", "scale", "beta_initializer",
             "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
             "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint",
             init=inits)
        out.update({"synchronized": False, "renorm": False, "renorm_clipping": None,
                    "renorm_momentum": 0.99})
    elif cls == "ReLU":
        for k in ("max_value", "negative_slope", "threshold"):
            out[k] = k3.get(k, c[k])
    elif cls == "LeakyReLU":
        out["negative_slope"] = k3.get("negative_slope", c["alpha"])
    elif cls == "ELU":
        take("alpha")
    elif cls == "Activation":
        take("activation")
    elif cls == "Softmax":
        take("axis")
    elif cls in ("MaxPooling2D", "AveragePooling2D"):
        take("pool_size", "padding", "strides", "data_format")
    elif cls in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        take("data_format", "keepdims")
    elif cls == "ZeroPadding2D":
        take("padding", "data_format")
    elif cls == "Dense":
        take("units", "activation", "use_bias", "kernel_initializer", "bias_initializer",
             "kernel_regularizer", "bias_regularizer", "kernel_constraint", "bias_constraint",
             init=inits)
        out["quantization_config"] = None
    elif cls == "Dropout":
        out.update({"rate": c["rate"], "seed": c["seed"], "noise_shape": c["noise_shape"]})
    elif cls == "Flatten":
        take("data_format")
    elif cls == "Reshape":
        take("target_shape")
    elif cls == "Rescaling":
        take("scale", "offset")
    elif cls == "Normalization":
        take("axis", "invert", "mean", "variance")
    elif cls == "Concatenate":
        take("axis")
    elif cls == "UpSampling2D":
        take("size", "data_format", "interpolation")
    elif cls in ("Add", "Multiply", "Subtract", "Average", "Maximum", "Minimum"):
        pass
    else:
        raise ValueError(f"no Keras 3 config rule for {cls}")
    return out


# Keras 3.15 builds these at construction (_build_at_init): no build_config.
_BUILT_AT_INIT = ("ReLU", "LeakyReLU", "Activation", "Softmax", "ELU", "MaxPooling2D",
                  "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
                  "Dropout")


def _k3_shape(shape):
    return list(shape)


def _k3_tensor(ref_layer, node, tensor, shape):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": _k3_shape(shape), "dtype": "float32",
                       "keras_history": [ref_layer, node, tensor]}}


def _k3_serialize(layer, in_shapes, walk):
    """serialize_keras_object of a layer or model (module, class_name, config,
    registered_name, build_config)."""
    cls = layer["class_name"]
    if is_model(layer):
        return _k3_model(layer, walk)
    d = {"module": "keras.layers", "class_name": cls, "config": _k3_layer_config(layer),
         "registered_name": None}
    if cls != "InputLayer" and cls not in _BUILT_AT_INIT:
        shapes = [_k3_shape(s) for s in in_shapes]
        d["build_config"] = {"input_shape": shapes if len(shapes) > 1 else shapes[0]}
    return d


def _k3_model(model, walk):
    c = model["config"]
    if model["class_name"] == "Sequential":
        layers = []
        for l in c["layers"]:
            n = l["config"]["name"]
            sub = walk.sub.get(n)
            layers.append(_k3_serialize(l, walk.in_shapes[n], sub))
        bshape = _k3_shape(walk.input_shapes[0])
        return {"module": "keras", "class_name": "Sequential",
                "config": {"name": c["name"], "trainable": layer_trainable(model),
                           "dtype": _k3_policy("float32"), "layers": layers,
                           "build_input_shape": bshape},
                "registered_name": None, "build_config": {"input_shape": bshape}}
    layers = []
    for l in c["layers"]:
        n = l["name"]
        e = _k3_serialize(l, walk.in_shapes[n], walk.sub.get(n))
        e["name"] = n
        nodes = []
        for node in l["inbound_nodes"]:
            # serialize_node: keras_history's node index counts only the nodes of this
            # model; each layer here is called once, so it is 0 (a nested Functional too).
            ts = [_k3_tensor(r[0], 0, r[2], walk.out[r[0]]) for r in node]
            nodes.append({"args": [ts[0]] if len(ts) == 1 else [ts], "kwargs": {}})
        e["inbound_nodes"] = nodes
        layers.append(e)

    def coord(r):
        # get_tensor_config: node_reindexing_map starts a nested Functional at 1.
        lay = walk.layer(r[0])
        return [r[0], 1 if lay["class_name"] in ("Functional", "Model") else 0, r[2]]

    ins = [coord(r) for r in c["input_layers"]]
    outs = [coord(r) for r in c["output_layers"]]
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": c["name"], "trainable": c.get("trainable", True),
                       "layers": layers,
                       # a single input or output is kept flat, as the model was built
                       "input_layers": ins[0] if len(ins) == 1 else ins,
                       "output_layers": outs[0] if len(outs) == 1 else outs},
            "registered_name": "Functional", "build_config": {"input_shape": None}}


def keras3_config(model):
    return _k3_model(model, Walk(model))


def keras3_paths(model, walk=None):
    """{(layer names from the outer model in): path of its vars group} as saving_lib's
    _save_state / _save_container_state name them: "layers" then, per layer of the
    model's .layers list (a Functional's includes its InputLayers, a Sequential's does
    not), its class name in snake case, _1, _2, ... for repeats of a class in the list."""
    walk = walk or Walk(model)
    out = {(): "vars"}

    def rec(m, wk, names, base):
        used = {}
        for l in m["config"]["layers"]:
            if m["class_name"] == "Sequential" and l["class_name"] == "InputLayer":
                continue
            cls = "Functional" if l["class_name"] == "Model" else l["class_name"]
            s = to_snake_case(cls)
            if s in used:
                used[s] += 1
                s = f"{s}_{used[s]}"
            else:
                used[s] = 0
            n = l["config"]["name"]
            path = f"{base}/layers/{s}" if base else f"layers/{s}"
            out[names + (n,)] = path
            if is_model(l):
                rec(l, wk.sub[n], names + (n,), path)

    rec(model, walk, (), "")
    return out


def _k3_vars(model, weights, walk):
    """[(path, layer name, [arrays])] in saving order."""
    paths = keras3_paths(model, walk)
    res = [("vars", model["config"]["name"], [])]

    def rec(m, w, wk, names):
        for l in m["config"]["layers"]:
            if m["class_name"] == "Sequential" and l["class_name"] == "InputLayer":
                continue
            n = l["config"]["name"]
            p = paths[names + (n,)]
            if is_model(l):
                res.append((p + "/vars", n, []))
                rec(l, w.get(n, {}), wk.sub[n], names + (n,))
            else:
                res.append((p + "/vars", n, [_array(a) for a in w.get(n, [])]))

    rec(model, weights, walk, ())
    return res


def write_keras3(path, model, weights, omit_weights=False, version=KERAS3_VERSION,
                 compression=zipfile.ZIP_STORED):
    """Keras 3 model.save(path): a zip (stored, not deflated) of metadata.json,
    config.json and model.weights.h5, whose every saveable has a vars group, with attribute
    name (Keras 3.6 and later), its variables as datasets "0", "1", ... in the layer's
    order (trainable then non-trainable, as created). compression ZIP_DEFLATED deflates
    the entries (Keras stores them), as a re-zipped file would."""
    walk = Walk(model)
    check_weights(walk, weights)
    cfg = _k3_model(model, walk)
    meta = {"keras_version": version, "date_saved": DATE_SAVED}
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        for p, name, arrs in _k3_vars(model, weights, walk):
            g = f.create_group(p)
            g.attrs["name"] = name
            for i, a in enumerate(arrs):
                _dataset(g, str(i), a)
    with zipfile.ZipFile(path, "w") as zf:
        for fname, data in (("metadata.json", json.dumps(meta)),
                            ("config.json", json.dumps(cfg))):
            zi = zipfile.ZipInfo(fname, date_time=ZIP_DATE)
            zi.compress_type = compression
            with zf.open(zi, "w") as o:
                o.write(data.encode())
        if not omit_weights:
            zi = zipfile.ZipInfo("model.weights.h5", date_time=ZIP_DATE)
            zi.compress_type = compression
            zi.external_attr = 0o600 << 16
            zf.writestr(zi, buf.getvalue())
    return cfg


def keras3_legacy_config(model):
    """model_config of a .h5 saved by Keras 3 (legacy_h5_format.py under
    use_legacy_config): each layer and model as legacy serialization gives it, {"class_name",
    "config"} without module / registered_name / build_config, but the config is Keras 3's
    get_config() (batch_shape, dtype policy dicts, initializers with module) and
    inbound_nodes are Keras 3's {"args", "kwargs"} (functional.py serialize_node)."""

    def strip(e):
        out = {"class_name": e["class_name"], "config": e["config"]}
        if e["class_name"] in MODEL_CLASSES:
            c = dict(e["config"])
            c["layers"] = [strip(l) for l in c["layers"]]
            out["config"] = c
        for k in ("name", "inbound_nodes"):
            if k in e:
                out[k] = e[k]
        return out

    return strip(keras3_config(model))


def write_keras3_h5(path, model, weights, version=KERAS3_VERSION):
    """Keras 3's model.save("m.h5") (keras/src/legacy/saving/legacy_h5_format.py): Keras
    2's groups and attributes, weight_names the variables' paths ("conv2d/kernel", no
    ":0"), keras_version 3.x, model_config keras3_legacy_config."""
    walk = Walk(model)
    check_weights(walk, weights)
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = version
        f.attrs["backend"] = BACKEND
        f.attrs["model_config"] = json.dumps(keras3_legacy_config(model)).encode("utf8")
        g = f.create_group("model_weights")
        layers = [l for l in model["config"]["layers"]
                  if not (model["class_name"] == "Sequential" and l["class_name"] == "InputLayer")]
        save_attributes(g, "layer_names", [l["config"]["name"].encode("utf8") for l in layers])
        g.attrs["backend"] = BACKEND.encode("utf8")
        g.attrs["keras_version"] = version.encode("utf8")
        for l in sorted(layers, key=lambda l: l["config"]["name"]):
            lg = g.create_group(l["config"]["name"])
            ws = []
            for p, i in legacy_slots(l, walk):
                _, a = _lookup(weights, walk, p, i)
                wk = walk
                for n in p[:-1]:
                    wk = wk.sub[n]
                ws.append((f"{p[-1]}/{wk.specs[p[-1]][i][1]}", a))  # Keras 3's names
            names = [n.encode("utf8") for n, _ in ws]
            save_attributes(lg, "weight_names", names)
            for n, (_, a) in zip(names, ws):
                _dataset(lg, n, a)
        save_attributes(g.create_group("top_level_model_weights"), "weight_names", [])


# ---------------------------------------------------------------------------------------
# TF.js layers model
# ---------------------------------------------------------------------------------------

QUANT = {"uint8": np.uint8, "uint16": np.uint16, "float16": np.float16}


def quantize(data, dtype):
    """quantization.py quantize_weights: affine uint8/uint16 with the TF-Lite "nudge" so
    that 0 is exact when the range covers it; float16 a plain cast. Returns (data,
    metadata) with metadata's keys as the manifest has them."""
    qd = QUANT[dtype]
    if qd is np.float16:
        return data.astype(np.float16), {}
    mn = data.min().astype(np.float64)
    mx = data.max().astype(np.float64)
    if mn == mx:
        return np.zeros_like(data, dtype=qd), {"min": mn, "scale": 1.0}
    qmax = np.iinfo(qd).max
    scale = (mx - mn) / qmax
    if mn <= 0 <= mx:
        zero = np.round((0 - mn) / scale)
        mn = -zero * scale
        mx = qmax * scale + mn
    q = np.round((data.clip(mn, mx) - mn) / scale).astype(qd)
    return q, {"min": mn, "scale": scale}


def dequantize(q, meta):
    """What tfjs does on load: value = q * scale + min (uint8/uint16), float16 widened."""
    if q.dtype in (np.uint8, np.uint16):
        return (q * meta["scale"] + meta["min"]).astype(np.float32)
    return q.astype(np.float32)


def tfjs_weight_entries(h5_path):
    """keras_h5_conversion.py h5_merged_saved_model_to_tfjs_format: the model_weights
    groups in h5py's (name) order, each group's weight_names in order, ":0" removed."""
    out = []
    with h5py.File(h5_path, "r") as f:
        mw = f["model_weights"]
        for layer in mw:
            out += _tfjs_group(mw[layer])
        topology = {"keras_version": _text(f.attrs["keras_version"]),
                    "backend": _text(f.attrs["backend"]),
                    "model_config": json.loads(_text(f.attrs["model_config"]))}
        if "training_config" in f.attrs:
            topology["training_config"] = json.loads(_text(f.attrs["training_config"]))
    return topology, out


def _text(v):
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def _tfjs_group(g):
    out = []
    if "weight_names" in g.attrs:
        names = g.attrs["weight_names"].tolist()
        if not names:
            return out
        for n in names:
            n = _text(n)
            out.append({"name": n[:-2] if n.endswith(":0") else n, "data": np.array(g[n])})
    else:
        for k in g:
            out += _tfjs_group(g[k])
    return out


def write_tfjs(out_dir, h5_path, quantization=None, shard_bytes=TFJS_SHARD_BYTES):
    """tensorflowjs_converter --input_format keras: model.json and the shards of the one
    weight group (group1-shard{i}of{n}.bin, little-endian, split every shard_bytes).
    quantization "uint8" / "uint16" / "float16" quantizes every float32 weight (the
    --quantize_uint8 etc. flags without names). Returns the manifest's weights."""
    os.makedirs(out_dir, exist_ok=True)
    topology, entries = tfjs_weight_entries(h5_path)
    manifest_weights, chunks = [], []
    for e in entries:
        data = e["data"]
        # write_weights.py _auto_convert_weight_entry: float64 -> float32, int64 -> int32
        if data.dtype == np.float64:
            data = data.astype(np.float32)
        elif data.dtype == np.int64:
            data = data.astype(np.int32)
        w = {"name": e["name"], "shape": list(data.shape), "dtype": data.dtype.name}
        if quantization and data.dtype == np.float32:
            q, meta = quantize(data, quantization)
            # _get_weights_manifest_for_group: {"dtype": <quantized>, **metadata,
            # "original_dtype": "float32"}; the weight's dtype stays the original.
            w["quantization"] = {"dtype": q.dtype.name, **meta, "original_dtype": "float32"}
            data = q
        manifest_weights.append(w)
        chunks.append(data.astype(data.dtype.newbyteorder("<")).tobytes())
    blob = b"".join(chunks)
    n = max(1, int(math.ceil(len(blob) / float(shard_bytes))))
    paths = []
    for i in range(n):
        fname = "group1-shard%dof%d.bin" % (i + 1, n)
        with open(os.path.join(out_dir, fname), "wb") as f:
            f.write(blob[i * shard_bytes:(i + 1) * shard_bytes])
        paths.append(fname)
    model_json = {"format": "layers-model",
                  "generatedBy": "keras v%s" % topology["keras_version"],
                  "convertedBy": TFJS_CONVERTED_BY,
                  "modelTopology": topology,
                  "weightsManifest": [{"paths": paths, "weights": manifest_weights}]}
    with open(os.path.join(out_dir, "model.json"), "wt") as f:
        json.dump(model_json, f)
    return manifest_weights


# ---------------------------------------------------------------------------------------
# Readers (for the round-trip checks of make_fixtures.py --check; independent of the
# writers above: they follow the files, not the model description)
# ---------------------------------------------------------------------------------------


def load_attributes(group, name):
    """hdf5_format.py load_attributes_from_hdf5_group."""
    if name in group.attrs:
        return [_text(n) for n in group.attrs[name]]
    data, i = [], 0
    while "%s%d" % (name, i) in group.attrs:
        data += [_text(n) for n in group.attrs["%s%d" % (name, i)]]
        i += 1
    return data


def read_keras2_h5(path, weights_only_model=None):
    """(model config, {layer: [arrays] or nested {...}}) of a Keras 2 .h5: weights by
    each group's weight_names, a nested model's split among its layers by their counts."""
    with h5py.File(path, "r") as f:
        if weights_only_model is None:
            model = json.loads(_text(f.attrs["model_config"]))
            if _text(f.attrs.get("keras_version", "2")).startswith("3"):
                model = keras3_to_walkable(model)
            root = f["model_weights"]
        else:
            model, root = weights_only_model, f
        flat = {}
        for n in load_attributes(root, "layer_names"):
            g = root[n]
            flat[n] = [np.array(g[w]) for w in load_attributes(g, "weight_names")]
    return model, _unflatten(model, flat)


def _unflatten(model, flat):
    """Each layer's weight list from the groups' lists, a nested model's split among its
    layers by legacy_slots (the inverse of the writer's order)."""
    walk = Walk(model)
    res = {}
    for l in model["config"]["layers"]:
        n = l["config"]["name"]
        if n not in flat:
            continue
        if not is_model(l):
            res[n] = flat[n]
            continue
        slots = legacy_slots(l, walk)
        if len(slots) != len(flat[n]):
            raise ValueError(f"{n}: {len(flat[n])} weights, its layers have {len(slots)}")
        for (path, i), a in zip(slots, flat[n]):
            d = res
            for p in path[:-1]:
                d = d.setdefault(p, {})
            lst = d.setdefault(path[-1], [])
            lst += [None] * (i + 1 - len(lst))
            lst[i] = a
    return res


def read_keras3(path):
    """(config.json's model, {layer: [arrays]}) of a .keras zip, the weights found by
    keras3_paths' naming in model.weights.h5."""
    with zipfile.ZipFile(path) as zf:
        cfg = json.loads(zf.read("config.json"))
        h5 = io.BytesIO(zf.read("model.weights.h5"))
    k2like = keras3_to_walkable(cfg)
    paths = keras3_paths(k2like)
    res = {}
    with h5py.File(h5, "r") as f:
        for names, p in paths.items():
            if not names:
                continue
            g = f[p + "/vars"]
            arrs = [np.array(g[str(i)]) for i in range(len(g))]
            d = res
            for n in names[:-1]:
                d = d.setdefault(n, {})
            if arrs:
                d[names[-1]] = arrs
    return cfg, res


def keras3_to_walkable(cfg):
    """A Keras 3 config reshaped into the Keras 2 form Walk reads (enough for shapes and
    weight naming): inbound nodes as lists, InputLayer's batch_shape, BN axis."""
    cls = cfg["class_name"]
    c = cfg["config"]
    layers = []
    for l in c["layers"]:
        e = {"class_name": l["class_name"], "config": dict(l["config"])}
        if l["class_name"] in MODEL_CLASSES:
            e = keras3_to_walkable(l)
        elif l["class_name"] == "InputLayer":
            e["config"]["batch_input_shape"] = l["config"]["batch_shape"]
        elif l["class_name"] == "BatchNormalization":
            e["config"]["axis"] = [l["config"]["axis"]]
        if "name" in l:
            e["name"] = l["name"]
            nodes = []
            for node in l.get("inbound_nodes", []):
                args = node["args"][0]
                args = args if isinstance(args, list) else [args]
                nodes.append([t["config"]["keras_history"] + [{}] for t in args])
            e["inbound_nodes"] = nodes
        layers.append(e)
    out = {"class_name": cls, "config": {"name": c["name"], "layers": layers}}
    if cls == "Functional":
        def lst(v):
            return [v] if v and isinstance(v[0], str) else v
        out["config"]["input_layers"] = lst(c["input_layers"])
        out["config"]["output_layers"] = lst(c["output_layers"])
        out["config"]["trainable"] = c.get("trainable", True)
    elif not c.get("trainable", True):
        out["_trainable"] = False
    return out


def read_tfjs(model_json_path):
    """(modelTopology.model_config, {weight name: float32 array}) of a TF.js layers model,
    quantized weights dequantized as tfjs does."""
    d = os.path.dirname(model_json_path)
    with open(model_json_path) as f:
        mj = json.load(f)
    out = {}
    for group in mj["weightsManifest"]:
        blob = b"".join(open(os.path.join(d, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            q = w.get("quantization")
            dt = np.dtype(q["dtype"] if q else w["dtype"]).newbyteorder("<")
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            a = np.frombuffer(blob, dt, n, off).reshape(w["shape"])
            off += n * dt.itemsize
            out[w["name"]] = dequantize(a, q) if q else a
    return mj["modelTopology"]["model_config"], out


def tfjs_to_layers(model, named):
    """{layer: [arrays]} of a model from the TF.js names (layer/weight, a nested model's
    layers under their own names)."""
    walk = Walk(model)

    def rec(m, wk):
        res = {}
        for l in m["config"]["layers"]:
            n = l["config"]["name"]
            if n in wk.sub:
                res[n] = rec(l, wk.sub[n])
            elif wk.specs.get(n):
                res[n] = [named[f"{n}/{s[0]}"] for s in wk.specs[n]]
        return res

    return rec(model, walk)
