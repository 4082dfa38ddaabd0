"""The structure of the musicnn and VGG graphs, and their weights as torch state dicts.

Read from each checkpoint's own inference graph (kernels, paddings, poolings,
batch-norm epsilons, dropout rates, which tensor feeds which op) by
:mod:`skmir.pretrained.convert_musicnn`.
"""

import re

import numpy as np

from skmir.pretrained.tf_checkpoint import ConversionError, Graph, read_index, read_tensor


def _pairs(values):
    return [int(v) for v in values]


def _batchnorm(g, text):
    """(input, {torch key: TF variable}, epsilon) of an inference batch norm."""
    node = g.op(text, "FusedBatchNorm", "FusedBatchNormV3", "Add")
    if node["op"] != "Add":
        if g.attr(node, "is_training", True):
            raise ConversionError(f"{node['name']} is the training batch norm")
        if g.attr(node, "data_format", b"NHWC") != b"NHWC":
            raise ConversionError(f"{node['name']}: data_format is not NHWC")
        x, scale, offset, mean, var = node["inputs"][:5]
        return x, {"weight": g.variable(scale), "bias": g.variable(offset),
                   "running_mean": g.variable(mean), "running_var": g.variable(var)}, \
            g.attr(node, "epsilon")
    # tf.layers.batch_normalization without fusing (2-D inputs):
    # x * (gamma * rsqrt(var + eps)) + (beta - mean * gamma * rsqrt(var + eps))
    mul_1 = g.op(node["inputs"][0], "Mul")
    sub = g.op(node["inputs"][1], "Sub")
    x, scale_ref = mul_1["inputs"]
    scale = g.op(scale_ref, "Mul")
    rsqrt = g.op(scale["inputs"][0], "Rsqrt")
    add = g.op(rsqrt["inputs"][0], "Add")
    mul_2 = g.op(sub["inputs"][1], "Mul")
    if not g.same(mul_2["inputs"][1], scale_ref):
        raise ConversionError(f"{node['name']}: not a batch norm")
    eps = g.const(add["inputs"][1])
    return x, {"weight": g.variable(scale["inputs"][1]), "bias": g.variable(sub["inputs"][0]),
               "running_mean": g.variable(mul_2["inputs"][0]),
               "running_var": g.variable(add["inputs"][0])}, float(eps)


def _conv_unit(g, text):
    """conv -> bias -> ReLU -> batch norm ending at ``text``, with its input padding."""
    x, bn, eps = _batchnorm(g, text)
    relu = g.op(x, "Relu")
    bias_add = g.op(relu["inputs"][0], "BiasAdd")
    conv = g.op(bias_add["inputs"][0], "Conv2D")
    if _pairs(g.attr(conv, "strides")["i"]) != [1, 1, 1, 1]:
        raise ConversionError(f"{conv['name']}: strides are not 1")
    dilations = g.attr(conv, "dilations")
    if dilations is not None and _pairs(dilations["i"]) != [1, 1, 1, 1]:
        raise ConversionError(f"{conv['name']}: dilated convolution")
    if g.attr(conv, "data_format", b"NHWC") != b"NHWC":
        raise ConversionError(f"{conv['name']}: data_format is not NHWC")
    kernel = g.variable(conv["inputs"][1])
    source = conv["inputs"][0]
    pads = np.zeros((4, 2), int)
    node, _ = g.resolve(source)
    if node["op"] == "Pad":
        pads = g.const(node["inputs"][1]).astype(int)
        source = node["inputs"][0]
    kshape = g.attr(g.node(kernel), "shape")
    padding = g.attr(conv, "padding").decode()
    if padding == "SAME":
        for axis, k in ((1, kshape[0]), (2, kshape[1])):
            pads[axis] += (k - 1) // 2, k // 2
    elif padding != "VALID":
        raise ConversionError(f"{conv['name']}: padding {padding}")
    if pads[0].any() or pads[3].any():
        raise ConversionError(f"{conv['name']}: pads the batch or channel axis")
    return {"kernel": kernel, "bias": g.variable(bias_add["inputs"][1]), "bn": bn, "eps": eps,
            "kshape": kshape, "pads": pads[1:3].tolist(), "input": source,
            "padding": padding, "name": conv["name"]}


def _input_bn(g, text):
    """The batch norm of the input placeholder (batch, frames, mels)."""
    x, bn, eps = _batchnorm(g, text)
    expand = g.op(x, "ExpandDims")
    if int(g.const(expand["inputs"][1])) not in (3, -1):
        raise ConversionError(f"{expand['name']}: does not add a channel axis")
    placeholder = g.op(expand["inputs"][0], "Placeholder")
    shape = g.attr(placeholder, "shape")
    if shape is None or len(shape) != 3:
        raise ConversionError(f"the input {placeholder['name']} has shape {shape}")
    return placeholder, shape[1], shape[2], bn, eps


def _dense(g, text):
    bias_add = g.op(text, "BiasAdd")
    matmul = g.op(bias_add["inputs"][0], "MatMul")
    if g.attr(matmul, "transpose_a") or g.attr(matmul, "transpose_b"):
        raise ConversionError(f"{matmul['name']}: transposed MatMul")
    return matmul["inputs"][0], g.variable(matmul["inputs"][1]), \
        g.variable(bias_add["inputs"][1])


def _output(g):
    sigmoids = [n for n in g.nodes.values() if n["op"] == "Sigmoid"]
    if len(sigmoids) != 1:
        raise ConversionError(f"expected one Sigmoid output, found {len(sigmoids)}")
    return sigmoids[0]


def _one_eps(eps_values):
    values = {float(np.float32(e)) for e in eps_values}
    if len(values) != 1:
        raise ConversionError(f"batch norms use different epsilons: {sorted(values)}")
    return float(str(np.float32(values.pop())))


def _one_rate(what, rates):
    if not rates:
        return 0.0
    if len(set(rates)) != 1:
        raise ConversionError(f"{what}: different dropout rates {rates}")
    return rates[0]


def musicnn_structure(g):
    """Read a musicnn graph: the :class:`Musicnn` kwargs and {torch key: (TF name, how)}.

    ``how`` is how the TF array becomes the torch one: "copy", "dense" (transpose),
    "conv2d" (HWIO -> OIHW) or "conv1d" (a conv spanning all channels -> (O, I, k)).
    """
    mapping, eps = {}, []
    sigmoid = _output(g)

    def add_bn(prefix, bn, e):
        eps.append(e)
        mapping.update({f"{prefix}.{k}": (v, "copy") for k, v in bn.items()})

    x, w, b = _dense(g, sigmoid["inputs"][0])
    mapping.update({"output.weight": (w, "dense"), "output.bias": (b, "copy")})
    x, rate_out = g.dropout(x)
    x, bn, e = _batchnorm(g, x)
    add_bn("dense_bn", bn, e)
    x, w, b = _dense(g, g.op(x, "Relu")["inputs"][0])
    mapping.update({"dense.weight": (w, "dense"), "dense.bias": (b, "copy")})
    backend_units = g.attr(g.node(w), "shape")[1]
    x, rate_pool = g.dropout(x)
    x, bn, e = _batchnorm(g, x)
    add_bn("pool_bn", bn, e)
    reshape = g.op(x, "Reshape")
    concat = g.op(reshape["inputs"][0], "ConcatV2")
    if len(concat["inputs"]) != 3 or g.shape(reshape["inputs"][0])[-1] != 2 or \
            int(g.const(concat["inputs"][2])) not in (2, -1):
        raise ConversionError(f"{concat['name']}: the pooled maps are not interleaved "
                              "(channels, [max, mean]) as Musicnn flattens them")
    max_op = g.op(concat["inputs"][0], "Max")
    mean_op = g.op(g.op(concat["inputs"][1], "Squeeze")["inputs"][0], "Mean")
    for op in (max_op, mean_op):
        if _pairs(g.const(op["inputs"][1]).ravel()) != [1]:
            raise ConversionError(f"{op['name']}: does not pool over time (axis 1)")
    if not g.same(max_op["inputs"][0], mean_op["inputs"][0]):
        raise ConversionError("max and mean pool different maps")
    maps = g.op(max_op["inputs"][0], "ConcatV2")
    if int(g.const(maps["inputs"][-1])) != 2:
        raise ConversionError(f"{maps['name']}: does not concatenate channels (axis 2)")
    parts = maps["inputs"][:-1]

    # mid end: parts[0] is the front end, then one map per layer, residual after the first
    front = g.op(parts[0], "ExpandDims")
    midend, previous = [], parts[0]
    for i, part in enumerate(parts[1:]):
        node = g.op(part, "Transpose", "Add")
        if (node["op"] == "Add") != (i > 0):
            raise ConversionError(f"{node['name']}: Musicnn has a residual connection on "
                                  "every mid-end layer but the first")
        if node["op"] == "Add":
            if not g.same(node["inputs"][1], previous):
                raise ConversionError(f"{node['name']}: the residual is not the previous layer")
            node = g.op(node["inputs"][0], "Transpose")
        if _pairs(g.const(node["inputs"][1])) != [0, 1, 3, 2]:
            raise ConversionError(f"{node['name']}: unexpected permutation")
        unit = _conv_unit(g, node["inputs"][0])
        if not g.same(unit["input"], previous if i else parts[0]):
            raise ConversionError(f"{unit['name']}: does not read the previous layer")
        kt, width, one, filters = unit["kshape"]
        if one != 1 or width != g.shape(unit["input"])[2] or unit["pads"][1] != [0, 0] \
                or unit["padding"] != "VALID" or unit["pads"][0] != [(kt - 1) // 2, kt // 2]:
            raise ConversionError(f"{unit['name']}: not a 'same' 1-D convolution over time")
        midend.append((kt, filters))
        mapping[f"midend.{i}.conv.weight"] = (unit["kernel"], "conv1d")
        mapping[f"midend.{i}.conv.bias"] = (unit["bias"], "copy")
        add_bn(f"midend.{i}.bn", unit["bn"], unit["eps"])
        previous = part
    if len(set(midend)) != 1:
        raise ConversionError(f"mid-end layers differ: {midend}")

    # front end: timbral branches (wider than one mel bin), then temporal ones
    if int(g.const(front["inputs"][1])) != 3:
        raise ConversionError(f"{front['name']}: unexpected axis")
    branches = g.op(front["inputs"][0], "ConcatV2")
    if int(g.const(branches["inputs"][-1])) != 2:
        raise ConversionError(f"{branches['name']}: does not concatenate channels")
    timbral, temporal, input_bn = [], [], None
    for part in branches["inputs"][:-1]:
        squeeze = g.op(part, "Squeeze")
        pool = g.op(squeeze["inputs"][0], "MaxPool")
        unit = _conv_unit(g, pool["inputs"][0])
        kt, kf, one, filters = unit["kshape"]
        width = g.shape(pool["inputs"][0])[2]
        if _pairs(g.attr(pool, "ksize")["i"]) != [1, 1, width, 1] or \
                _pairs(g.attr(pool, "strides")["i"]) != [1, 1, width, 1] or \
                g.attr(pool, "padding") != b"VALID":
            raise ConversionError(f"{pool['name']}: does not take the maximum over all mel bins")
        if one != 1 or unit["pads"] != [[(kt - 1) // 2, kt // 2], [0, 0]]:
            raise ConversionError(f"{unit['name']}: not 'same' in time and 'valid' in mel "
                                  f"(pads {unit['pads']})")
        if input_bn is None:
            input_bn = _input_bn(g, unit["input"])
            input_ref = unit["input"]
        elif not g.same(unit["input"], input_ref):
            raise ConversionError(f"{unit['name']}: does not read the normalised input "
                                  "(an input pooling Musicnn does not have)")
        if kf > 1:
            if temporal:
                raise ConversionError("a timbral branch after a temporal one")
            kind, i = "timbral", len(timbral)
            timbral.append(((kt, kf), filters))
        else:
            kind, i = "temporal", len(temporal)
            temporal.append((kt, filters))
        mapping[f"{kind}.{i}.conv.weight"] = (unit["kernel"], "conv2d")
        mapping[f"{kind}.{i}.conv.bias"] = (unit["bias"], "copy")
        add_bn(f"{kind}.{i}.bn", unit["bn"], unit["eps"])
    if len({f for _, f in timbral}) != 1 or len({f for _, f in temporal}) != 1:
        raise ConversionError("branches of one kind have different numbers of filters")
    _, n_frames, n_mels, bn, e = input_bn
    add_bn("input_bn", bn, e)
    kwargs = {
        "n_mels": n_mels,
        "n_tags": g.attr(g.node(mapping["output.weight"][0]), "shape")[1],
        "timbral_kernels": [list(k) for k, _ in timbral],
        "timbral_filters": timbral[0][1],
        "temporal_kernels": [k for k, _ in temporal],
        "temporal_filters": temporal[0][1],
        "midend_filters": midend[0][1],
        "midend_kernel": midend[0][0],
        "midend_layers": len(midend),
        "backend_units": backend_units,
        "dropout": _one_rate("back end", [rate_pool, rate_out]),
        "eps": _one_eps(eps),
    }
    return kwargs, n_frames, mapping


def vgg_structure(g):
    """Read a VGG graph: the :class:`VGG` kwargs and {torch key: (TF name, how)}."""
    mapping, eps, blocks, rates = {}, [], [], []
    sigmoid = _output(g)
    x, w, b = _dense(g, sigmoid["inputs"][0])
    mapping.update({"output.weight": (w, "dense"), "output.bias": (b, "copy")})
    x, dense_rate = g.dropout(x)
    reshape = g.op(x, "Reshape")
    x = reshape["inputs"][0]
    while True:
        pool = g.op(x, "MaxPool")
        if g.attr(pool, "padding") != b"VALID":
            raise ConversionError(f"{pool['name']}: padded pooling")
        ksize, strides = (_pairs(g.attr(pool, k)["i"]) for k in ("ksize", "strides"))
        if ksize[0] != 1 or ksize[3] != 1 or strides[0] != 1 or strides[3] != 1:
            raise ConversionError(f"{pool['name']}: pools the batch or channel axis")
        unit = _conv_unit(g, pool["inputs"][0])
        kt, kf, _, filters = unit["kshape"]
        if unit["padding"] != "SAME" or unit["pads"] != [[(kt - 1) // 2, kt // 2],
                                                        [(kf - 1) // 2, kf // 2]]:
            raise ConversionError(f"{unit['name']}: not a 'same' convolution")
        blocks.append({"unit": unit, "pool": (ksize[1:3], strides[1:3])})
        x, rate = g.dropout(unit["input"])
        node, _ = g.resolve(x)
        if node["op"] != "MaxPool":
            if rate:
                raise ConversionError("dropout on the input")
            break
        rates.append(rate)
    blocks.reverse()
    placeholder, n_frames, n_mels, bn, e = _input_bn(g, x)
    eps.append(e)
    mapping.update({f"input_bn.{k}": (v, "copy") for k, v in bn.items()})
    kernels = {tuple(bl["unit"]["kshape"][:2]) for bl in blocks}
    widths = {bl["unit"]["kshape"][3] for bl in blocks}
    if len(kernels) != 1 or len(widths) != 1:
        raise ConversionError(f"blocks differ: kernels {kernels}, filters {widths}")
    for i, bl in enumerate(blocks):
        unit = bl["unit"]
        mapping[f"convs.{i}.weight"] = (unit["kernel"], "conv2d")
        mapping[f"convs.{i}.bias"] = (unit["bias"], "copy")
        mapping.update({f"bns.{i}.{k}": (v, "copy") for k, v in unit["bn"].items()})
        eps.append(unit["eps"])
    kwargs = {
        "n_frames": n_frames,
        "n_mels": n_mels,
        "n_tags": g.attr(g.node(w), "shape")[1],
        "filters": widths.pop(),
        "kernel_size": list(kernels.pop()),
        "pool_sizes": [bl["pool"][0] for bl in blocks],
        "pool_strides": [bl["pool"][1] for bl in blocks],
        "conv_dropout": _one_rate("blocks", rates),
        "dense_dropout": dense_rate,
        "eps": _one_eps(eps),
    }
    return kwargs, n_frames, mapping


def _to_torch(array, how):
    if how == "dense":
        return array.T
    if how == "conv2d":
        return array.transpose(3, 2, 0, 1)
    if how == "conv1d":
        return array[:, :, 0, :].transpose(2, 1, 0)
    return array


def convert_checkpoint(files, architecture):
    """Read one checkpoint: (network kwargs, n_frames, torch state dict, TF version).

    Parameters
    ----------
    files : dict of str to bytes
        ``.index``, ``.data-00000-of-00001`` and ``.meta`` contents.
    architecture : {"musicnn", "vgg"}
    """
    header, entries = read_index(files[".index"])
    if header["num_shards"] != 1 or header["endianness"] != 0:
        raise ConversionError(f"expected one little-endian shard, got {header}")
    g = Graph(files[".meta"])
    structure = musicnn_structure if architecture == "musicnn" else vgg_structure
    kwargs, n_frames, mapping = structure(g)
    used = {name for name, _ in mapping.values()}
    optimiser = re.compile(r"(.*/Adam(_1)?|beta[12]_power)$")
    unused = sorted(n for n in entries if n not in used and not optimiser.match(n))
    if unused:
        raise ConversionError(f"variables the inference graph does not use: {unused}")
    missing = sorted(used - set(entries))
    if missing:
        raise ConversionError(f"the checkpoint lacks {missing}")
    data = files[".data-00000-of-00001"]
    state = {}
    for key, (name, how) in mapping.items():
        array = read_tensor(entries[name], data, name)
        declared = g.attr(g.node(name), "shape")
        if list(array.shape) != list(declared):
            raise ConversionError(f"{name}: shape {array.shape} in the checkpoint, "
                                  f"{declared} in the graph")
        state[key] = np.ascontiguousarray(_to_torch(array, how))
    return kwargs, n_frames, state, g.tf_version
