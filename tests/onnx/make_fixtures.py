# make_fixtures.py - the ONNX fixtures of clnet's importer tests: small models of every
# torchvision family, built from torchvision's own classes and blocks at reduced widths and
# depths, with seeded random weights and randomized batch-norm statistics, exported by
# torch.onnx.export at opsets 13 and 17 (fixtures/<family>_op<k>/), and hostile files the
# importer must refuse cleanly (hostile/<case>/). Layout as ONNX's own node tests:
# model.onnx and test_data_set_0/{input_0,output_0}.pb. Run with Debian's /usr/bin/python3
# (python3-torch 1.13, python3-torchvision 0.14, python3-onnx 1.12); never a clnet
# dependency: the files are committed.
#
#   /usr/bin/python3 tests/onnx/make_fixtures.py               everything
#   /usr/bin/python3 tests/onnx/make_fixtures.py --only resnet  one family (both opsets)
#   /usr/bin/python3 tests/onnx/make_fixtures.py --only hostile the hostile files
#
# Deterministic: the same torch, torchvision and onnx give the same bytes. The READMEs of
# fixtures/ and hostile/ are written from what is on disk. bench/compare/onnx_torchvision.py
# imports randomize() and write_case() from here for the full-size models.
import argparse
import math
import os
import shutil
import sys
import warnings
from functools import partial

import numpy as np
import onnx
import torch
import torchvision
from onnx import TensorProto, helper, numpy_helper
from torch import nn
from torchvision.models import (convnext, densenet, efficientnet, inception, mnasnet, mobilenetv3,
                                regnet, resnet, squeezenet, vgg)
from torchvision.models.googlenet import BasicConv2d, Inception

HERE = os.path.dirname(os.path.abspath(__file__))
OPSETS = (13, 17)
# Older opsets where ONNX moved attributes to inputs (Clip's min/max and Pad's pads at 11,
# Slice's starts/ends at 10, Split's split and Squeeze's axes at 13): a few families are
# also exported there, down to opset 7, the oldest clnet reads.
OLD_OPSETS = {"resnet": (7,), "mobilenet_v2": (9, 11), "inception_v3": (9, 11),
              "shufflenet_v2": (11,), "mobilenet_v3_large": (10,)}
BATCH = 2
CLASSES = 10
DYNAMIC = {"input": {0: "N"}, "logits": {0: "N"}}


def randomize(model, seed):
    """Makes every parameter matter: batch-norm statistics, scales and shifts away from 0
    and 1 (torch's export folds them into the convolutions, so a wrong fold shows), layer
    norm affine parameters random, ConvNeXt's layer scales ~U(0.1, 1) instead of 1e-6, and
    the biases that torchvision initializes to zero random too."""
    g = torch.Generator().manual_seed(seed)

    def fill(t, sample):
        t.copy_(sample(t.shape))

    def normal(std):
        return lambda shape: torch.randn(shape, generator=g) * std

    def uniform(lo, hi):
        return lambda shape: lo + (hi - lo) * torch.rand(shape, generator=g)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                fill(mod.running_mean, normal(0.2))
                fill(mod.running_var, uniform(0.5, 1.5))
            if isinstance(mod, (nn.modules.batchnorm._BatchNorm, nn.LayerNorm)):
                if mod.weight is not None:
                    fill(mod.weight, uniform(0.5, 1.5))
                    fill(mod.bias, normal(0.2))
            elif isinstance(mod, (nn.Conv2d, nn.Linear)) and mod.bias is not None:
                fill(mod.bias, normal(0.1))
        for name, p in model.named_parameters():
            if name.endswith("layer_scale"):
                fill(p, uniform(0.1, 1.0))
    return model.eval()


def tensor_file(path, array, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(array), name).SerializeToString())


def write_case(model, x, opset, out_dir, dynamic=None):
    """out_dir/model.onnx (torch's own export, node names as torch gives them) and
    out_dir/test_data_set_0/{input_0,output_0}.pb with torch's logits for x."""
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(os.path.join(out_dir, "test_data_set_0"))
    with torch.no_grad():
        y = model(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, os.path.join(out_dir, "model.onnx"), opset_version=opset,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes=dynamic or DYNAMIC,
                          do_constant_folding=True)
    tensor_file(os.path.join(out_dir, "test_data_set_0", "input_0.pb"), x.numpy(), "input")
    tensor_file(os.path.join(out_dir, "test_data_set_0", "output_0.pb"), y.numpy(), "logits")


# ---- the families: torchvision's classes and blocks at reduced widths ----


class SmallResNet(resnet.ResNet):
    """torchvision's ResNet (its forward, _make_layer and blocks) with stage widths of our
    choosing; ResNet.__init__ hard-codes 64..512."""

    def __init__(self, block, layers, planes, groups=1, width_per_group=64, stem=8):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes, self.dilation = stem, 1
        self.groups, self.base_width = groups, width_per_group
        self.conv1 = nn.Conv2d(3, stem, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, planes[0], layers[0])
        self.layer2 = self._make_layer(block, planes[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, planes[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, planes[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(planes[3] * block.expansion, CLASSES)


def mobilenet_v2():
    # Stages of (t, c, n, s) at width 0.25 (channels /4, to multiples of 8): stride 32.
    setting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2], [6, 32, 2, 2], [6, 48, 1, 2]]
    m = torchvision.models.MobileNetV2(num_classes=CLASSES, width_mult=0.25,
                                       inverted_residual_setting=setting)
    # The 1x1 head is 1280 wide whatever width_mult: 64 here, same ConvNormActivation.
    last = m.features[-1][0].in_channels
    m.features[-1] = torchvision.ops.Conv2dNormActivation(last, 64, kernel_size=1,
                                                          activation_layer=nn.ReLU6)
    m.classifier[1] = nn.Linear(64, CLASSES)
    return m


def mobilenet_v3(small):
    c = partial(mobilenetv3.InvertedResidualConfig, dilation=1, width_mult=1.0)
    if small:  # MobileNetV3-Small's pattern: SE on the first, stride-2, unexpanded block
        setting = [c(8, 3, 8, 8, True, "RE", 2), c(8, 3, 24, 16, False, "RE", 2),
                   c(16, 3, 32, 16, False, "RE", 1), c(16, 5, 48, 16, True, "HS", 2),
                   c(16, 5, 48, 16, True, "HS", 1), c(16, 5, 48, 16, True, "HS", 2)]
    else:  # MobileNetV3-Large's: unexpanded residual first, ReLU stages, then hardswish + SE
        setting = [c(8, 3, 8, 8, False, "RE", 1), c(8, 3, 24, 16, False, "RE", 2),
                   c(16, 3, 32, 16, False, "RE", 1), c(16, 5, 32, 16, True, "RE", 2),
                   c(16, 3, 48, 16, False, "HS", 2), c(16, 3, 32, 16, False, "HS", 1),
                   c(16, 5, 48, 16, True, "HS", 2), c(16, 5, 48, 16, True, "HS", 1)]
    return mobilenetv3.MobileNetV3(setting, last_channel=24, num_classes=CLASSES)


def mnasnet_small():
    m = torchvision.models.MNASNet(alpha=0.25, num_classes=CLASSES)
    # MNASNet's own layer list (mnasnet.py) with depths 8..32 and stacks of 2, 1 instead of
    # 3, 3, 3, 2, 4, 1 repeats; its 1280-wide head 32 wide. Forward (mean over H, W) is its.
    d = [8, 8, 8, 8, 16, 16, 16, 16]
    mom = mnasnet._BN_MOMENTUM
    m.layers = nn.Sequential(
        nn.Conv2d(3, d[0], 3, padding=1, stride=2, bias=False), nn.BatchNorm2d(d[0], momentum=mom),
        nn.ReLU(inplace=True),
        nn.Conv2d(d[0], d[0], 3, padding=1, stride=1, groups=d[0], bias=False),
        nn.BatchNorm2d(d[0], momentum=mom), nn.ReLU(inplace=True),
        nn.Conv2d(d[0], d[1], 1, padding=0, stride=1, bias=False),
        nn.BatchNorm2d(d[1], momentum=mom),
        mnasnet._stack(d[1], d[2], 3, 2, 3, 2, mom), mnasnet._stack(d[2], d[3], 5, 2, 3, 2, mom),
        mnasnet._stack(d[3], d[4], 5, 2, 6, 1, mom), mnasnet._stack(d[4], d[5], 3, 1, 6, 1, mom),
        mnasnet._stack(d[5], d[6], 5, 2, 6, 1, mom), mnasnet._stack(d[6], d[7], 3, 1, 6, 1, mom),
        nn.Conv2d(d[7], 32, 1, padding=0, stride=1, bias=False), nn.BatchNorm2d(32, momentum=mom),
        nn.ReLU(inplace=True))
    m.classifier = nn.Sequential(nn.Dropout(p=0.2, inplace=True), nn.Linear(32, CLASSES))
    return m


def efficientnet_small():
    c = efficientnet.MBConvConfig
    setting = [c(1, 3, 1, 8, 8, 1), c(6, 3, 2, 8, 8, 2), c(6, 5, 2, 8, 16, 1),
               c(6, 3, 2, 16, 16, 1), c(6, 5, 2, 16, 16, 1)]
    return efficientnet.EfficientNet(setting, dropout=0.2, stochastic_depth_prob=0.2,
                                     num_classes=CLASSES, last_channel=32)


def squeezenet_small():
    m = torchvision.models.SqueezeNet(version="1_1", num_classes=CLASSES)
    # SqueezeNet 1.1's features at 1/8 of its widths (Fire squeeze/expand ratios kept).
    fire = squeezenet.Fire
    pool = partial(nn.MaxPool2d, kernel_size=3, stride=2, ceil_mode=True)
    m.features = nn.Sequential(
        nn.Conv2d(3, 8, kernel_size=3, stride=2), nn.ReLU(inplace=True), pool(),
        fire(8, 2, 8, 8), fire(16, 2, 8, 8), pool(),
        fire(16, 4, 16, 16), fire(32, 4, 16, 16), pool(),
        fire(32, 6, 24, 24), fire(48, 6, 24, 24), fire(48, 8, 32, 32), fire(64, 8, 32, 32))
    m.classifier = nn.Sequential(nn.Dropout(p=0.5), nn.Conv2d(64, CLASSES, kernel_size=1),
                                 nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)))
    return m


def googlenet_small():
    m = torchvision.models.GoogLeNet(num_classes=CLASSES, aux_logits=False, transform_input=False,
                                     init_weights=True)
    # Every module GoogLeNet's forward uses, at 1/24 of its widths.
    s = lambda v: max(1, round(v / 24))  # noqa: E731
    conv = BasicConv2d
    m.conv1 = conv(3, s(64), kernel_size=7, stride=2, padding=3)
    m.conv2 = conv(s(64), s(64), kernel_size=1)
    m.conv3 = conv(s(64), s(192), kernel_size=3, padding=1)
    cin = s(192)
    for name, w in [("inception3a", (64, 96, 128, 16, 32, 32)),
                    ("inception3b", (128, 128, 192, 32, 96, 64)),
                    ("inception4a", (192, 96, 208, 16, 48, 64)),
                    ("inception4b", (160, 112, 224, 24, 64, 64)),
                    ("inception4c", (128, 128, 256, 24, 64, 64)),
                    ("inception4d", (112, 144, 288, 32, 64, 64)),
                    ("inception4e", (256, 160, 320, 32, 128, 128)),
                    ("inception5a", (256, 160, 320, 32, 128, 128)),
                    ("inception5b", (384, 192, 384, 48, 128, 128))]:
        w = [s(v) for v in w]
        setattr(m, name, Inception(cin, *w))
        cin = w[0] + w[2] + w[4] + w[5]
    m.fc = nn.Linear(cin, CLASSES)
    return m


def inception_v3_small():
    # The whole Inception3 (every Mixed block, its forward) at 1/32 of its widths: every
    # concatenation of torchvision's widths is a multiple of 32, so the narrowed blocks
    # still fit together; the image's 3 channels stay 3.
    def narrow(c):
        return c if c == 3 else math.ceil(c / 32)

    def conv_block(cin, cout, **kw):
        return inception.BasicConv2d(narrow(cin), narrow(cout), **kw)

    blocks = [conv_block] + [partial(b, conv_block=conv_block) for b in (
        inception.InceptionA, inception.InceptionB, inception.InceptionC, inception.InceptionD,
        inception.InceptionE, inception.InceptionAux)]
    m = torchvision.models.Inception3(num_classes=CLASSES, aux_logits=False, transform_input=False,
                                      init_weights=True, inception_blocks=blocks)
    m.fc = nn.Linear(narrow(2048), CLASSES)
    return m


def vgg_small():
    # vgg11's pattern (convs of 3x3, max pools of 2) with 2 pools: 28 px -> a 7x7 map, so
    # AdaptiveAvgPool2d((7, 7)) and the NCHW flatten into the first Linear are VGG's.
    features = vgg.make_layers([8, "M", 16, 16, "M"], batch_norm=False)
    m = torchvision.models.VGG(features, num_classes=CLASSES, init_weights=True)
    m.classifier = nn.Sequential(nn.Linear(16 * 7 * 7, 12), nn.ReLU(True), nn.Dropout(),
                                 nn.Linear(12, 12), nn.ReLU(True), nn.Dropout(),
                                 nn.Linear(12, CLASSES))
    return m


def alexnet_small():
    # AlexNet's layers (11x11/4 conv, 5x5, three 3x3, overlapping 3x3/2 max pools) at 1/16
    # width, without its second max pool so that 47 px ends on a 2x2 map (torch cannot
    # export an adaptive pool whose output does not divide its input: (6, 6) needs 224 px).
    m = torchvision.models.AlexNet(num_classes=CLASSES)
    m.features = nn.Sequential(
        nn.Conv2d(3, 4, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(4, 12, kernel_size=5, padding=2), nn.ReLU(inplace=True),
        nn.Conv2d(12, 24, kernel_size=3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(24, 16, kernel_size=3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(16, 16, kernel_size=3, padding=1), nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2))
    m.avgpool = nn.AdaptiveAvgPool2d((2, 2))
    m.classifier = nn.Sequential(nn.Dropout(p=0.5), nn.Linear(16 * 2 * 2, 32),
                                 nn.ReLU(inplace=True),
                                 nn.Dropout(p=0.5), nn.Linear(32, 32), nn.ReLU(inplace=True),
                                 nn.Linear(32, CLASSES))
    return m


BasicBlock, Bottleneck = resnet.BasicBlock, resnet.Bottleneck
c_nb = convnext.CNBlockConfig
regnet_params = regnet.BlockParams(depths=[1, 1, 2, 1], widths=[8, 8, 16, 16],
                                   group_widths=[4, 4, 8, 8], bottleneck_multipliers=[1.0] * 4,
                                   strides=[2, 2, 2, 2], se_ratio=0.25)

# name: (builder, input side in px, what it covers)
FAMILIES = {
    "resnet": (lambda: SmallResNet(BasicBlock, [2, 1, 1, 1], [8, 8, 12, 16]), 36,
               "ResNet of BasicBlocks: 7x7/2 stem, 3x3/2 max pool (pad 1), identity and 1x1/2 "
               "projection shortcuts, residual Add + ReLU, global average pool, Linear"),
    "resnet_bottleneck": (lambda: SmallResNet(Bottleneck, [2, 1, 1, 1], [4, 4, 8, 12]), 36,
                          "ResNet of Bottlenecks (1x1, 3x3 with the stride, 1x1 x4), "
                          "stride-1 projection in the first stage"),
    "resnext": (lambda: SmallResNet(Bottleneck, [1, 1, 1, 1], [4, 4, 8, 8], groups=4,
                                    width_per_group=32), 36,
                "ResNeXt: Bottlenecks whose 3x3 convolution is grouped (4 groups)"),
    "wide_resnet": (lambda: SmallResNet(Bottleneck, [1, 1, 1, 1], [4, 4, 6, 8],
                                        width_per_group=128), 36,
                    "Wide ResNet: Bottlenecks with twice the inner width"),
    "mobilenet_v2": (mobilenet_v2, 36,
                     "MobileNetV2 (the full class, width 0.25): ReLU6 as Clip, depthwise 3x3, "
                     "inverted residuals with and without expansion, residual Add"),
    "mobilenet_v3_large": (lambda: mobilenet_v3(False), 36,
                           "MobileNetV3 (the full class), Large's block pattern: hardswish "
                           "(HardSwish at opset 17, x*HardSigmoid(x) at 13), SE with "
                           "hardsigmoid, 5x5 depthwise, unexpanded residual block, "
                           "Linear-hardswish-Linear head"),
    "mobilenet_v3_small": (lambda: mobilenet_v3(True), 36,
                           "MobileNetV3, Small's pattern: SE on the first unexpanded stride-2 "
                           "block, ReLU then hardswish stages"),
    "mnasnet": (mnasnet_small, 36,
                "MNASNet (its class and _stack): depthwise-separable stem, 3x3 and 5x5 "
                "inverted residuals, head by mean over H and W (ReduceMean)"),
    "efficientnet": (efficientnet_small, 36,
                     "EfficientNet (the full class, MBConvConfig stages): SiLU (x*Sigmoid(x)), "
                     "SE with SiLU and sigmoid, 3x3 and 5x5 depthwise, stochastic depth "
                     "(identity in eval)"),
    "squeezenet": (squeezenet_small, 42,
                   "SqueezeNet 1.1 (Fire modules): 3x3/2 stem without padding, ceil_mode "
                   "max pools (42 px: ceil and floor differ at every pool), expand Concat, "
                   "1x1 conv classifier + ReLU, adaptive pool, flatten"),
    "densenet": (lambda: densenet.DenseNet(growth_rate=4, block_config=(2, 2, 2, 2),
                                           num_init_features=8, bn_size=2,
                                           num_classes=CLASSES), 36,
                 "DenseNet (the full class): pre-activation BatchNormalization on "
                 "concatenations (not folded), dense Concat, transitions with 2x2/2 average "
                 "pools (9 -> 4 -> 2 -> 1 px) that torch exports behind a Pad of zeros"),
    "shufflenet_v2": (lambda: torchvision.models.ShuffleNetV2([2, 2, 2], [8, 16, 24, 32, 48],
                                                              num_classes=CLASSES), 36,
                      "ShuffleNetV2 (the full class): channel split (chunk, exported as two "
                      "Slices whose bounds come from Shape-Gather-Div), channel shuffle "
                      "(Reshape-Transpose-Reshape, the shapes built from the Shape of a "
                      "dynamic batch), two-branch downsampling, mean head (ReduceMean)"),
    "regnet_y": (lambda: regnet.RegNet(regnet_params, num_classes=CLASSES, stem_width=8), 36,
                 "RegNetY (the full class, BlockParams): grouped 3x3 bottlenecks with SE "
                 "(ReLU, sigmoid), projection shortcuts"),
    "convnext": (lambda: convnext.ConvNeXt([c_nb(8, 8, 1), c_nb(8, 16, 1), c_nb(16, 16, 2),
                                            c_nb(16, None, 1)], stochastic_depth_prob=0.1,
                                           num_classes=CLASSES), 32,
                 "ConvNeXt (the full class): 4x4/4 patchify stem, LayerNorm2d (permute, "
                 "LayerNorm, permute; LayerNormalization at opset 17, its ReduceMean/Pow/Sqrt "
                 "subgraph at 13), 7x7 depthwise, Linear-GELU(Erf)-Linear over NHWC, layer "
                 "scale Mul, 2x2/2 downsampling, LayerNorm2d + Flatten + Linear head"),
    "googlenet": (googlenet_small, 36,
                  "GoogLeNet (its class and Inception/BasicConv2d, 1/24 widths): ceil_mode "
                  "3x3/2 max pools, 4-branch Concat, 3x3/1 max pool branch, dropout, Linear"),
    "inception_v3": (inception_v3_small, 75,
                     "Inception v3 (the whole class, 1/32 widths): InceptionA-E, 1x7/7x1 and "
                     "1x3/3x1 convolutions, 3x3/1 average pools that count the padding "
                     "(torch exports them as an explicit zero Pad, then an unpadded "
                     "AveragePool), unpadded 3x3/2 convolutions and max pools, nested Concat "
                     "in InceptionE"),
    "vgg": (vgg_small, 28,
            "VGG (the class, make_layers): 3x3 convolutions with bias, 2x2/2 max pools, "
            "AdaptiveAvgPool2d((7, 7)) on a 7x7 map (an AveragePool 1x1), NCHW flatten of "
            "7x7x16 into Linear-ReLU-Linear-ReLU-Linear"),
    "alexnet": (alexnet_small, 47,
                "AlexNet (its class, 1/16 widths): 11x11/4 convolution with padding 2, "
                "5x5, overlapping 3x3/2 max pools, AdaptiveAvgPool2d((2, 2)), flatten of a "
                "2x2 map into a three-Linear classifier"),
}


def op_summary(path):
    """'Conv x12, Relu x9, ...' in first-use order, and the attributes worth naming."""
    m = onnx.load(path)
    counts, notes = {}, set()
    inits = {t.name: list(t.dims) for t in m.graph.initializer}
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in m.graph.node
              if n.op_type == "Constant" and n.attribute[0].name == "value"}
    for n in m.graph.node:
        counts[n.op_type] = counts.get(n.op_type, 0) + 1
        a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
        if n.op_type == "Conv":
            k = a.get("kernel_shape", [])
            w = inits.get(n.input[1], [0, 0])
            if a.get("group", 1) > 1:
                notes.add("depthwise Conv" if w[1] == 1 else "grouped Conv")
            if len(k) == 2 and k[0] != k[1]:
                notes.add(f"Conv {k[0]}x{k[1]}")
        elif n.op_type in ("MaxPool", "AveragePool") and a.get("ceil_mode"):
            notes.add(f"{n.op_type} ceil_mode")
        elif n.op_type == "AveragePool" and a.get("count_include_pad"):
            notes.add("AveragePool count_include_pad")
        if n.op_type == "AveragePool" and a.get("kernel_shape") == [1, 1]:
            notes.add("AveragePool 1x1 (an identity adaptive pool)")
        elif n.op_type == "Pad" and len(n.input) > 1 and n.input[1] in consts:
            zero = not consts[n.input[1]].any()
            notes.add("Pad of all-zero pads" if zero else "Pad before AveragePool")
    ops = ", ".join(f"{k} x{v}" for k, v in counts.items())
    return ops, sorted(notes), len(m.graph.node)


def build_family(name, out_root):
    builder, side, _ = FAMILIES[name]
    torch.manual_seed(0)
    model = randomize(builder(), seed=1)
    x = torch.randn(BATCH, 3, side, side, generator=torch.Generator().manual_seed(2))
    params = sum(p.numel() for p in model.parameters())
    for opset in OLD_OPSETS.get(name, ()) + OPSETS:
        out = os.path.join(out_root, f"{name}_op{opset}")
        write_case(model, x, opset, out)
        onnx.checker.check_model(os.path.join(out, "model.onnx"))
        size = os.path.getsize(os.path.join(out, "model.onnx"))
        print(f"{name}_op{opset:<2d}  {side}x{side}  {params:6d} params  "
              f"model.onnx {size / 1024:6.1f} KB"
              f"  folder {dir_size(out) / 1024:6.1f} KB", flush=True)


def dir_size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def write_fixtures_readme(out_root):
    lines = [
        "# ONNX fixtures: small torchvision models",
        "",
        "Written by `tests/onnx/make_fixtures.py` (do not edit; this file is regenerated from",
        "the fixtures on disk). Each `<family>_op<opset>/` is laid out as ONNX's own node tests:",
        "`model.onnx` (torch 1.13's `torch.onnx.export`, node names as torch gives them) and",
        "`test_data_set_0/input_0.pb`, `output_0.pb` (serialized TensorProtos: the NCHW float32",
        f"input of batch {BATCH}, and torch's logits, {CLASSES} classes).",
        "",
        "Every model is built from torchvision's own classes and blocks at reduced widths and",
        "depths, in eval mode, with seeded random weights, random batch-norm statistics,",
        "scales and shifts (running_mean ~ N(0, 0.2), running_var ~ U(0.5, 1.5)), random",
        "biases and, for ConvNeXt, layer scales ~ U(0.1, 1). torch's export folds a batch",
        "norm that follows a convolution into it; the others stay BatchNormalization nodes.",
        "Input `input` [N, 3, H, W], output `logits` [N, 10], N symbolic.",
        "",
        "Regenerate (Debian's python3-torch 1.13, python3-torchvision 0.14, python3-onnx 1.12;",
        "deterministic, so an unchanged toolchain rewrites the same bytes):",
        "",
        "```sh",
        "/usr/bin/python3 tests/onnx/make_fixtures.py               # all, and tests/onnx/hostile/",
        "/usr/bin/python3 tests/onnx/make_fixtures.py --only convnext",
        "```",
        "",
        "A check against ONNX Runtime: `bench/compare/onnx_torchvision.sh --fixtures "
        "tests/onnx/fixtures`.",
        "",
        "## Families",
        "",
    ]
    for name, (_, side, what) in FAMILIES.items():
        lines.append(f"### {name} ({side}x{side} px)")
        lines.append("")
        lines.append(what + ".")
        lines.append("")
        for opset in OLD_OPSETS.get(name, ()) + OPSETS:
            path = os.path.join(out_root, f"{name}_op{opset}", "model.onnx")
            if not os.path.exists(path):
                lines.append(f"- `{name}_op{opset}`: not generated")
                continue
            ops, notes, n_nodes = op_summary(path)
            size = os.path.getsize(path) / 1024
            lines.append(f"- `{name}_op{opset}` ({size:.0f} KB, {n_nodes} nodes): {ops}"
                         + (f"; {', '.join(notes)}" if notes else ""))
        lines.append("")
    lines += ["`handmade_sum_prelu_op13/` and `handmade_normalize_op13/` are not torch "
              "exports: `build_handmade()`",
              "writes them with `onnx.helper` and computes their logits with numpy: ops older "
              "exporters write",
              "(PRelu with one slope, Sum of three, MatMul + Add) and preprocessing inside the "
              "graph (constants",
              "subtracted, divided, multiplied and added per channel, c - x), as Keras's "
              "Rescaling and",
              "Normalization layers export (`--only handmade` rewrites them).", ""]
    with open(os.path.join(out_root, "README.md"), "w") as f:
        f.write("\n".join(lines))


# ---- hostile files: what the importer must refuse with a clear error, or (external
# data) read correctly ----


def tiny_torch_model():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
    return randomize(m, seed=1)


def helper_model(nodes, inputs, outputs, inits=(), opset=13, ir=7, check=True):
    g = helper.make_graph(nodes, "hostile", list(inputs), list(outputs), list(inits))
    m = helper.make_model(g, producer_name="clnet make_fixtures.py",
                          opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = ir
    if check:
        onnx.checker.check_model(m)
    return m


def save(model, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())


def float_input(name="input", shape=("N", 3, 4, 4)):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def build_handmade(root):
    """Ops torch does not write but older exporters do (Sum, PRelu with one slope), in a
    graph made with onnx.helper; the expected logits computed here with numpy."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32) * 0.3
    fc = rng.standard_normal((4, 5)).astype(np.float32)
    bias = rng.standard_normal((5,)).astype(np.float32)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    a = np.zeros((2, 4, 6, 6), np.float32)
    for y in range(6):
        for z in range(6):
            a[:, :, y, z] = np.einsum("nchw,ochw->no", padded[:, :, y:y + 3, z:z + 3], w)
    b = np.where(a > 0, a, 0.2 * a)
    d = a + b + np.maximum(a, 0)
    logits = d.mean(axis=(2, 3)) @ fc + bias
    nodes = [
        helper.make_node("Conv", ["input", "w"], ["a"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("PRelu", ["a", "slope"], ["b"], name="prelu"),
        helper.make_node("Relu", ["a"], ["c"], name="relu"),
        helper.make_node("Sum", ["a", "b", "c"], ["d"], name="sum"),
        helper.make_node("GlobalAveragePool", ["d"], ["e"], name="pool"),
        helper.make_node("Flatten", ["e"], ["f"], name="flatten"),
        helper.make_node("MatMul", ["f", "fc"], ["g"], name="matmul"),
        helper.make_node("Add", ["g", "bias"], ["logits"], name="bias_add"),
    ]
    inits = [numpy_helper.from_array(w, "w"),
             numpy_helper.from_array(np.array([0.2], np.float32).reshape(1, 1, 1), "slope"),
             numpy_helper.from_array(fc, "fc"), numpy_helper.from_array(bias, "bias")]
    model = helper_model(nodes, [float_input(shape=("N", 3, 6, 6))],
                         [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 5])],
                         inits)
    out = os.path.join(root, "handmade_sum_prelu_op13")
    save(model, out)
    os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
    tensor_file(os.path.join(out, "test_data_set_0", "input_0.pb"), x, "input")
    tensor_file(os.path.join(out, "test_data_set_0", "output_0.pb"), logits, "logits")
    print(f"handmade_sum_prelu_op13  {os.path.getsize(os.path.join(out, 'model.onnx'))} bytes")

    # Preprocessing inside the graph, as Keras's Rescaling / Normalization layers export:
    # constants subtracted, divided, multiplied and added per channel, and c - x.
    mean = rng.standard_normal((1, 3, 1, 1)).astype(np.float32)
    std = rng.uniform(0.5, 2.0, (1, 3, 1, 1)).astype(np.float32)
    shift = rng.standard_normal((3, 1, 1)).astype(np.float32)
    w1 = rng.standard_normal((4, 3, 1, 1)).astype(np.float32)
    fc2 = rng.standard_normal((5, 4)).astype(np.float32)
    t = 1.5 - (((x - mean) / std) * np.float32(2.0) + shift)
    conv = np.einsum("nchw,oc->nohw", t, w1[:, :, 0, 0])
    logits = conv.mean(axis=(2, 3)) @ fc2.T
    nodes = [
        helper.make_node("Sub", ["input", "mean"], ["a"], name="sub_mean"),
        helper.make_node("Div", ["a", "std"], ["b"], name="div_std"),
        helper.make_node("Mul", ["b", "two"], ["c"], name="mul_two"),
        helper.make_node("Add", ["c", "shift"], ["d"], name="add_shift"),
        helper.make_node("Sub", ["one_half", "d"], ["e"], name="reflect"),
        helper.make_node("Conv", ["e", "w1"], ["f"], name="conv"),
        helper.make_node("GlobalAveragePool", ["f"], ["g"], name="pool"),
        helper.make_node("Flatten", ["g"], ["h"], name="flatten"),
        helper.make_node("Gemm", ["h", "fc2"], ["logits"], name="fc", transB=1),
    ]
    inits = [numpy_helper.from_array(mean, "mean"), numpy_helper.from_array(std, "std"),
             numpy_helper.from_array(np.array(2.0, np.float32), "two"),
             numpy_helper.from_array(shift, "shift"),
             numpy_helper.from_array(np.array([1.5], np.float32), "one_half"),
             numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(fc2, "fc2")]
    model = helper_model(nodes, [float_input(shape=("N", 3, 6, 6))],
                         [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 5])],
                         inits)
    out = os.path.join(root, "handmade_normalize_op13")
    save(model, out)
    os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
    tensor_file(os.path.join(out, "test_data_set_0", "input_0.pb"), x, "input")
    tensor_file(os.path.join(out, "test_data_set_0", "output_0.pb"), logits, "logits")
    print(f"handmade_normalize_op13  {os.path.getsize(os.path.join(out, 'model.onnx'))} bytes")


def build_dynamic(root):
    """Models whose height and width are symbolic too (dynamic_axes on N, H and W): torch
    then writes ShuffleNet's channel shuffle and the reshapes around it as Shape, Gather,
    Unsqueeze and Concat chains over the input's runtime shape, which clnet folds once the
    size is given (--input). Test data at 36 x 36 and at 52 x 44."""
    dyn = {"input": {0: "N", 2: "H", 3: "W"}, "logits": {0: "N"}}
    for name in ("shufflenet_v2", "resnet"):
        builder, side, _ = FAMILIES[name]
        torch.manual_seed(0)
        model = randomize(builder(), seed=1)
        out = os.path.join(root, f"{name}_op13")
        x = torch.randn(BATCH, 3, side, side, generator=torch.Generator().manual_seed(2))
        write_case(model, x, 13, out, dyn)
        x2 = torch.randn(BATCH, 3, 52, 44, generator=torch.Generator().manual_seed(3))
        with torch.no_grad():
            y2 = model(x2)
        os.makedirs(os.path.join(out, "test_data_set_1"), exist_ok=True)
        tensor_file(os.path.join(out, "test_data_set_1", "input_0.pb"), x2.numpy(), "input")
        tensor_file(os.path.join(out, "test_data_set_1", "output_0.pb"), y2.numpy(), "logits")
        print(f"dynamic/{name}_op13  {os.path.getsize(os.path.join(out, 'model.onnx'))} bytes")


def build_hostile(root):
    if os.path.isdir(root):
        for entry in os.listdir(root):
            if os.path.isdir(os.path.join(root, entry)):
                shutil.rmtree(os.path.join(root, entry))
    rng = np.random.default_rng(3)
    logits = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2])
    w = numpy_helper.from_array(rng.standard_normal((2, 3, 1, 1)).astype(np.float32), "conv.weight")

    # A good model, then its bytes cut in half.
    tiny = tiny_torch_model()
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    write_case(tiny, x, 13, os.path.join(root, "external_data"))
    path = os.path.join(root, "external_data", "model.onnx")
    data = open(path, "rb").read()
    os.makedirs(os.path.join(root, "truncated"))
    with open(os.path.join(root, "truncated", "model.onnx"), "wb") as f:
        f.write(data[: len(data) // 2])

    # The same model with every initializer in weights.bin beside it (a good file).
    m = onnx.load(path)
    os.remove(path)
    onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    onnx.checker.check_model(path)

    # Its twin whose external data names a file outside its directory.
    m = onnx.load(path, load_external_data=False)
    for t in m.graph.initializer:
        for e in t.external_data:
            if e.key == "location":
                e.value = "../../etc/passwd"
    save(m, os.path.join(root, "external_escape"))

    # Ops no importer of a classifier runs: every one must be listed, not only the first.
    boxes = numpy_helper.from_array(rng.random((1, 4, 4)).astype(np.float32), "boxes")
    scores = numpy_helper.from_array(rng.random((1, 1, 4)).astype(np.float32), "scores")
    gemm_w = numpy_helper.from_array(rng.standard_normal((2, 3)).astype(np.float32), "fc.weight")
    nodes = [helper.make_node("Einsum", ["input"], ["pooled"], name="einsum_sum_hw",
                              equation="nchw->nc"),
             helper.make_node("Gemm", ["pooled", "fc.weight"], ["logits"], name="fc", transB=1),
             helper.make_node("NonMaxSuppression", ["boxes", "scores"], ["selected"], name="nms"),
             helper.make_node("Unique", ["pooled"], ["unique"], name="unique_values")]
    outs = [logits, helper.make_tensor_value_info("selected", TensorProto.INT64, [None, 3]),
            helper.make_tensor_value_info("unique", TensorProto.FLOAT, [None])]
    save(helper_model(nodes, [float_input()], outs, [boxes, scores, gemm_w]),
         os.path.join(root, "unsupported_ops"))

    # A node input that no node, initializer or graph input produces.
    nodes = [helper.make_node("Conv", ["input", "conv.weight"], ["y"], name="conv"),
             helper.make_node("GlobalAveragePool", ["y"], ["p"], name="pool"),
             helper.make_node("Flatten", ["p"], ["logits"], name="flatten")]
    save(helper_model(nodes, [float_input()], [logits], [], check=False),
         os.path.join(root, "missing_initializer"))

    # Two nodes feeding each other.
    nodes = [helper.make_node("Add", ["input", "b"], ["a"], name="add_a"),
             helper.make_node("Relu", ["a"], ["b"], name="relu_b"),
             helper.make_node("Conv", ["a", "conv.weight"], ["y"], name="conv"),
             helper.make_node("GlobalAveragePool", ["y"], ["p"], name="pool"),
             helper.make_node("Flatten", ["p"], ["logits"], name="flatten")]
    save(helper_model(nodes, [float_input()], [logits], [w], check=False),
         os.path.join(root, "cycle"))

    # An initializer that declares 2^40 floats (4 TiB) and holds 4 bytes.
    big = TensorProto(name="scale", data_type=TensorProto.FLOAT, dims=[1 << 40],
                      raw_data=np.float32(1.5).tobytes())
    nodes = [helper.make_node("Conv", ["input", "conv.weight"], ["y"], name="conv"),
             helper.make_node("Mul", ["y", "scale"], ["z"], name="mul_huge"),
             helper.make_node("GlobalAveragePool", ["z"], ["p"], name="pool"),
             helper.make_node("Flatten", ["p"], ["logits"], name="flatten")]
    save(helper_model(nodes, [float_input()], [logits], [w, big], check=False),
         os.path.join(root, "huge_dim"))

    # A string input.
    nodes = [helper.make_node("Cast", ["input"], ["xf"], name="cast", to=TensorProto.FLOAT),
             helper.make_node("Conv", ["xf", "conv.weight"], ["y"], name="conv"),
             helper.make_node("GlobalAveragePool", ["y"], ["p"], name="pool"),
             helper.make_node("Flatten", ["p"], ["logits"], name="flatten")]
    s_in = helper.make_tensor_value_info("input", TensorProto.STRING, ["N", 3, 4, 4])
    save(helper_model(nodes, [s_in], [logits], [w]), os.path.join(root, "string_input"))

    # A plain convolution model from the future: IR version 9, opset 18.
    nodes = [helper.make_node("Conv", ["input", "conv.weight"], ["y"], name="conv"),
             helper.make_node("GlobalAveragePool", ["y"], ["p"], name="pool"),
             helper.make_node("Flatten", ["p"], ["logits"], name="flatten")]
    save(helper_model(nodes, [float_input()], [logits], [w], opset=18, ir=9, check=False),
         os.path.join(root, "ir9_opset18"))

    for case in sorted(os.listdir(root)):
        if os.path.isdir(os.path.join(root, case)):
            print(f"hostile/{case:20s} {dir_size(os.path.join(root, case)):6d} bytes", flush=True)


def main():
    p = argparse.ArgumentParser(description="clnet's ONNX test fixtures (torch 1.13 export)")
    p.add_argument("--only", help="one family (e.g. resnet, convnext) or 'hostile'")
    a = p.parse_args()
    if a.only and a.only not in ("hostile", "handmade", "dynamic") and a.only not in FAMILIES:
        p.error(f"unknown family {a.only} (known: {', '.join(FAMILIES)}, hostile)")
    torch.set_num_threads(2)
    fixtures = os.path.join(HERE, "fixtures")
    for name in FAMILIES:
        if a.only in (None, name):
            build_family(name, fixtures)
    if a.only in (None, "handmade"):
        build_handmade(fixtures)
    if a.only in (None, "dynamic"):
        build_dynamic(os.path.join(HERE, "dynamic"))
    if a.only not in ("hostile", "handmade", "dynamic"):
        write_fixtures_readme(fixtures)
        print(f"fixtures/: {dir_size(fixtures) / 1024:.0f} KB in all", flush=True)
    if a.only in (None, "hostile"):
        build_hostile(os.path.join(HERE, "hostile"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
