"""Every ```python block of README.md runs, as written, in a fresh folder."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)


def test_the_readme_shows_the_python_api():
    assert len(BLOCKS) >= 2
    assert any("cb.Network(" in block and ".fit(" in block for block in BLOCKS)
    assert any(".save(" in block for block in BLOCKS)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_python_block_runs(block, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # model files land here, not in the repository
    exec(compile(block, str(README), "exec"), {"__name__": "__readme__"})
    capsys.readouterr()  # the examples print; keep the test output quiet
    for name in re.findall(r"\.save\(\s*[\"']([^\"']+)[\"']", block):
        assert (tmp_path / name).is_file()
