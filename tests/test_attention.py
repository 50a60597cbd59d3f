"""MultiHeadAttention, PositionalEmbedding, Dense per time step and the transformer block.

The contract suite (tests/test_contract.py) already checks every registered layer (save
and load, float32, pickle, central differences, L2 on declared weights, ONNX). Here: the
equality with PyTorch's module and autograd on copied weights (float64, 1e-10), the
refusals, what "causal" means, dropout's gradient, the per-time-step Dense, the block
against its equations, ONNX of a whole transformer, and cached inference.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.diagnostics.gradcheck import central_difference
from cartoonbrain.layers import from_torch
from cartoonbrain.layers.attention import causal_mask
from cartoonbrain.network.builders import gpt
from cartoonbrain.network.generate import infer_cached
from layer_checks import assert_layer_gradients, bind


def bound_attention(d=8, h=2, causal=False, dropout=0.0, seed=0):
    layer = cb.MultiHeadAttention(d, h, causal=causal, dropout=dropout)
    params, grads = bind(layer, np.random.default_rng(seed))
    return layer, params, grads


# ---------------------------------------------------------------- PyTorch
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize(("d", "h", "T"), [(8, 2, 5), (6, 3, 1), (12, 4, 7)])
def test_equal_to_pytorch_on_copied_weights(causal, d, h, T):
    """from_torch, then outputs, ∂L/∂x and every parameter's gradient equal torch's
    (``attn_mask = triu(ones(T, T), 1)`` when causal), float64, to 1e-10."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = torch.nn.MultiheadAttention(d, h, batch_first=True).double()
    with torch.no_grad():  # torch starts its biases at zero: move them
        module.in_proj_bias.normal_()
        module.out_proj.bias.normal_()
    layer = cb.MultiHeadAttention(d, h, causal=causal)
    cb.Network([layer], input_shape=(T, d), dtype="float64")
    from_torch(layer, module)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, T, d))
    G = rng.normal(size=(3, T, d))
    xt = torch.tensor(x, requires_grad=True)
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1) if causal else None
    out, _ = module(xt, xt, xt, attn_mask=mask, need_weights=False)
    (out * torch.tensor(G)).sum().backward()
    o = layer.forward(x, training=True)
    np.testing.assert_allclose(o, out.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(layer.infer(x.copy()), o, rtol=0, atol=1e-12)
    g_x = layer.backward(G)
    np.testing.assert_allclose(g_x, xt.grad.numpy(), rtol=0, atol=1e-10)
    torch_grads = {name: p.grad.numpy() for name, p in module.named_parameters()}
    ours = dict(zip(layer.parameter_names, (layer.dW_in, layer.db_in, layer.dW_out, layer.db_out)))
    assert set(ours) == set(torch_grads)
    for name, grad in ours.items():
        np.testing.assert_allclose(grad, torch_grads[name], rtol=0, atol=1e-10, err_msg=name)


def test_from_torch_refuses_what_it_cannot_copy():
    torch = pytest.importorskip("torch")
    layer = cb.MultiHeadAttention(8, 2)
    cb.Network([layer], input_shape=(3, 8))
    refused = [
        torch.nn.MultiheadAttention(8, 4, batch_first=True),  # another head count
        torch.nn.MultiheadAttention(8, 2, batch_first=True, bias=False),
        torch.nn.MultiheadAttention(8, 2, batch_first=True, add_bias_kv=True),
        torch.nn.MultiheadAttention(8, 2, batch_first=True, add_zero_attn=True),
        torch.nn.MultiheadAttention(8, 2, batch_first=True, kdim=4, vdim=4),
        torch.nn.GRU(8, 8),
    ]
    for module in refused:
        with pytest.raises(ValueError, match=r"cannot copy a torch .* expected a torch\.nn\.Multi"):
            from_torch(layer, module)
    module = torch.nn.MultiheadAttention(8, 2)  # batch_first does not change the weights
    from_torch(layer, module)
    np.testing.assert_array_equal(layer.W_in, module.in_proj_weight.detach().numpy())


def test_causal_is_torchs_boolean_mask():
    torch = pytest.importorskip("torch")
    for T in (1, 2, 5):
        expected = torch.triu(torch.ones(T, T, dtype=torch.bool), 1).numpy()
        np.testing.assert_array_equal(causal_mask(T, T), expected)


# ---------------------------------------------------------------- refusals
@pytest.mark.parametrize(("d", "h"), [(10, 3), (4, 8)])
def test_d_model_not_divisible_by_n_heads_is_refused_at_construction(d, h):
    with pytest.raises(ValueError, match=rf"d_model={d} is not divisible by n_heads={h}"):
        cb.MultiHeadAttention(d, h)


@pytest.mark.parametrize("kwargs", [{"dropout": 1.0}, {"dropout": -0.1}, {"dropout": "0"}])
def test_bad_dropout_is_refused(kwargs):
    with pytest.raises(ValueError, match="dropout must be"):
        cb.MultiHeadAttention(4, 2, **kwargs)


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3), (2, 3, 4, 8), (2, 3, 16)])
def test_input_whose_last_axis_is_not_d_model_is_refused_in_one_line(shape):
    layer, _, _ = bound_attention(d=8)
    pattern = rf"d_model=8\) takes inputs of shape \(n_samples, time, 8\); got \({shape[0]}, "
    for run in (lambda x: layer.forward(x, True), layer.infer):
        with pytest.raises(ValueError, match=pattern) as info:
            run(np.zeros(shape))
        assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match=r"takes sequences of shape \(time, 8\)"):
        cb.Network([cb.MultiHeadAttention(8, 2)], input_shape=(3, 5))


def test_a_network_may_end_in_attention():
    net = cb.Network([cb.MultiHeadAttention(4, 2, causal=True)], input_shape=(3, 4), seed=0)
    X = np.random.default_rng(0).normal(size=(5, 3, 4))
    assert net.predict(X).shape == (5, 3, 4)
    np.testing.assert_array_equal(net.predict(X[:1]), net.predict(X)[:1])  # one sample too


# ---------------------------------------------------------------- what the maths says
@settings(max_examples=20, deadline=None)
@given(T=st.integers(2, 6), t=st.integers(0, 5), seed=st.integers(0, 2**16))
def test_causal_output_at_t_ignores_later_positions(T, t, seed):
    """With causal=True, changing x after position t leaves the outputs up to t as they
    were; without it, the output at t changes."""
    t = min(t, T - 2)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, T, 4))
    changed = x.copy()
    changed[:, t + 1 :] += rng.normal(size=changed[:, t + 1 :].shape)
    for causal in (True, False):
        layer, _, _ = bound_attention(d=4, h=2, causal=causal, seed=seed)
        same = np.allclose(layer.infer(x.copy())[:, : t + 1], layer.infer(changed)[:, : t + 1])
        assert same is causal


def test_forward_is_the_equations_written_out():
    """O = (softmax(Q Kᵀ/√d_head) V, heads side by side) W_outᵀ + b_out, one head at a time."""
    layer, _, _ = bound_attention(d=6, h=3, causal=True)
    x = np.random.default_rng(2).normal(size=(2, 4, 6))
    Q, K, V = np.split(x @ layer.W_in.T + layer.b_in, 3, axis=-1)
    heads = []
    for j in range(3):
        cols = slice(2 * j, 2 * j + 2)
        S = Q[..., cols] @ K[..., cols].transpose(0, 2, 1) / np.sqrt(2)
        S = np.where(np.triu(np.ones((4, 4)), 1) == 1, -np.inf, S)
        P = np.exp(S - S.max(-1, keepdims=True))
        heads.append(P / P.sum(-1, keepdims=True) @ V[..., cols])
    expected = np.concatenate(heads, axis=-1) @ layer.W_out.T + layer.b_out
    np.testing.assert_allclose(layer.forward(x), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
def test_gradients_with_dropout_equal_central_differences(causal):
    """Dropout on the attention weights, the same draws in every pass: ∇θ and ∂L/∂x."""
    layer, params, grads = bound_attention(d=4, h=2, causal=causal, dropout=0.3)
    x = np.random.default_rng(3).normal(size=(2, 3, 4))
    R = np.random.default_rng(4).normal(size=x.shape)

    def L(_=None):
        layer.attach(np.random.default_rng(5))
        return float(np.sum(R * layer.forward(x, training=True)))

    L()
    layer.infer(x.copy())  # a prediction in between leaves the training pass's caches alone
    g_x = layer.backward(R.copy())
    assert layer.keep is not None and (layer.keep == 0).any()
    analytic = [g.copy() for g in grads]
    for p, g in zip(params, analytic):
        np.testing.assert_allclose(g, central_difference(L, p), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(g_x, central_difference(L, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(layer.infer(x.copy()), layer.forward(x, training=False))


def test_l2_acts_on_the_two_weights_only():
    layer = cb.MultiHeadAttention(4, 2)
    assert [layer.is_weight(n) for n in layer.parameter_names] == [True, False, True, False]


# ---------------------------------------------------------------- Dense per time step
def test_dense_per_time_step_is_dense_on_every_step():
    """Dense on (n, T, F) = Dense on each (n, F) slice: outputs, G_prev, and ∇W, ∇b summed
    over the steps."""
    rng = np.random.default_rng(0)
    layer = cb.Dense(3, 4, activation="tanh")
    _, grads = bind(layer, rng)
    x, G = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 4))
    out = layer.forward(x, training=True)
    g_x = layer.backward(G)
    whole = [g.copy() for g in grads]
    assert out.shape == (2, 5, 4) and g_x.shape == x.shape
    np.testing.assert_allclose(layer.infer(x.copy()), out, rtol=0, atol=1e-14)
    summed = [np.zeros_like(g) for g in grads]
    for t in range(5):
        np.testing.assert_allclose(layer.forward(x[:, t]), out[:, t], rtol=0, atol=1e-14)
        np.testing.assert_allclose(layer.backward(G[:, t]), g_x[:, t], rtol=0, atol=1e-14)
        for total, g in zip(summed, grads):
            total += g
    for total, g in zip(summed, whole):
        np.testing.assert_allclose(g, total, rtol=1e-12, atol=1e-14)


def test_dense_per_time_step_gradients_equal_central_differences():
    rng = np.random.default_rng(1)
    layer = cb.Dense(3, 2, activation="gelu")
    params, grads = bind(layer, rng)
    assert_layer_gradients(layer, rng.normal(size=(2, 4, 3)), params, grads)


def test_dense_per_time_step_in_a_network_and_onnx(tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from cartoonbrain import onnx as cbonnx

    net = cb.Network([cb.Dense(3, 5, activation="relu"), cb.Dense(5, 2)], input_shape=(4, 3))
    assert net.output_shape == (4, 2)
    X = np.random.default_rng(0).normal(size=(6, 4, 3)).astype(np.float32)
    cbonnx.export(net, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(["output"], {"input": X})[0]
    np.testing.assert_allclose(got, net.predict(X), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- positions and the block
def test_positional_embedding_adds_p_and_refuses_long_sequences():
    layer = cb.PositionalEmbedding(4, 3)
    (P,), (dP,) = bind(layer, np.random.default_rng(0))
    x = np.random.default_rng(1).normal(size=(2, 3, 3))
    np.testing.assert_array_equal(layer.forward(x), x + P[:3])
    layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(dP, [[2, 2, 2]] * 3 + [[0, 0, 0]])
    with pytest.raises(ValueError, match=r"max_len=4, d_model=3\) takes inputs .* got \(2, 5, 3\)"):
        layer.forward(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match=r"takes sequences of shape \(time ≤ 4, 3\)"):
        cb.Network([layer], input_shape=(5, 3))


def test_transformer_block_is_the_pre_norm_equations():
    """x ← x + MHA(LN₁(x));  x ← x + W₂ gelu(W₁ LN₂(x) + b₁) + b₂, by the layers' own parts."""
    block = cb.transformer_block(8, 2, causal=True)
    net = cb.Network(block, input_shape=(5, 8), dtype="float64", seed=0)
    net.flat_parameters += np.random.default_rng(0).normal(scale=0.1, size=net.n_parameters)
    x = np.random.default_rng(1).normal(size=(3, 5, 8))
    ln1, mha = block[0].layers
    ln2, fc, proj = block[1].layers
    h = x + mha.infer(ln1.infer(x.copy()))
    expected = h + proj.infer(fc.infer(ln2.infer(h.copy())))
    np.testing.assert_allclose(net.predict(x), expected, rtol=0, atol=1e-12)
    assert fc.activation.name == "gelu" and (fc.n_in, fc.n_out) == (8, 32)


def test_a_small_gpt_backpropagates_as_central_differences():
    """The whole language model (ids → logits per position), in float64."""
    net = cb.Network(gpt(7, 4, 1, 2, 4), input_shape=(4,), dtype="float64", seed=0)
    rng = np.random.default_rng(0)
    net.flat_parameters += rng.normal(scale=0.1, size=net.n_parameters)
    X = rng.integers(0, 7, (2, 4)).astype(np.float64)
    R = rng.normal(size=(2, 4, 7))

    def L(_=None):
        return float(np.sum(R * net.forward(X, training=True)))

    L()
    net.backward(R.copy())
    analytic = net.flat_gradients.copy()
    numeric = central_difference(L, net.flat_parameters)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_a_transformer_exports_to_onnx_equal_to_predict(tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from cartoonbrain import onnx as cbonnx

    for causal in (False, True):
        layers = [cb.Embedding(11, 8), cb.PositionalEmbedding(6, 8)]
        layers += [*cb.transformer_block(8, 2, causal=causal), cb.LayerNorm(8), cb.Dense(8, 11)]
        net = cb.Network(layers, input_shape=(6,), seed=0)
        net.flat_parameters += np.random.default_rng(1).normal(scale=0.1, size=net.n_parameters)
        X = np.random.default_rng(2).integers(0, 11, (4, 6)).astype(np.float32)
        cbonnx.export(net, tmp_path / "gpt.onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(
            str(tmp_path / "gpt.onnx"), options, ["CPUExecutionProvider"]
        )
        got = session.run(["output"], {"input": X})[0]
        np.testing.assert_allclose(got, net.predict(X), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- cached inference
@pytest.mark.parametrize("chunks", [(6,), (1, 1, 1, 1, 1, 1), (3, 1, 2)])
def test_cached_inference_equals_the_whole_sequence(chunks):
    """Feeding a sequence in chunks through infer_cached gives the full pass's outputs."""
    net = cb.Network(gpt(9, 6, 2, 2, 8), input_shape=(6,), dtype="float64", seed=0)
    net.flat_parameters += np.random.default_rng(0).normal(scale=0.1, size=net.n_parameters)
    X = np.random.default_rng(1).integers(0, 9, (2, 6)).astype(np.float64)
    caches = [{} for _ in net.layers]
    outputs, start = [], 0
    for m in chunks:
        o = X[:, start : start + m]
        for layer, cache in zip(net.layers, caches):
            o = infer_cached(layer, o, cache)
        outputs.append(o)
        start += m
    np.testing.assert_allclose(np.concatenate(outputs, axis=1), net.predict(X), atol=1e-12)


def test_cached_inference_needs_a_causal_attention():
    layer, _, _ = bound_attention(causal=False)
    with pytest.raises(ValueError, match="cached inference needs causal=True"):
        layer.infer_cached(np.zeros((1, 2, 8)), {})
