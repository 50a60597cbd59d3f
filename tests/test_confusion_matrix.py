"""metrics.confusion_matrix: C[i, j] counts samples of true class i predicted as j."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartoonbrain.metrics import confusion_matrix


@settings(max_examples=60, deadline=None)
@given(data=st.data(), k=st.integers(1, 6))
def test_each_cell_counts_its_pairs(data, k):
    pairs = data.draw(st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, k - 1))))
    true_ids = np.array([t for t, _ in pairs], dtype=np.int64)
    predicted = np.array([p for _, p in pairs], dtype=np.int64)
    C = confusion_matrix(true_ids, predicted, k)
    assert C.shape == (k, k) and C.dtype == np.int64
    for i in range(k):
        for j in range(k):
            assert C[i, j] == sum(1 for t, p in pairs if (t, p) == (i, j))
    np.testing.assert_array_equal(C.sum(axis=1), np.bincount(true_ids, minlength=k))


def test_rows_are_the_true_class():
    C = confusion_matrix([0, 0, 1], [1, 1, 1], 2)
    np.testing.assert_array_equal(C, [[0, 2], [0, 1]])


@pytest.mark.parametrize(
    "true_ids, predicted_ids",
    [([0, 2], [0, 1]), ([0, -1], [0, 1]), ([0, 1], [0, 0.5]), ([0, 1], [0])],
)
def test_ids_outside_the_classes_are_refused(true_ids, predicted_ids):
    with pytest.raises(ValueError, match="confusion_matrix"):
        confusion_matrix(np.array(true_ids), np.array(predicted_ids), 2)
