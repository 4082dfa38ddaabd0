"""The architecture language (parse, per-layer parameters) and the torch builder."""

import subprocess
import sys

import pytest

from skmir.nn.architecture import PRESETS, expand, layout, parse_architecture

# ---------------------------------------------------------------- the grammar


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_the_strings_of_fig13(name):
    assert parse_architecture(name) == tuple(PRESETS[name].split("-"))


def test_fig13_strings():
    assert PRESETS == {
        "conv1d": "c1-p1-c1-p1-d1-d1-d1",
        "conv2d": "c2-p2-c2-p2-c2-p2-d2",
        "crnn": "c2-p2-c2-p2-r1-r2-d1",
        "dnn": "d2-d2-d2-d1",
        "birnn": "r1-r1-d1",
        "conv2d_tv": "c2-c2-p1-c2-c2-p1-c2-p1-d1-d1-d1",
        "keycnn": "c2-c2-p1-c2-c2-p1-c2-k1",  # not fig. 13: after Korzeniowski & Widmer
    }


def test_case_and_whitespace_are_forgiven():
    assert expand(" CRNN ") == PRESETS["crnn"]
    assert parse_architecture("C2-P2-D1") == ("c2", "p2", "d1")


@pytest.mark.parametrize(
    "string, match",
    [
        ("c2-p3-d1", r"token 'p3' at position 2 is not a layer.*Allowed: the tokens d1, d2"),
        ("c2--d1", r"token '' at position 2 is empty"),
        ("c2-p2-", r"position 3 is empty"),
        ("", r"the string is empty"),
        ("convnet", r"token 'convnet' at position 1 is not a layer.*preset name: conv1d"),
        ("c2-r1-c2", r"token 'c2' at position 3 comes after the recurrent layer 'r1' at "
                     r"position 2"),
        ("c2-r1-p1-d1", r"'p1' at position 3 comes after the recurrent layer"),
        ("d1-c1", r"'c1' at position 2 comes after the dense layer 'd1' at position 1"),
        ("c2-r2-r1", r"'r1' at position 3 comes after 'r2' at position 2.*only d1"),
        ("r2-d2", r"'d2' at position 2 comes after 'r2'"),
        ("c1-c2", r"'c2' at position 2 comes after 'c1' at position 1.*use c1 and p1"),
        ("c1-p2", r"'p2' at position 2 comes after 'c1'"),
    ],
)
def test_bad_strings_name_the_token_position_and_what_is_allowed(string, match):
    with pytest.raises(ValueError, match=match) as err:
        parse_architecture(string)
    assert str(err.value).startswith(f"parse_architecture: architecture = {string!r}: ")


def test_non_string_architecture():
    with pytest.raises(ValueError, match="must be a string"):
        parse_architecture(3)


def test_frame_level_refuses_r2():
    with pytest.raises(ValueError, match="frame-level network must keep one output per frame"):
        parse_architecture("crnn", output="frame")
    assert parse_architecture("birnn", output="frame") == ("r1", "r1", "d1")


# ------------------------------------------------------- per-layer parameters


def test_last_dense_token_is_the_output_layer():
    layers = layout("c1-p1-c1-p1-d1-d1-d1", hidden=(32, 16), channels=8)
    assert [layer.output for layer in layers] == [False] * 6 + [True]
    assert [layer.params.get("hidden") for layer in layers] == [None] * 4 + [32, 16, None]


def test_output_layer_is_appended_when_the_string_does_not_end_dense():
    layers = layout("c2-p2")
    assert layers[-1].token == "out" and layers[-1].output


def test_scalar_and_per_layer_values():
    layers = layout("c2-p2-c2-p2-r1-r2-d1", channels=(8, 16), kernel_size=[(3, 7), 5],
                    pool=[(2, 4), 3], hidden=32, cell="lstm", bidirectional=(True, False))
    c1, p1, c2, p2, r1, r2, _ = layers
    assert (c1.params["channels"], c2.params["channels"]) == (8, 16)
    assert (c1.params["kernel_size"], c2.params["kernel_size"]) == ((3, 7), (5, 5))
    assert (p1.params["pool"], p2.params["pool"]) == ((2, 4), (3, 3))
    assert r1.params == {"hidden": 32, "cell": "lstm", "bidirectional": True}
    assert r2.params["bidirectional"] is False


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(channels=(8, 16, 32)),
         r"channels=\(8, 16, 32\) has 3 values but architecture 'c2-p2-c2-p2-r1-r2-d1' "
         r"has 2 layers that take channels \(c2 at position 1, c2 at position 3\)"),
        (dict(hidden=[64]), r"hidden=\[64\] has 1 value but .* 2 layers that take hidden "
                            r"\(r1 at position 5, r2 at position 6\)"),
        (dict(dropout=(0.1,) * 5), r"dropout=.* has 5 values but .* has 4 layers"),
        (dict(channels=0), r"channels=0 is not valid for a c2 layer: expected an int >= 1"),
        (dict(kernel_size=(3, 0)), r"kernel_size=0 is not valid for a c2 layer"),
        (dict(activation="gelu"), r"activation='gelu' is not valid.*relu"),
        (dict(cell="rnn"), r"cell='rnn' is not valid for a r1 layer: expected one of"),
        (dict(dropout=1.0), r"dropout=1.0 is not valid.*\[0, 1\)"),
        (dict(pool=2.5), r"pool=2.5 is not valid for a p2 layer"),
    ],
)
def test_bad_layer_parameters_say_what_was_expected(params, match):
    with pytest.raises(ValueError, match=match):
        layout("crnn", **params)


def test_pair_refused_on_one_axis_layers():
    with pytest.raises(ValueError, match=r"pool=\(2, 2\) is not valid for a p1 layer.*one axis"):
        layout("c1-p1-d1", pool=[(2, 2)])


def test_parsing_imports_no_torch():
    code = ("import sys, skmir.nn.architecture as a; a.layout('crnn', channels=8);"
            "import skmir.augmentation; assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------ the builder

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", ["conv1d", "conv2d", "crnn", "dnn", "birnn", "conv2d_tv",
                                  "c2-p2", "r1-r2", "d1", "c2-p2-d2-d1"])
@pytest.mark.parametrize("n_frames", [1, 3, 40])
def test_clip_networks_end_in_one_vector_whatever_the_length(name, n_frames):
    from skmir.nn import build_network

    net = build_network(name, (16, 40), n_outputs=5, channels=4, hidden=8).eval()
    assert net(torch.zeros(2, 16, n_frames)).shape == (2, 5)


def test_sizes_are_inferred_from_the_input_shape():
    from skmir.nn import build_network

    net = build_network("c2-p2-c2-p2-r1-r2-d1", (2, 96, 10), n_outputs=3, channels=(8, 16),
                        hidden=(32, 24))
    shapes = dict(enumerate(net.shapes))
    assert shapes[0] == ("c2", (8, 96)) and shapes[1] == ("p2", (8, 48))
    assert shapes[3] == ("p2", (16, 24))
    assert net.layers[4].rnn.input_size == 16 * 24
    assert shapes[5] == ("r2", (24, 1))
    assert net(torch.zeros(1, 2, 96, 10)).shape == (1, 3)


def test_pooling_is_clamped_never_pools_an_axis_away():
    from skmir.nn import build_network

    # 3 bins and 1 frame through three 4x4 poolings: each pool shrinks to the axis.
    net = build_network("c2-p2-c2-p2-c2-p2", (3, 1), n_outputs=2, channels=2, pool=4)
    assert net(torch.zeros(2, 3, 1)).shape == (2, 2)
    assert net.shapes[1] == ("p2", (2, 1))


def test_bidirectional_lstm_many_to_one():
    from skmir.nn import build_network

    net = build_network("r1-r2", (10, 5), n_outputs=2, cell="lstm", bidirectional=True,
                        hidden=6)
    assert net.shapes[:2] == [("r1", (12, 1)), ("r2", (12, 1))]
    assert net(torch.zeros(3, 10, 7)).shape == (3, 2)


def test_frame_level_networks_keep_every_frame():
    from skmir.nn import build_network

    for name in ("dnn", "birnn", "conv2d_tv"):
        net = build_network(name, (20, 9), n_outputs=4, output="frame", channels=4, hidden=8)
        assert net(torch.zeros(2, 20, 9)).shape == (2, 9, 4)


def test_d2_output_layer_is_a_pooled_fully_convolutional_head():
    from skmir.nn import build_network

    net = build_network("conv2d", (16, 20), n_outputs=3, channels=4, context=5)
    assert net.shapes[-2:] == [("d2", (3, 1)), ("global pool", (3,))]
    assert net.layers[-2].conv.kernel_size == (5,)


def test_batch_norm_survives_a_single_value_per_channel():
    from skmir.nn import build_network

    net = build_network("c2-p2-c2", (1, 1), n_outputs=2, channels=2).train()
    net(torch.zeros(1, 1, 1, 1)).sum().backward()


# ------------------------------------------------------------ the CPU fast paths

@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_drops_each_element_independently_with_probability_p(p):
    from skmir.nn.blocks import dropout

    torch.manual_seed(0)
    n = 1 << 22
    dropped = dropout(torch.ones(n), p) == 0
    # Each of the four 16-bit slices of a random word (the one that holds the sign
    # bit has 15 random bits) drops at p; 4 sigma of a fraction of 2**20 draws is 2e-3.
    for position in range(4):
        assert abs(dropped[position::4].float().mean().item() - p) < 2e-3
    # neighbours are independent: both dropped with probability p**2
    assert abs((dropped[1:] & dropped[:-1]).float().mean().item() - p * p) < 2e-3


def test_dropout_scales_what_it_keeps_and_its_gradient_is_the_same_mask():
    from skmir.nn.blocks import Dropout, dropout

    x = torch.rand(4, 3, 5, 7).contiguous(memory_format=torch.channels_last) + 1
    x.requires_grad_()
    torch.manual_seed(1)
    y = dropout(x, 0.3)
    assert y.is_contiguous(memory_format=torch.channels_last)
    kept = y != 0
    torch.testing.assert_close(y[kept], x[kept] / 0.7)
    y.backward(torch.full_like(y, 2.0))
    torch.testing.assert_close(x.grad, kept / 0.7 * 2.0)
    torch.manual_seed(1)
    assert torch.equal(dropout(x, 0.3), y)  # seeded: repeats
    assert dropout(x, 0.3, training=False) is x and dropout(x, 0.0) is x
    assert Dropout(0.3).eval()(x) is x


def test_conv2d_block_in_channels_last_equals_torch_in_nchw():
    from skmir.nn.blocks import Conv2d

    torch.manual_seed(0)
    block = Conv2d(1, 6, 3, batch_norm=True, act="relu", dropout=0.0).eval()
    block.post[0].running_mean.uniform_(-1, 1)
    x = torch.randn(2, 1, 12, 17)
    y = block(x)
    assert y.is_contiguous(memory_format=torch.channels_last)
    expected = block.post(torch.nn.functional.conv2d(x, block.conv.weight, padding="same"))
    torch.testing.assert_close(y, expected, rtol=1e-5, atol=1e-5)
    # the parameters keep torch's layout: what is saved and loaded is unchanged
    assert block.conv.weight.is_contiguous()
