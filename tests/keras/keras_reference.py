# keras_reference.py - Keras's inference semantics in PyTorch (CPU, float64), independent of
# clnet: runs a Keras model config (Keras 2's model_config, or a Keras 3 config.json through
# keras_layouts.keras3_to_walkable) with its weights ({layer: [arrays in Keras's order]}, a
# nested model's entry a dict) on an NHWC float input, giving what Keras would. The
# semantics followed, from Keras 2.15 / 3.15.1 and TensorFlow:
#   padding "same": out = ceil(in / s); total = max((out - 1) * s + keff - in, 0) with
#     keff = (k - 1) * dilation + 1; before = total // 2, the rest after (stride 2 on an even
#     size pads only the bottom / right); "valid": none, out = (in - keff) // s + 1.
#   AveragePooling2D "same" divides by the cells inside the image (TF excludes the padding);
#     MaxPooling2D pads with -inf.
#   BatchNormalization (inference): (x - moving_mean) / sqrt(moving_variance + epsilon) *
#     gamma + beta, its own epsilon.
#   ReLU(max_value, negative_slope, threshold) as backend.relu: x where x > threshold (else
#     0), clipped to [0, max_value], minus negative_slope * relu(threshold - x).
#   Normalization: (x - mean) / max(sqrt(variance), 1e-7) (backend.epsilon()); invert:
#     mean + x * max(sqrt(variance), 1e-7).
#   Rescaling: x * scale + offset. Flatten: NHWC order. Dropout: identity.
#   Activation "hard_sigmoid": Keras 2 clip(0.2 x + 0.5, 0, 1), Keras 3 clip(x / 6 + 0.5, 0, 1)
#     (run(..., keras=3)); "gelu": the exact erf form (both versions' default).
#
#   /usr/bin/python3 -c 'import keras_reference as r; ...'   (make_fixtures.py uses it)
import math

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def same_pads(n, k, s, d=1):
    """(before, after) of TF's "same" padding on one axis."""
    keff = (k - 1) * d + 1
    out = -(-n // s)
    total = max((out - 1) * s + keff - n, 0)
    return total // 2, total - total // 2


def _t(a):
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


def _nchw(x):
    return x.permute(0, 3, 1, 2)


def _nhwc(x):
    return x.permute(0, 2, 3, 1)


def _pad_same(xn, kh, kw, sh, sw, dh=1, dw=1, value=0.0):
    t, b = same_pads(xn.shape[2], kh, sh, dh)
    l, r = same_pads(xn.shape[3], kw, sw, dw)
    return F.pad(xn, (l, r, t, b), value=value)


def conv2d_nhwc(x, kernel, bias, strides, padding, dilation=(1, 1), groups=1):
    """Keras Conv2D: kernel HWIO {kh, kw, cin / groups, cout}."""
    kh, kw = kernel.shape[0], kernel.shape[1]
    xn = _nchw(x)
    if padding == "same":
        xn = _pad_same(xn, kh, kw, strides[0], strides[1], dilation[0], dilation[1])
    w = _t(kernel).permute(3, 2, 0, 1)
    y = F.conv2d(xn, w, None if bias is None else _t(bias), tuple(strides), 0, tuple(dilation),
                 groups)
    return _nhwc(y)


def depthwise_nhwc(x, kernel, bias, strides, padding, dilation=(1, 1)):
    """Keras DepthwiseConv2D: kernel {kh, kw, C, M}; output channel c * M + m."""
    kh, kw, c, m = kernel.shape
    w = _t(kernel).permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw)
    xn = _nchw(x)
    if padding == "same":
        xn = _pad_same(xn, kh, kw, strides[0], strides[1], dilation[0], dilation[1])
    y = F.conv2d(xn, w, None if bias is None else _t(bias), tuple(strides), 0, tuple(dilation),
                 c)
    return _nhwc(y)


def pool_nhwc(x, kind, pool, strides, padding):
    xn = _nchw(x)
    ph, pw = pool
    if kind == "max":
        if padding == "same":
            xn = _pad_same(xn, ph, pw, strides[0], strides[1], value=-math.inf)
        return _nhwc(F.max_pool2d(xn, (ph, pw), tuple(strides)))
    if padding == "same":
        ones = torch.ones_like(xn[:, :1])
        s = F.avg_pool2d(_pad_same(xn, ph, pw, strides[0], strides[1]), (ph, pw), tuple(strides))
        cnt = F.avg_pool2d(_pad_same(ones, ph, pw, strides[0], strides[1]), (ph, pw),
                           tuple(strides))
        return _nhwc(s / cnt)
    return _nhwc(F.avg_pool2d(xn, (ph, pw), tuple(strides)))


def keras_relu(x, max_value=None, negative_slope=0.0, threshold=0.0):
    neg = None
    if negative_slope:
        neg = torch.relu(-x + threshold)
    y = x * (x > threshold).to(x.dtype) if threshold else torch.relu(x)
    if max_value is not None:
        y = torch.clamp(y, 0.0, max_value)
    if neg is not None:
        y = y - negative_slope * neg
    return y


def activation_fn(name, x, keras=2):
    if isinstance(name, dict):  # a serialized function object
        name = name.get("config", name.get("class_name"))
    fns = {
        "linear": lambda v: v,
        None: lambda v: v,
        "relu": torch.relu,
        "relu6": lambda v: torch.clamp(v, 0.0, 6.0),
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "softmax": lambda v: torch.softmax(v, dim=-1),
        "swish": lambda v: v * torch.sigmoid(v),
        "silu": lambda v: v * torch.sigmoid(v),
        "elu": F.elu,
        "selu": F.selu,
        "gelu": lambda v: 0.5 * v * (1.0 + torch.erf(v / math.sqrt(2.0))),
        "softplus": F.softplus,
        "softsign": F.softsign,
        "exponential": torch.exp,
        "hard_sigmoid": (lambda v: torch.clamp(0.2 * v + 0.5, 0.0, 1.0)) if keras == 2 else
                        (lambda v: torch.clamp(v / 6.0 + 0.5, 0.0, 1.0)),
        "hard_silu": lambda v: v * torch.clamp(v / 6.0 + 0.5, 0.0, 1.0),
        "hard_swish": lambda v: v * torch.clamp(v / 6.0 + 0.5, 0.0, 1.0),
        "leaky_relu": lambda v: F.leaky_relu(v, 0.2),
    }
    if name not in fns:
        raise ValueError(f"activation {name!r} is not implemented here")
    return fns[name](x)


def _axis_shape(x, axis):
    shape = [1] * x.dim()
    shape[axis] = x.shape[axis]
    return shape


def apply_layer(layer, w, ins, keras=2):
    """Output of one (non-model) layer; ins the list of its input tensors (NHWC)."""
    cls, c = layer["class_name"], layer["config"]
    x = ins[0]
    act = lambda y: activation_fn(c.get("activation", "linear"), y, keras)  # noqa: E731
    if c.get("data_format", "channels_last") != "channels_last":
        raise ValueError(f"{cls} {c['name']}: data_format {c['data_format']} not implemented")
    if cls == "Conv2D":
        return act(conv2d_nhwc(x, w[0], w[1] if c["use_bias"] else None, c["strides"],
                               c["padding"], c["dilation_rate"], c.get("groups", 1)))
    if cls == "DepthwiseConv2D":
        return act(depthwise_nhwc(x, w[0], w[1] if c["use_bias"] else None, c["strides"],
                                  c["padding"], c["dilation_rate"]))
    if cls == "SeparableConv2D":
        y = depthwise_nhwc(x, w[0], None, c["strides"], c["padding"], c["dilation_rate"])
        y = conv2d_nhwc(y, w[1], w[2] if c["use_bias"] else None, (1, 1), "valid")
        return act(y)
    if cls == "Dense":
        y = x @ _t(w[0])
        if c["use_bias"]:
            y = y + _t(w[1])
        return act(y)
    if cls == "BatchNormalization":
        axis = c["axis"][0] if isinstance(c["axis"], list) else c["axis"]
        axis %= x.dim()
        shp = _axis_shape(x, axis)
        i = 0
        gamma = beta = None
        if c.get("scale", True):
            gamma = _t(w[i]).reshape(shp)
            i += 1
        if c.get("center", True):
            beta = _t(w[i]).reshape(shp)
            i += 1
        mean, var = _t(w[i]).reshape(shp), _t(w[i + 1]).reshape(shp)
        y = (x - mean) / torch.sqrt(var + c["epsilon"])
        if gamma is not None:
            y = y * gamma
        if beta is not None:
            y = y + beta
        return y
    if cls == "ReLU":
        return keras_relu(x, c.get("max_value"), c.get("negative_slope", 0.0) or 0.0,
                          c.get("threshold", 0.0) or 0.0)
    if cls == "LeakyReLU":
        slope = c.get("negative_slope", c.get("alpha", 0.3))
        return F.leaky_relu(x, slope)
    if cls == "ELU":
        return F.elu(x, c.get("alpha", 1.0))
    if cls == "Activation":
        return act(x)
    if cls == "Softmax":
        return torch.softmax(x, dim=c.get("axis", -1))
    if cls in ("MaxPooling2D", "AveragePooling2D"):
        return pool_nhwc(x, "max" if cls == "MaxPooling2D" else "avg", c["pool_size"],
                         c["strides"] or c["pool_size"], c["padding"])
    if cls in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        y = x.mean(dim=(1, 2), keepdim=True) if cls == "GlobalAveragePooling2D" else \
            x.amax(dim=(1, 2), keepdim=True)
        return y if c.get("keepdims") else y.reshape(y.shape[0], y.shape[3])
    if cls == "ZeroPadding2D":
        (t, b), (l, r) = c["padding"]
        return _nhwc(F.pad(_nchw(x), (l, r, t, b)))
    if cls == "Flatten":
        return x.reshape(x.shape[0], -1)
    if cls == "Reshape":
        return x.reshape((x.shape[0],) + tuple(c["target_shape"]))
    if cls == "Dropout":
        return x
    if cls == "Rescaling":
        return x * c["scale"] + c["offset"]
    if cls == "Normalization":
        if c.get("mean") is not None:
            mean, var = _t(c["mean"]), _t(c["variance"])
        else:
            mean, var = _t(w[0]), _t(w[1])
        keep = sorted(a % x.dim() for a in c["axis"])
        shp = [x.shape[d] if d in keep else 1 for d in range(x.dim())]
        if mean.dim() == 0:
            mean, var = mean.expand(shp), var.expand(shp)
        else:
            mean, var = mean.reshape(shp), var.reshape(shp)
        std = torch.clamp(torch.sqrt(var), min=1e-7)
        return mean + x * std if c.get("invert") else (x - mean) / std
    if cls == "Add":
        y = ins[0]
        for v in ins[1:]:
            y = y + v
        return y
    if cls == "Subtract":
        return ins[0] - ins[1]
    if cls == "Multiply":
        y = ins[0]
        for v in ins[1:]:
            y = y * v
        return y
    if cls == "Average":
        return sum(ins) / len(ins)
    if cls == "Maximum":
        y = ins[0]
        for v in ins[1:]:
            y = torch.maximum(y, v)
        return y
    if cls == "Minimum":
        y = ins[0]
        for v in ins[1:]:
            y = torch.minimum(y, v)
        return y
    if cls == "Concatenate":
        return torch.cat(ins, dim=c.get("axis", -1))
    raise ValueError(f"layer class {cls} ({c.get('name')}) is not implemented here")


MODELS = ("Functional", "Model", "Sequential")


def run_model(model, weights, inputs, keras=2):
    """Outputs (list of tensors) of a Functional or Sequential on its input tensors."""
    c = model["config"]
    layers = c["layers"]
    if model["class_name"] == "Sequential":
        x = inputs[0]
        for l in layers:
            if l["class_name"] == "InputLayer":
                continue
            x = _apply(l, weights, [x], keras)
        return [x]
    out = {}
    for r, t in zip(c["input_layers"], inputs):
        out[r[0]] = t
    for l in layers:
        name = l["name"]
        if l["class_name"] == "InputLayer":
            if name not in out:
                raise ValueError(f"input {name} has no value")
            continue
        node = l["inbound_nodes"][0]
        ins = [out[e[0]] for e in node]
        out[name] = _apply(l, weights, ins, keras)
    return [out[r[0]] for r in c["output_layers"]]


def _apply(layer, weights, ins, keras):
    name = layer["config"]["name"]
    if layer["class_name"] in MODELS:
        return run_model(layer, weights.get(name, {}), ins, keras)[0]
    return apply_layer(layer, weights.get(name, []), ins, keras)


def run(model, weights, x, keras=2):
    """The model's outputs (float64 numpy arrays) for the NHWC input x (or list of)."""
    xs = x if isinstance(x, (list, tuple)) else [x]
    with torch.no_grad():
        outs = run_model(model, weights, [_t(v) for v in xs], keras)
    return [o.numpy() for o in outs]
