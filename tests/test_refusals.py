"""Every refusal is one line naming the file, row or field and what was expected, made
when the object is made or before any work, never an IndexError or a silent loss:

* Preprocessor: ``categorical`` names that are not columns and indices out of range,
  column names given twice (blamed on whoever gave them), complex values.
* The CSV reader names the line of a byte that is not UTF-8, whatever the line endings.
* ``predict_dask`` names a bad row by its row in the whole array (by partition and index
  label in a dask DataFrame, whose partitions' lengths are not known beforehand).
* A NaN target is called NaN, not infinite.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.data.csvdata import DataFileError, read_table
from cartoonbrain.data.preprocessing import Preprocessor, TargetEncoder

X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 0.0]])


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    message = str(exc.value)
    assert "\n" not in message and len(message) < 300, message
    return message


@given(
    st.lists(
        st.one_of(st.sampled_from(["0", "1", "2", "x", ""]), st.integers(-2, 5), st.booleans()),
        max_size=4,
    )
)
def test_categorical_columns_are_columns_or_refused_in_one_line(categorical):
    try:
        pre = Preprocessor(categorical=categorical)
    except ValueError as exc:
        assert "categorical must be a list of column names" in str(exc)
        assert any(isinstance(c, bool) or (isinstance(c, int) and c < 0) for c in categorical)
        return
    try:
        pre.fit(X)
    except ValueError as exc:
        message = str(exc)
        assert "\n" not in message
        assert "is out of range: X has 3 columns" in message or "which is not a column" in message
        return
    chosen = {str(c) for c in categorical}  # names "0".."2" and indices 0..2 are the same
    assert [c["name"] for c in pre.columns_ if c["kind"] == "text"] == sorted(chosen)


def test_categorical_that_is_not_a_list_is_refused_when_made():
    for bad in ("colour", 5, {"a": 1}, [1.5], [None]):
        with pytest.raises(ValueError, match="categorical must be a list") as exc:
            Preprocessor(categorical=bad)
        one_line(exc)


def test_column_names_given_twice_are_blamed_on_who_gave_them():
    pd = pytest.importorskip("pandas")
    with pytest.raises(ValueError, match=r"^feature_names name 'a' more than once") as exc:
        Preprocessor().fit(X, feature_names=["a", "b", "a"])
    one_line(exc)
    frame = pd.DataFrame(X, columns=["a", "a", "b"])
    with pytest.raises(ValueError, match=r"^X's columns name 'a' more than once"):
        Preprocessor().fit(frame)
    pre = Preprocessor().fit(pd.DataFrame(X, columns=["a", "b", "c"]))
    with pytest.raises(ValueError, match=r"^X's columns name 'a' more than once"):
        pre.transform(frame.rename(columns={"b": "c"}))


@pytest.mark.parametrize(
    "column",
    [
        np.array([1 + 2j, 3, 4]),
        np.array([1 + 0j, 3, 4]),  # even with no imaginary part: the dtype says complex
        np.array([1 + 2j, "x", 4], dtype=object),
    ],
)
def test_a_complex_column_is_refused_not_cut_to_its_real_part(column):
    rows = np.column_stack([np.arange(3.0), column]) if column.dtype.kind == "c" else None
    data = rows if rows is not None else np.array([[0, column[0]], [1, "x"], [2, 4]], object)
    with pytest.raises(ValueError, match="holds complex numbers; expected real numbers") as exc:
        Preprocessor().fit(data)
    one_line(exc)
    pre = Preprocessor().fit(np.array([[0.0, 1.0], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="holds complex numbers"):
        pre.transform(np.array([[0.0, 1 + 1j]]))


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(2, 40),
    bad=st.data(),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
    byte=st.sampled_from([0xE9, 0xFF, 0x80, 0xC3]),
)
def test_a_bad_utf8_byte_is_reported_on_its_own_line(tmp_path_factory, rows, bad, ending, byte):
    """Lines long enough that the text reader decodes several at once (8 KiB blocks)."""
    at = bad.draw(st.integers(2, rows + 1))  # a data row's line (the header is line 1)
    lines = [b"a,b"] + [f"{i},{'x' * 300}".encode() for i in range(rows)]
    lines[at - 1] = lines[at - 1][:-1] + bytes([byte])
    if byte == 0xC3:  # a lead byte whose continuation is missing
        lines[at - 1] += b"!"
    path = tmp_path_factory.mktemp("utf8") / "bad.csv"
    path.write_bytes(ending.encode().join(lines) + ending.encode())
    with pytest.raises(DataFileError) as exc:
        read_table(path, text=True)
    assert one_line(exc) == (
        f"{path}: not UTF-8 text (byte {byte:#04x} on line {at}); expected a CSV text file"
    )


@settings(max_examples=15, deadline=None)
@given(n=st.integers(5, 60), chunk=st.integers(1, 20), data=st.data())
def test_predict_dask_names_a_nan_by_its_row_in_the_whole_array(n, chunk, data):
    da = pytest.importorskip("dask.array")
    from cartoonbrain.cluster import predict_dask

    row, column = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, 1))
    X = np.zeros((n, 2))
    X[row, column] = np.nan
    net = cb.Network([cb.Dense(2, 1)], seed=0)
    with pytest.raises(ValueError) as exc:
        predict_dask(net, da.from_array(X, chunks=(chunk, 2))).compute(scheduler="sync")
    assert one_line(exc).startswith(f"X contains nan at row {row}, column {column};")


def test_predict_dask_names_a_partitions_row_by_its_index_label():
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    from cartoonbrain.cluster import predict_dask

    X = np.zeros((50, 2))
    X[37, 0] = np.nan
    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b"]), npartitions=5)
    net = cb.Network([cb.Dense(2, 1)], seed=0)
    with pytest.raises(ValueError, match=r"at row 7 of partition 3 \(index 37\), column 0"):
        predict_dask(net, frame).compute(scheduler="sync")


def test_a_nan_target_is_called_nan_not_infinite():
    with pytest.raises(ValueError, match=r"^column 'target 0' holds nan; expected finite"):
        TargetEncoder("scale").fit([1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match=r"holds inf; expected finite"):
        TargetEncoder("scale").fit([1.0, np.inf, 2.0])
    net = cb.Network([cb.Dense(2, 1)], seed=0)
    with pytest.raises(ValueError, match=r"^y contains nan at row 2; expected finite targets"):
        net.fit(np.zeros((3, 2)), np.array([[0.0], [1.0], [np.nan]]), epochs=1)
