"""A corpus of real tables that ship inside packages, written as real tools write them.

* R's ``write.csv`` (an unnamed, quoted row-names column, ``NA`` for a gap): R datasets
  from pydataset's bundled archive (read straight from it: importing pydataset would
  unpack it into the home folder) and the Palmer penguins (palmerpenguins);
* a spreadsheet's export: a UTF-8 BOM, ``;`` between fields, CRLF line ends, ``N/A``;
* a UCI file: ``?`` for a gap (scikit-learn's bundled wine data, with gaps put in);
* a tab-separated and a ``|``-separated file (scikit-learn's bundled diabetes data).

Each entry: (file name, target column, task). :func:`write_corpus` writes them into a
folder; a package that is not installed leaves its tables out.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import tarfile
from pathlib import Path

import numpy as np

#: the R datasets used from pydataset's archive: (package/name, target, task)
R_TABLES = [
    ("MASS/Boston", "medv", "regression"),
    ("Ecdat/Housing", "price", "regression"),
    ("ggplot2/msleep", "sleep_total", "regression"),
    ("COUNT/titanic", "survived", "classification"),
    ("datasets/airquality", "Ozone", "regression"),
]


def _package_file(package: str, *parts: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent.joinpath(*parts)
    return path if path.exists() else None


def r_table(name: str) -> bytes | None:
    """A table of pydataset's archive, as R's write.csv wrote it, or None without it."""
    archive = _package_file("pydataset", "resources.tar.gz")
    if archive is None:
        return None
    with tarfile.open(archive) as tar:
        member = tar.extractfile(f"resources/rdata/csv/{name}.csv")
        return None if member is None else member.read()


def _spreadsheet(text: str) -> bytes:
    """A CSV as a European spreadsheet exports it: BOM, ';', CRLF, N/A for a gap."""
    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow(["N/A" if cell == "NA" else cell for cell in row])
    return b"\xef\xbb\xbf" + out.getvalue().encode()


def _uci_wine() -> bytes | None:
    """scikit-learn's wine data with a '?' in 3% of the feature cells, as UCI files write."""
    if importlib.util.find_spec("sklearn") is None:
        return None
    from sklearn.datasets import load_wine

    data = load_wine()
    rng = np.random.default_rng(0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*data.feature_names, "cultivar"])
    for x, t in zip(data.data, data.target):
        cells = ["?" if rng.random() < 0.03 else repr(float(v)) for v in x]
        writer.writerow([*cells, f"class_{t}"])
    return out.getvalue().encode()


def _diabetes(sep: str) -> bytes | None:
    if importlib.util.find_spec("sklearn") is None:
        return None
    from sklearn.datasets import load_diabetes

    data = load_diabetes(scaled=False)
    lines = [sep.join([*data.feature_names, "progression"])]
    lines += [
        sep.join([*(repr(float(v)) for v in x), str(int(t))])
        for x, t in zip(data.data, data.target)
    ]
    return ("\n".join(lines) + "\n").encode()


def write_corpus(folder: Path) -> list[tuple[Path, str, str]]:
    """Write every table whose package is installed; (path, target, task) of each."""
    written = []

    def put(name: str, data: bytes | None, target: str, task: str) -> None:
        if data is not None:
            path = folder / name
            path.write_bytes(data)
            written.append((path, target, task))

    penguins = _package_file("palmerpenguins", "data", "penguins.csv")
    if penguins is not None:
        text = penguins.read_bytes()
        put("penguins.csv", text, "species", "classification")
        put("penguins_mass.csv", text, "body_mass_g", "regression")
        put("penguins_excel.csv", _spreadsheet(text.decode()), "sex", "classification")
    for name, target, task in R_TABLES:
        put(name.split("/")[1] + ".csv", r_table(name), target, task)
    put("wine_uci.csv", _uci_wine(), "cultivar", "classification")
    put("diabetes.tsv", _diabetes("\t"), "progression", "regression")
    put("diabetes_pipes.csv", _diabetes("|"), "progression", "regression")
    return written
