"""Render a training report and photograph it in headless Chromium, as a person sees it.

    python scripts/screenshot_report.py                      # digits -> docs/report-screenshot.png
    python scripts/screenshot_report.py --blog --out blog.png --keep reports/

Runs ``cartoonbrain train --report DIR`` (the default 64-128-10 ReLU network with dropout
on digits, 30 epochs, seed 0), opens ``DIR/report.html`` in headless Chromium (Debian:
``apt-get install chromium``), offline, and saves a screenshot of the top of the page,
reduced to 256 colours. With ``--blog`` it photographs the report of the post's
experiment (``cartoonbrain blog --report DIR``) instead.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cartoonbrain import cli
from cartoonbrain.blog.inspect import blog_report

ROOT = Path(__file__).resolve().parent.parent


def chromium() -> str | None:
    """The Chromium executable, or None when there is none."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(html: Path, png: Path, width: int = 1200, height: int = 2400) -> Path:
    """Open ``html`` in headless Chromium, offline, and save a ``width``×``height`` shot."""
    browser = chromium()
    if browser is None:
        raise RuntimeError("no chromium on PATH; on Debian: apt-get install chromium")
    with tempfile.TemporaryDirectory() as profile:
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png.resolve()}",
            html.resolve().as_uri(),
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=120)
    if not png.exists():
        raise RuntimeError(f"chromium ran but wrote no {png}")
    return png


def shrink(png: Path) -> None:
    """Reduce to 256 colours (plots and text need no more): a fraction of the bytes."""
    from PIL import Image

    with Image.open(png) as image:
        reduced = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    reduced.save(png, optimize=True)


def digits_report(directory: Path) -> Path:
    """``cartoonbrain train --report DIR``: the default run on digits, with its report."""
    directory.mkdir(parents=True, exist_ok=True)
    model = directory / "model.npz"
    status = cli.main(["train", "--quiet", "--out", str(model), "--report", str(directory)])
    if status != 0:
        raise RuntimeError(f"cartoonbrain train --report failed with status {status}")
    model.unlink()
    return directory / "report.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report-screenshot.png")
    parser.add_argument("--blog", action="store_true", help="the post's experiment instead")
    parser.add_argument("--keep", type=Path, help="write the report here (default: a temp dir)")
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=2400)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.keep or Path(scratch)
        if args.blog:
            html, _ = blog_report(directory, epochs=100, log=lambda line: None)
        else:
            html = digits_report(directory)
        screenshot(html, args.out, args.width, args.height)
    shrink(args.out)
    print(f"{args.out}: {args.out.stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
