"""Dask for what spreads over processes and machines: batch prediction and sweeps.

cartoonbrain has no scheduler of its own. Dask's ``distributed`` runs the tasks: a
:class:`distributed.LocalCluster` of worker processes on this machine, or the scheduler of
a cluster the user started (``dask scheduler`` and ``dask worker ADDRESS`` on each
machine, or dask-jobqueue, dask-kubernetes, …). What travels between processes is a
:class:`~cartoonbrain.network.network.Network` (pickled through its config, parameters, generator
and optimizer state) and the data.

* :func:`predict_dask`: a ``dask.array`` or ``dask.dataframe`` predicted block by block
  (partition by partition); each block is ``net.predict(block)``, so the numbers are those
  of predicting the same rows in memory with ``batch_size`` = the block's rows.
* :func:`connect`: a ``distributed.Client`` to a scheduler's address, or to a new local
  cluster that is closed again on leaving the ``with`` block.

Needs the ``dask`` extra: ``pip install "cartoonbrain[dask]"``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..network.network import Network

__all__ = ["connect", "predict_dask", "require_dask"]


def require_dask() -> None:
    """An ImportError saying how to install Dask, when it is missing."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise ImportError(
            "this needs Dask and distributed: pip install 'cartoonbrain[dask]'"
        ) from None


@contextlib.contextmanager
def connect(
    scheduler: str | None = None, n_workers: int = 2, threads_per_worker: int = 1
) -> Iterator[Any]:
    """A ``distributed.Client``: to ``scheduler`` (an address such as
    ``tcp://10.0.0.5:8786``), or to a new :class:`distributed.LocalCluster` of
    ``n_workers`` worker processes with ``threads_per_worker`` threads each, which is shut
    down on leaving the block. Workers run with one BLAS thread (distributed's default
    ``OMP_NUM_THREADS=1``), so several fits share the cores without oversubscribing them.
    """
    require_dask()
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=n_workers,
            processes=True,
            threads_per_worker=threads_per_worker,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def predict_dask(net: Network, X: Any, batch_size: int | None = None) -> Any:
    """``net.predict`` over a ``dask.array`` or a ``dask.dataframe``, block by block.

    Parameters
    ----------
    net : Network
    X : dask.array of shape (n_samples, *sample_shape), or dask.dataframe with the
        feature columns (in the order the network was trained on)
    batch_size : int, optional
        Passed to ``net.predict`` inside each block.

    Returns
    -------
    dask.array of shape (n_samples, n_outputs) for an array (its row chunks kept, the
    feature axis in one chunk), or a dask.dataframe with columns ``p_<class>`` (classes
    from the model's metadata, else 0, 1, …) for classifiers and ``<target>`` (or
    ``output_<j>``) otherwise, and X's index. Lazy: call ``.compute()``, or write it
    out (``to_zarr``, ``to_parquet``, ``to_csv``) without holding it in memory.
    """
    require_dask()
    import dask.array as da
    import dask.dataframe as dd

    if isinstance(X, da.Array):
        if X.ndim < 2:
            raise ValueError(f"X has shape {X.shape}; expected (n_samples, n_features)")
        X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})  # whole samples per block
        n_out = net.output_shape[0]
        return X.map_blocks(
            _predict_block,
            net,
            batch_size,
            dtype=net.dtype,
            chunks=(X.chunks[0], (n_out,)),
            drop_axis=list(range(2, X.ndim)),
        )
    if isinstance(X, dd.DataFrame):
        columns = output_columns(net)
        meta = {name: net.dtype for name in columns}
        return X.map_partitions(_predict_partition, net, batch_size, columns, meta=meta)
    raise ValueError(f"X must be a dask.array or a dask.dataframe; got {type(X).__name__}")


def output_columns(net: Network) -> list[str]:
    """Names of the prediction columns: ``p_<class>`` per output of a classifier (one
    column for a single sigmoid output), ``<target>`` or ``<target>_<j>`` otherwise."""
    n_out = net.output_shape[0]
    if net.loss.classification:
        classes = net.metadata.get("classes") or list(range(n_out))
        if n_out == 1:
            return [f"p_{classes[-1]}" if len(classes) == 2 else "p_1"]
        return [f"p_{c}" for c in classes[:n_out]]
    target = net.metadata.get("target") or "output"
    return [target] if n_out == 1 else [f"{target}_{j}" for j in range(n_out)]


def _predict_block(block: Any, net: Network, batch_size: int | None, block_info: Any = None) -> Any:
    """One block's predictions (on a worker: ``net`` arrives pickled); an error naming a
    row names it in the whole array (the block's first row from dask's ``block_info``)."""
    if len(block) == 0:  # dask may call with an empty block to learn the output's type
        return np.empty((0, *net.output_shape), dtype=net.dtype)
    start = block_info[0]["array-location"][0][0] if block_info else 0
    try:
        return net.predict(block, batch_size=batch_size)
    except ValueError as exc:
        raise _in_whole(exc, lambda row: f"at row {start + row}") from None


#: how a check names a row within the rows it was given
_ROW = re.compile(r"\bat row (\d+)")


def _in_whole(exc: ValueError, where: Callable[[int], str]) -> ValueError:
    """The error with its first "at row N" (N counted within a block) said by ``where``."""
    message = _ROW.sub(lambda m: where(int(m.group(1))), str(exc), count=1)
    return type(exc)(message) if message != str(exc) else exc


def _predict_partition(
    part: Any,
    net: Network,
    batch_size: int | None,
    columns: list[str],
    partition_info: Any = None,
) -> Any:
    """One partition's predictions as a pandas DataFrame with the partition's index; an
    error naming a row names its partition and its index label too."""
    import pandas as pd

    if len(part) == 0:
        return pd.DataFrame({name: [] for name in columns}, index=part.index, dtype=net.dtype)
    number = (partition_info or {}).get("number")
    try:
        outputs = net.predict(part, batch_size=batch_size)
    except ValueError as exc:  # a partition's length is not known before it is read
        raise _in_whole(
            exc, lambda row: f"at row {row} of partition {number} (index {part.index[row]!r})"
        ) from None
    return pd.DataFrame(outputs, index=part.index, columns=columns)
