# from_clnet.py - a clnet model file (safetensors: __metadata__ "spec", the text
# architecture spec, and weights "<layer>/<weight>") written as the Keras files clnet's
# Keras importer reads: model.h5 (Keras 2), weights.h5 (Keras 2 save_weights), model.keras
# (Keras 3) and tfjs/ (TF.js layers model, float32), so a test can check that a zoo model
# (clnet train/spec ... --style keras) imports back to the same logits. Run with Debian's
# /usr/bin/python3:
#
#   /usr/bin/python3 tests/keras/from_clnet.py MODEL.safetensors OUTDIR [--no-normalization]
#                    [--check]
#
# --check reads every file back, runs keras_reference.py on a random input (batch 2, values
# in [0, 1)) and requires equal outputs; it leaves that input and output in OUTDIR as
# check_input.npy and check_output.npy.
#
# The Keras model is the spec's graph, layer for layer and under the same names, plus:
#   - a Normalization layer ("normalization", adapted form: mean, variance = std^2, count)
#     right after the input when the file has a "mean"/"std" other than 0/1: clnet applies
#     them to the input before the graph, Keras inside it (the importer turns them back into
#     the model's mean and std); --no-normalization leaves it out;
#   - a ZeroPadding2D ("<layer>_zero_pad") before a conv2d / depthwise_conv2d / avg_pool
#     with numeric padding, which Keras has only as its own layer (then "valid");
#   - an Activation / ReLU / LeakyReLU / ELU layer ("<layer>_act") after a batch_norm or add
#     with a fused activation, and after a conv2d / depthwise_conv2d whose activation Keras 2
#     has no name for (relu6, leaky_relu, elu with alpha != 1).
# Weights keep clnet's layouts, which are Keras's: HWIO kernels, depthwise {kh, kw, C,
# multiplier}, dense kernels stored [1, 1, in, out] and written (in, out), vectors [c].
# An op with no Keras equivalent is an error naming the layer and op.
import argparse
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import keras_layouts as K  # noqa: E402

ST_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64,
             "I32": np.int32, "U8": np.uint8}


def read_safetensors(path):
    """(metadata dict, {name: array}) of a safetensors file."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        dt = np.dtype(ST_DTYPES[t["dtype"]]).newbyteorder("<")
        out[name] = np.frombuffer(data[a:b], dt).reshape(t["shape"]).astype(dt.newbyteorder("="))
    return meta, out


def parse_spec(text):
    """[(name, {key: value})] of a clnet spec, in order ('#' starts a comment)."""
    sections = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            if not line.endswith("]"):
                raise ValueError(f"spec line {raw!r}: a section header is [name]")
            sections.append((line[1:-1].strip(), {}))
            continue
        if "=" not in line or not sections:
            raise ValueError(f"spec line {raw!r}: expected key = value inside a [section]")
        k, v = line.split("=", 1)
        sections[-1][1][k.strip()] = v.strip()
    return sections


def ints(v):
    return [int(x) for x in v.split(",")]


def pair(v, default):
    if v is None:
        return list(default)
    xs = ints(v)
    return xs * 2 if len(xs) == 1 else xs


def boolean(v, default):
    if v is None:
        return default
    if v.lower() in ("true", "1", "yes"):
        return True
    if v.lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"not a bool: {v!r}")


def padding_of(v):
    """'valid' | 'same' | (t, b, l, r)."""
    if v is None or v == "valid":
        return "valid"
    if v == "same":
        return "same"
    xs = ints(v)
    if len(xs) == 1:
        return (xs[0],) * 4
    if len(xs) == 2:
        return (xs[0], xs[0], xs[1], xs[1])
    if len(xs) == 4:
        return tuple(xs)
    raise ValueError(f"padding {v!r}")


# clnet activation -> Keras 2 activation string, where one exists with the same function.
KERAS_ACT = {"none": "linear", "linear": "linear", "relu": "relu", "sigmoid": "sigmoid",
             "tanh": "tanh", "swish": "swish", "silu": "swish", "gelu": "gelu",
             "softmax": "softmax"}


class Unsupported(ValueError):
    pass


class Converter:
    def __init__(self, sections, tensors, meta, normalization=True):
        self.sections = sections
        self.tensors = tensors
        self.meta = meta
        self.normalization = normalization
        self.names = {n for n, _ in sections}
        self.f = None
        self.ref = {}        # clnet layer -> Ref of the Keras tensor it is
        self.weights = {}
        self.consumers = {}
        self.errors = []
        prev = None
        for n, kv in sections:
            ins = [s.strip() for s in kv["inputs"].split(",")] if "inputs" in kv else \
                ([prev] if prev else [])
            kv["_inputs"] = ins
            for i in ins:
                self.consumers.setdefault(i, []).append((n, kv))
            prev = n

    def unique(self, base):
        n, k = base, 1
        while n in self.names:
            n = f"{base}_{k}"
            k += 1
        self.names.add(n)
        return n

    def w(self, layer, weight):
        key = f"{layer}/{weight}"
        if key not in self.tensors:
            raise ValueError(f"the file has no tensor {key}")
        return self.tensors[key].astype(np.float32)

    def act_layer(self, name, act):
        """The Keras layer for clnet activation act (with its alpha), or None for none."""
        if act in (None, "none", "linear"):
            return None
        base, alpha = act, None
        if "(" in act:
            base, rest = act.split("(", 1)
            alpha = float(rest.rstrip(")"))
        if base == "relu":
            return K.relu(name)
        if base == "relu6":
            return K.relu(name, 6.0)
        if base == "leaky_relu":
            return K.leaky_relu(name, 0.3 if alpha is None else alpha)
        if base == "elu":
            return K._layer("ELU", name, {"alpha": 1.0 if alpha is None else alpha})
        if base in KERAS_ACT:
            return K.activation(name, KERAS_ACT[base])
        raise Unsupported(f"activation {act} has no Keras 2 equivalent (Keras 2's hard_sigmoid "
                          "is 0.2 x + 0.5; gelu_tanh, hard_swish have no name)")

    def call(self, layer, *ins):
        r = self.f(layer, *ins)
        return r

    def fused(self, name, kv, x, keras_act_ok=True):
        """x, then the layer of a fused activation when the op's Keras class cannot hold it."""
        act = kv.get("activation")
        if act in (None, "none", "linear"):
            return x
        layer = self.act_layer(self.unique(f"{name}_act"), act)
        return self.call(layer, x)

    def keepdims(self, name):
        """GlobalAveragePooling2D keeps (1, 1, C) unless every consumer (through dropout)
        reads a vector as well: dense, flatten, softmax."""
        def ok(n):
            for c, kv in self.consumers.get(n, []):
                op = kv["op"]
                if op == "dropout":
                    if not ok(c):
                        return False
                elif op not in ("dense", "flatten", "softmax"):
                    return False
            return True
        return not ok(name)

    def convert(self):
        s = self.sections
        inputs = [(n, kv) for n, kv in s if kv.get("op") == "input"]
        if len(inputs) != 1:
            raise ValueError(f"{len(inputs)} input layers; clnet models have one")
        self.f = K.Functional(self.meta.get("name", "clnet_model"))
        for n, kv in s:
            op = kv.get("op")
            try:
                self.layer(n, kv, op)
            except Unsupported as e:
                self.errors.append(f"[{n}] op = {op}: {e}")
                # stand in with the layer's first input, so later layers still get checked
                ins = kv["_inputs"]
                self.ref.setdefault(n, self.ref.get(ins[0]) if ins else None)
        if self.errors:
            raise Unsupported("no Keras equivalent for:\n  " + "\n  ".join(self.errors))
        last = s[-1][0]
        return self.f.config(self.ref[last]), self.weights

    def layer(self, n, kv, op):
        ins = [self.ref.get(i) for i in kv["_inputs"]]
        x = ins[0] if ins else None
        if op == "input":
            h, w, c = ints(kv["shape"])
            r = self.f.input(n, (h, w, c))
            mean = self.meta.get("mean")
            std = self.meta.get("std")
            if self.normalization and mean and std:
                m = np.array([float(v) for v in mean.split(",")], np.float32)
                sd = np.array([float(v) for v in std.split(",")], np.float32)
                if not (np.all(m == 0) and np.all(sd == 1)):
                    nn = self.unique("normalization")
                    r = self.call(K.normalization(nn), r)
                    self.weights[nn] = [m, (sd.astype(np.float64) ** 2).astype(np.float32),
                                        np.array(0, np.int64)]
            self.ref[n] = r
            return
        if x is None:
            raise ValueError(f"[{n}]: no input")
        if op in ("conv2d", "depthwise_conv2d"):
            ks = pair(kv.get("kernel_size"), (1, 1))
            st = pair(kv.get("strides"), (1, 1))
            dil = pair(kv.get("dilation_rate"), (1, 1))
            pad = padding_of(kv.get("padding"))
            use_bias = boolean(kv.get("use_bias"), True)
            if isinstance(pad, tuple):
                if any(pad):
                    t, b, l, r = pad
                    x = self.call(K.zero_pad(self.unique(f"{n}_zero_pad"), ((t, b), (l, r))), x)
                pad = "valid"
            act = kv.get("activation", "none")
            base = act.split("(")[0]
            keras_act = KERAS_ACT.get(base) if "(" not in act else None
            if keras_act == "softmax":
                keras_act = None
            kernel = self.w(n, "kernel")
            if op == "conv2d":
                layer = K.conv2d(n, int(kv["filters"]), ks, st, pad, dil,
                                 int(kv.get("groups", 1)), keras_act or "linear", use_bias)
            else:
                layer = K.depthwise_conv2d(n, ks, st, pad, int(kv.get("depth_multiplier", 1)),
                                           dil, keras_act or "linear", use_bias)
            self.weights[n] = [kernel] + ([self.w(n, "bias")] if use_bias else [])
            y = self.call(layer, x)
            if keras_act is None and act not in ("none", "linear"):
                y = self.call(self.act_layer(self.unique(f"{n}_act"), act), y)
            self.ref[n] = y
            return
        if op == "batch_norm":
            self.weights[n] = [self.w(n, k) for k in ("gamma", "beta", "moving_mean",
                                                      "moving_variance")]
            y = self.call(K.batch_norm(n, epsilon=float(kv.get("epsilon", 1e-3)),
                                       momentum=float(kv.get("momentum", 0.99))), x)
            self.ref[n] = self.fused(n, kv, y)
            return
        if op == "relu":
            mv = float(kv.get("max_value", 0))
            self.ref[n] = self.call(K.relu(n, mv if mv > 0 else None), x)
            return
        if op == "relu6":
            self.ref[n] = self.call(K.relu(n, 6.0), x)
            return
        if op == "activation":
            layer = self.act_layer(n, kv["activation"])
            self.ref[n] = self.call(layer or K.activation(n, "linear"), x)
            return
        if op == "leaky_relu":
            self.ref[n] = self.call(K.leaky_relu(n, float(kv.get("negative_slope", 0.3))), x)
            return
        if op == "elu":
            self.ref[n] = self.call(K._layer("ELU", n, {"alpha": float(kv.get("alpha", 1.0))}), x)
            return
        if op in ("max_pool", "avg_pool"):
            ps = pair(kv.get("pool_size"), (2, 2))
            st = pair(kv.get("strides"), ps)
            pad = padding_of(kv.get("padding"))
            if boolean(kv.get("ceil_mode"), False):
                raise Unsupported("ceil_mode (Keras pools round down)")
            if isinstance(pad, tuple):
                if any(pad):
                    if op == "max_pool" or not boolean(kv.get("count_include_pad"), False):
                        raise Unsupported(f"numeric padding {kv['padding']} (Keras pads "
                                          "pools only as 'same', excluding the padding)")
                    t, b, l, r = pad
                    x = self.call(K.zero_pad(self.unique(f"{n}_zero_pad"), ((t, b), (l, r))), x)
                pad = "valid"
            elif op == "avg_pool" and pad == "same" and boolean(kv.get("count_include_pad"),
                                                                False):
                raise Unsupported("count_include_pad with 'same' padding")
            maker = K.max_pool if op == "max_pool" else K.avg_pool
            self.ref[n] = self.call(maker(n, ps, st, pad), x)
            return
        if op in ("global_avg_pool", "global_max_pool"):
            maker = K.global_avg_pool if op == "global_avg_pool" else K.global_max_pool
            self.ref[n] = self.call(maker(n, keepdims=self.keepdims(n)), x)
            return
        if op == "zero_pad":
            t, b, l, r = padding_of(kv.get("padding", "1"))
            self.ref[n] = self.call(K.zero_pad(n, ((t, b), (l, r))), x)
            return
        if op == "flatten":
            self.ref[n] = self.call(K.flatten(n), x)
            return
        if op == "dense":
            use_bias = boolean(kv.get("use_bias"), True)
            kernel = self.w(n, "kernel")
            kernel = kernel.reshape(kernel.shape[-2], kernel.shape[-1])
            self.weights[n] = [kernel] + ([self.w(n, "bias")] if use_bias else [])
            act = kv.get("activation", "none")
            keras_act = KERAS_ACT.get(act) if "(" not in act else None
            y = self.call(K.dense(n, int(kv["units"]), keras_act or "linear", use_bias), x)
            if keras_act is None:
                y = self.call(self.act_layer(self.unique(f"{n}_act"), act), y)
            self.ref[n] = y
            return
        if op == "dropout":
            self.ref[n] = self.call(K.dropout(n, float(kv.get("rate", 0.5))), x)
            return
        if op == "softmax":
            axis = int(kv.get("axis", -1))
            self.ref[n] = self.call(K.softmax(n, -1 if axis in (-1, 3) else axis), x)
            return
        if op in ("add", "multiply", "subtract"):
            cls = {"add": "Add", "multiply": "Multiply", "subtract": "Subtract"}[op]
            y = self.call(K.merge(cls, n), *ins)
            self.ref[n] = self.fused(n, kv, y)
            return
        if op == "concatenate":
            self.ref[n] = self.call(K.concatenate(n, -1), *ins)
            return
        raise Unsupported("no Keras layer does this op (clnet-only: channel_pad, "
                          "channel_slice, channel_shuffle, divide, layer_scale, "
                          "stochastic_depth, ...)" if op else "no op")


def convert_file(path, out_dir, normalization=True):
    meta, tensors = read_safetensors(path)
    if meta.get("format") != "clnet" or "spec" not in meta:
        raise SystemExit(f"{path}: not a clnet model file (__metadata__ format/spec)")
    sections = parse_spec(meta["spec"])
    name = os.path.splitext(os.path.basename(path))[0]
    conv = Converter(sections, tensors, dict(meta, name=name.replace(".", "_")), normalization)
    model, weights = conv.convert()
    used = set(weights)
    os.makedirs(out_dir, exist_ok=True)
    h5 = os.path.join(out_dir, "model.h5")
    K.write_keras2_h5(h5, model, weights)
    K.write_keras2_weights(os.path.join(out_dir, "weights.h5"), model, weights)
    K.write_keras3(os.path.join(out_dir, "model.keras"), model, weights)
    K.write_tfjs(os.path.join(out_dir, "tfjs"), h5)
    leftover = sorted({t.split("/")[0] for t in tensors} - used)
    if leftover:
        raise SystemExit(f"tensors of layers the Keras model does not use: {leftover}")
    walk = K.Walk(model)
    total, trainable, frozen = K.count_params(walk)
    print(f"{path} -> {out_dir}: {len(model['config']['layers'])} Keras layers, "
          f"{total} parameters ({trainable} trainable, {frozen} non-trainable)")
    return model, weights


def main():
    p = argparse.ArgumentParser(description="a clnet model file as Keras files")
    p.add_argument("model", help="clnet model file (.safetensors)")
    p.add_argument("out", help="output directory")
    p.add_argument("--no-normalization", action="store_true",
                   help="no Normalization layer for the file's mean/std")
    p.add_argument("--check", action="store_true",
                   help="read the files back and run them with keras_reference on a random "
                        "input: every layout must give the same outputs")
    a = p.parse_args()
    try:
        model, weights = convert_file(a.model, a.out, not a.no_normalization)
    except Unsupported as e:
        raise SystemExit(f"{a.model}: {e}")
    if a.check:
        import keras_reference as R
        walk = K.Walk(model)
        x = np.random.default_rng(0).random((2,) + tuple(walk.input_shapes[0][1:]))
        want = R.run(model, weights, x)[0]
        m2, w2 = K.read_keras2_h5(os.path.join(a.out, "model.h5"))
        _, w3 = K.read_keras2_h5(os.path.join(a.out, "weights.h5"), weights_only_model=m2)
        c3, w4 = K.read_keras3(os.path.join(a.out, "model.keras"))
        c5, named = K.read_tfjs(os.path.join(a.out, "tfjs", "model.json"))
        for label, y in (("model.h5", R.run(m2, w2, x)[0]), ("weights.h5", R.run(m2, w3, x)[0]),
                         ("model.keras", R.run(K.keras3_to_walkable(c3), w4, x, keras=3)[0]),
                         ("tfjs", R.run(c5, K.tfjs_to_layers(c5, named), x)[0])):
            err = np.abs(y - want).max()
            print(f"  {label}: max abs diff {err:.1e}")
            if err > 1e-6 * max(1.0, np.abs(want).max()):
                raise SystemExit(f"{label} disagrees")
        np.save(os.path.join(a.out, "check_input.npy"), x.astype(np.float32))
        np.save(os.path.join(a.out, "check_output.npy"), want.astype(np.float32))


if __name__ == "__main__":
    main()
