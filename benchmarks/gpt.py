"""Benchmark G: nanoGPT's CPU recipe in cartoonbrain and in PyTorch, in one run.

nanoGPT's README trains a character-level GPT on Shakespeare on a CPU with

    block 64, batch 12, 4 layers, 4 heads, 128 dimensions, 2,000 iterations, no dropout,
    AdamW (lr 1e-3, β₂ 0.99, weight decay 0.1), 100 warm-up steps, cosine to 1e-4,
    gradients clipped to norm 1

and reports a validation loss of about 1.88. Here both systems train the same model
(cartoonbrain.network.builders.gpt; in PyTorch the same layers, torch.nn.MultiheadAttention
with the boolean causal mask), from the same initial weights (copied from cartoonbrain's),
on the same windows of the same text (the ``shakespeare`` package's plays, a contiguous
90/10 split), with the same schedule and the same thread count for NumPy's BLAS and for
PyTorch. One difference from nanoGPT: weight decay acts on every parameter in both (the
flat buffer of cartoonbrain has no parameter groups). Printed: the machine, then for each
system the validation loss before and after, the training's wall-clock and CPU time
(evaluations excluded; one thread, so CPU time is the work done, which other processes on
a shared machine disturb far less than the wall clock) and CPU ms per iteration, and the
two targets (|Δ val loss| ≤ 0.05; cartoonbrain's training time ≤ PyTorch's, by CPU time).

    python3 dev.py bench gpt                                # installs what it needs
    .venv/bin/python benchmarks/gpt.py --iterations 2000 --threads 1
    .venv/bin/python benchmarks/gpt.py --iterations 50      # a quick look
    .venv/bin/python benchmarks/gpt.py --save gpt.npz       # then sample it with examples/
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cartoonbrain as cb
from _common import load_line, machine_lines, table, verdict
from cartoonbrain.data.text import (
    CharVocabulary,
    load_shakespeare,
    random_windows,
    split_ids,
)
from cartoonbrain.network.builders import gpt
from cartoonbrain.train.language import fit_language_model, warmup_cosine

RECIPE = {"block_size": 64, "batch_size": 12, "n_layers": 4, "n_heads": 4, "d_model": 128}


def torch_gpt(net: cb.Network, n_vocab: int):  # type: ignore[no-untyped-def]
    """The same GPT in PyTorch, with ``net``'s weights copied in."""
    import torch
    from torch import nn

    d, block = RECIPE["d_model"], RECIPE["block_size"]

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.attn = nn.MultiheadAttention(d, RECIPE["n_heads"], batch_first=True)
            self.fc, self.proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

        def forward(self, x, mask):  # type: ignore[no-untyped-def]
            h = self.ln1(x)
            x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
            return x + self.proj(nn.functional.gelu(self.fc(self.ln2(x))))

    class GPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok = nn.Embedding(n_vocab, d)
            self.pos = nn.Parameter(torch.zeros(block, d))
            self.blocks = nn.ModuleList(Block() for _ in range(RECIPE["n_layers"]))
            self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, n_vocab)

        def forward(self, ids):  # type: ignore[no-untyped-def]
            t = ids.shape[1]
            mask = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)
            x = self.tok(ids) + self.pos[:t]
            for b in self.blocks:
                x = b(x, mask)
            return self.head(self.ln(x))

    model = GPT()
    layers = net.layers

    def copy(target, source):  # type: ignore[no-untyped-def]
        with torch.no_grad():
            target.copy_(torch.from_numpy(np.array(source)))

    copy(model.tok.weight, layers[0].E)
    copy(model.pos, layers[1].P)
    for i, b in enumerate(model.blocks):
        attention, mlp = layers[2 + 2 * i], layers[3 + 2 * i]
        copy(b.ln1.weight, attention.layers[0].gamma)
        copy(b.ln1.bias, attention.layers[0].beta)
        # the names are torch's on both sides (what from_torch relies on)
        named = dict(b.attn.named_parameters())
        for name, array in attention.layers[1].named_parameters().items():
            copy(named[name], array)
        copy(b.ln2.weight, mlp.layers[0].gamma)
        copy(b.ln2.bias, mlp.layers[0].beta)
        copy(b.fc.weight, mlp.layers[1].W)
        copy(b.fc.bias, mlp.layers[1].b)
        copy(b.proj.weight, mlp.layers[2].W)
        copy(b.proj.bias, mlp.layers[2].b)
    copy(model.ln.weight, layers[-2].gamma)
    copy(model.ln.bias, layers[-2].beta)
    copy(model.head.weight, layers[-1].W)
    copy(model.head.bias, layers[-1].b)
    return model


def torch_validation(model, windows) -> float:  # type: ignore[no-untyped-def]
    import torch

    model.eval()
    with torch.no_grad():
        losses = [
            float(
                torch.nn.functional.cross_entropy(
                    model(torch.from_numpy(X)).flatten(0, 1), torch.from_numpy(Y).flatten()
                )
            )
            for X, Y in windows
        ]
    model.train()
    return float(np.mean(losses))


def train_torch(model, batches, iterations: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """nanoGPT's loop; returns the training's wall-clock and CPU seconds."""
    import torch

    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    seconds = cpu_seconds = 0.0
    for step in range(iterations):
        start, cpu_start = time.perf_counter(), time.process_time()
        X, Y = (torch.from_numpy(a) for a in next(batches))
        loss = torch.nn.functional.cross_entropy(model(X).flatten(0, 1), Y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        for group in opt.param_groups:
            group["lr"] = warmup_cosine(step, 1e-3, 100, iterations, 1e-4)
        opt.step()
        seconds += time.perf_counter() - start
        cpu_seconds += time.process_time() - cpu_start
    return seconds, cpu_seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1, help="BLAS and PyTorch threads")
    parser.add_argument("--eval-batches", type=int, default=50, help="validation batches of 12")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", help="save cartoonbrain's trained model here (to sample from)")
    args = parser.parse_args(argv)

    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    cb._kernels.warm_up(("float32",))

    text = load_shakespeare()
    vocabulary = CharVocabulary.from_text(text)
    train_ids, validation_ids = split_ids(vocabulary.encode(text), 0.1)
    T, B = RECIPE["block_size"], RECIPE["batch_size"]
    rng = np.random.default_rng(args.seed + 1)
    validation = [random_windows(validation_ids, T, B, rng) for _ in range(args.eval_batches)]
    rng = np.random.default_rng(args.seed + 2)
    windows = [random_windows(train_ids, T, B, rng) for _ in range(args.iterations)]

    layers = gpt(len(vocabulary), T, RECIPE["n_layers"], RECIPE["n_heads"], RECIPE["d_model"])
    metadata = {"vocabulary": vocabulary.get_config(), "block_size": T}
    net = cb.Network(layers, input_shape=(T,), seed=args.seed, metadata=metadata)
    model = torch_gpt(net, len(vocabulary))

    print("\n".join(machine_lines()))
    print(
        f"threads: {args.threads} (NumPy's BLAS and PyTorch); text: {len(text):,} characters, "
        f"{len(vocabulary)} distinct; {net.n_parameters:,} parameters; {args.iterations} "
        f"iterations; validation: {args.eval_batches} x {B} windows of {T}"
    )
    rows = []
    before = torch_validation(model, validation)
    seconds, cpu_seconds = train_torch(model, iter(windows), args.iterations)
    after = torch_validation(model, validation)
    rows.append(("PyTorch", before, after, seconds, cpu_seconds))
    records = fit_language_model(
        net, train_ids, validation, block_size=T, batch_size=B, iterations=args.iterations,
        eval_every=args.iterations, batches=iter(windows),
    )  # fmt: skip
    first, last = records[0], records[-1]
    rows.append(
        ("cartoonbrain", first["val_loss"], last["val_loss"], last["seconds"], last["cpu_seconds"])
    )
    per = 1e3 / args.iterations
    print(
        table(
            ["system", "val loss before", "val loss after", "training s", "CPU s", "ms / it (CPU)"],
            [
                (name, f"{b:.4f}", f"{a:.4f}", f"{s:.1f}", f"{c:.1f}", f"{per * c:.1f}")
                for name, b, a, s, c in rows
            ],
        )
    )
    print(load_line())
    if args.save:
        net.save(args.save)  # python examples/shakespeare_gpt.py sample PATH
    (_, _, torch_loss, torch_s, torch_cpu), (_, _, cb_loss, cb_s, cb_cpu) = rows
    print(f"{verdict(abs(cb_loss - torch_loss) <= 0.05)} val loss within 0.05 of PyTorch's "
          f"({cb_loss - torch_loss:+.4f})")  # fmt: skip
    print(f"{verdict(cb_cpu <= torch_cpu)} training CPU time at most PyTorch's "
          f"({cb_cpu / torch_cpu:.2f}x; wall-clock {cb_s / torch_s:.2f}x, which a busy machine "
          "skews between the two runs)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
