"""The documentation is kept right by running it.

* Every link of docs/*.md and README.md leads to a file that exists; a link to a heading
  (``backprop.md#the-sigmoid``) to a heading that exists.
* A link to a line of a source file names what is defined there, in backticks, and the
  line is that definition's ``def``/``class`` line (found with ``ast``)::

      [`blog.backward`](../src/cartoonbrain/blog/post.py#L137)     a function (module prefixes
                                                                  such as ``blog.`` may lead)
      [`Dense.backward`](../src/cartoonbrain/layers/dense.py#L99) a method: Class.method
      [`BLOG_LAYERS`](../src/cartoonbrain/blog/post.py#L47)       an assignment
      [`"sigmoid"`](../src/cartoonbrain/activations.py#L252)      the line holding that string

  (a leading ``@`` and a trailing ``()`` are dropped: [`@register_layer`](…)).

  A link whose text in backticks is code rather than a name is an *equation link*: it
  lands on the line that computes the expression, and that line (or a range of at most
  three lines starting there, ``#L12-L14``) holds the expression, spaces aside::

      [`g = g * grad_f(affines[n])`](../src/cartoonbrain/blog/post.py#L160)

  A link to a source file without a line names the file (``[gru.py](…/gru.py)``), never a
  function. When code moves, ``python tests/test_docs.py --fix`` rewrites every anchor:
  a name's to its definition, an equation link's to the one place its expression is
  found again (so the anchors follow a rewritten function).
* In docs/backprop.md, docs/convolution.md, docs/recurrent.md and docs/attention.md every displayed
  equation (an indented block) has an equation link in the paragraph just before or just
  after it (or, in a table, in its row).
* Every ```python block of docs/*.md runs: the blocks of one page in order, in one
  namespace, in a fresh folder, with the registries (layers, activations, losses,
  optimizers, ...) put back as they were afterwards. A block that cannot run here (it
  needs a cluster) says so in its fence: ```python not-run.
* Every ``cartoonbrain ...`` line of a shell block is accepted by the CLI's parser.
* The gradient check's formula and threshold are the same in backprop.md, in gradcheck's
  docstrings and in what its ``verbose`` prints, and the formula is what it computes.
"""

from __future__ import annotations

import ast
import functools
import re
import shlex
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [*DOCS, ROOT / "README.md"]

FENCE = re.compile(r"^( {0,3})```([^\n]*)\n(.*?)^\1```[ \t]*$", re.M | re.S)  # indent, info, body
LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^()\s]+)\)")
LINE_ANCHOR = re.compile(r"^L(\d+)(?:-L(\d+))?$")  # #L12, or a range #L12-L14
IDENTIFIER = re.compile(r'^(?:[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*|"[^"]*")$')
#: an expression link may span at most this many lines (#L12-L14)
MAX_SPAN = 3
FIX_HINT = "run `python tests/test_docs.py --fix` to rewrite the anchors"


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _fenced(text: str) -> list[tuple[int, str, str]]:
    """(first line of the body, info string, body without the fence's indent) of every
    fenced block (a block in a list item is indented like the item's text)."""
    blocks = []
    for m in FENCE.finditer(text):
        indent = len(m.group(1))
        body = "".join(line[indent:] for line in m.group(3).splitlines(keepends=True))
        blocks.append((text.count("\n", 0, m.start()) + 2, m.group(2).strip(), body))
    return blocks


def _blank_fences(text: str) -> str:
    """The text with every fenced block replaced by as many empty lines (links and
    equations are looked for in prose only; line numbers stay right)."""
    return FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def links(page: Path) -> list[tuple[int, str, str, bool]]:
    """(line, text, target, is_image) for every Markdown link of ``page`` outside code."""
    text = _blank_fences(page.read_text(encoding="utf-8"))
    return [
        (text.count("\n", 0, m.start()) + 1, m.group(2), m.group(3), m.group(1) == "!")
        for m in LINK.finditer(text)
    ]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    heading = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")


def headings(page: Path) -> set[str]:
    text = _blank_fences(page.read_text(encoding="utf-8"))
    return {_slug(m.group(1)) for m in re.finditer(r"^#+ +(.+)$", text, re.M)}


# ---------------------------------------------------------------- definitions in source
@functools.cache
def definitions(source: Path) -> dict[str, list[int]]:
    """Qualified name -> the lines where it is defined (def, class, or assigned at module
    or class level), and ``'"text"'`` -> the lines holding that string constant."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    found: dict[str, list[int]] = {}

    def add(name: str, line: int) -> None:
        found.setdefault(name, []).append(line)

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                add(prefix + node.name, node.lineno)
                if isinstance(node, ast.ClassDef):
                    visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        add(prefix + target.id, node.lineno)
            elif isinstance(node, (ast.If, ast.Try)):  # definitions under if/try
                visit(node.body, prefix)

    visit(tree.body, "")
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            add(f'"{node.value}"', node.lineno)
    return found


def named(text: str) -> str | None:
    """The one name in backticks of a link's text (``"`blog.backward`"`` -> ``blog.backward``)."""
    names = re.findall(r"`([^`]+)`", text)
    return names[0].removeprefix("@").removesuffix("()") if len(names) == 1 else None


def _squeeze(text: str) -> str:
    return "".join(text.split())


def is_expression(name: str) -> bool:
    """Code rather than a name: ``g @ transforms[n].T``, not ``blog.backward`` or ``"relu"``."""
    return IDENTIFIER.match(name) is None


@functools.cache
def code_lines(source: Path) -> list[str]:
    """The lines of ``source`` as code: comments cut off, docstrings blanked (an equation
    link lands on the line that computes, not on a line that describes)."""
    text = source.read_text(encoding="utf-8")
    lines = [re.sub(r"(^|\s)#.*$", "", line) for line in text.splitlines()]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            if isinstance(node.value.value, str) and node.end_lineno is not None:
                for i in range(node.lineno - 1, node.end_lineno):
                    lines[i] = ""
    return lines


def spans_of(expression: str, source: Path) -> list[tuple[int, int]]:
    """Where ``expression`` is computed in ``source``: (first, last) line, 1-based, of each
    shortest run of at most MAX_SPAN lines whose code holds it, spaces aside."""
    lines, wanted = code_lines(source), _squeeze(expression)
    found = []
    for first in range(len(lines)):
        for span in range(1, MAX_SPAN + 1):
            if wanted in _squeeze(" ".join(lines[first : first + span])):
                # shortest: without its first line the run no longer holds it
                if wanted not in _squeeze(" ".join(lines[first + 1 : first + span])):
                    found.append((first + 1, first + span))
                break
    return found


def lands(expression: str, source: Path, first: int, last: int) -> bool:
    """Lines first..last (at most MAX_SPAN) start where ``expression`` is computed and
    hold all of it."""
    return last - first < MAX_SPAN and any(
        a == first and b <= last for a, b in spans_of(expression, source)
    )


def _anchor(first: int, last: int) -> str:
    return f"L{first}" if first == last else f"L{first}-L{last}"


def lines_of(name: str, source: Path) -> list[int]:
    """Where ``name`` is defined in ``source``: the longest dotted suffix of ``name`` that
    is a qualified name there (``blog.backward`` -> ``backward``), or a string constant."""
    table = definitions(source)
    if name.startswith('"'):
        return table.get(name, [])
    parts = name.split(".")
    for start in range(len(parts)):
        lines = table.get(".".join(parts[start:]))
        if lines:
            return lines
    return []


# ---------------------------------------------------------------- links
def _link_problem(page: Path, line: int, text: str, target: str) -> str | None:
    """What is wrong with one link, or None."""
    if re.match(r"^[a-z]+:", target):  # https:, mailto:
        return None
    path_part, _, fragment = target.partition("#")
    path = (page.parent / path_part).resolve() if path_part else page
    where = f"{_rel(page)}:{line}: [{text}]({target})"
    if not path.exists():
        return f"{where}: {path_part} does not exist"
    if ROOT not in path.parents and path != ROOT:
        return f"{where}: leads out of the repository"
    anchor = LINE_ANCHOR.match(fragment)
    if path.suffix == ".py" and anchor is None:
        if fragment or not re.search(r"\.py`?$|/`?$", text.strip()):
            return (
                f"{where}: a link to a source file either names the file in its text or "
                f"points at a line (#L<n>) with the name defined there in backticks"
            )
        return None
    if anchor is not None:
        name = named(text)
        if path.suffix != ".py":
            return f"{where}: line anchors are checked in .py files only"
        if name is None:
            return f"{where}: the link text must hold the linked name in backticks, once"
        first = int(anchor.group(1))
        last = int(anchor.group(2) or first)
        if is_expression(name):
            if not 0 <= last - first < MAX_SPAN:
                return f"{where}: a range covers 1 to {MAX_SPAN} lines, starting where it computes"
            if lands(name, path, first, last):
                return None
            places = " or ".join(f"#{_anchor(*span)}" for span in spans_of(name, path))
            at = f"it is at {places}" if places else f"{_rel(path)} does not compute it"
            return f"{where}: the linked line does not hold `{name}`; {at} ({FIX_HINT})"
        if anchor.group(2):
            return f"{where}: a name links to its one line (#L<n>), not a range"
        right = lines_of(name, path)
        if not right:
            return f"{where}: {name!r} is not defined in {_rel(path)}"
        if int(anchor.group(1)) not in right:
            lines = " or ".join(f"#L{n}" for n in right)
            return f"{where}: {name} is at {lines} ({FIX_HINT})"
        return None
    if fragment and path.suffix == ".md" and fragment not in headings(path):
        return f"{where}: {_rel(path)} has no heading #{fragment}"
    return None


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_links_lead_where_they_say(page):
    problems = [
        problem
        for line, text, target, _ in links(page)
        if (problem := _link_problem(page, line, text, target)) is not None
    ]
    assert not problems, "\n".join(problems)


def test_the_derivations_point_at_lines():
    """The pages that walk through the code link into it line by line."""
    for name in ("backprop.md", "convolution.md", "build-your-own.md", "guide.md", "attention.md"):
        anchored = [t for _, _, t, _ in links(ROOT / "docs" / name) if "#L" in t]
        assert len(anchored) >= 4, name


def test_the_link_check_can_fail(tmp_path):
    """A wrong line, a wrong name, a missing file and a bare function link are caught."""
    post = "../src/cartoonbrain/blog/post.py"
    right = lines_of("backward", ROOT / "src/cartoonbrain/blog/post.py")[0]
    page = ROOT / "docs" / "backprop.md"
    assert _link_problem(page, 1, "`backward`", f"{post}#L{right}") is None
    assert f"#L{right}" in str(_link_problem(page, 1, "`backward`", f"{post}#L{right + 1}"))
    assert "not defined" in str(_link_problem(page, 1, "`backwards`", f"{post}#L{right}"))
    assert "does not exist" in str(_link_problem(page, 1, "`x`", "../src/nothing.py#L1"))
    assert "names the file" in str(_link_problem(page, 1, "`backward`", post))
    assert "no heading" in str(_link_problem(page, 1, "x", "#no-such-heading"))


# ---------------------------------------------------------------- equations
def _blocks(text: str) -> list[tuple[str, list[str]]]:
    """The page as ("equation", lines) for indented blocks and ("prose", lines) for the
    paragraphs between them (fenced blocks already blanked)."""
    blocks: list[tuple[str, list[str]]] = []
    for chunk in re.split(r"\n[ \t]*\n", text):
        lines = [line for line in chunk.split("\n") if line.strip()]
        if not lines:
            continue
        kind = "equation" if all(line.startswith("    ") for line in lines) else "prose"
        if blocks and blocks[-1][0] == kind == "equation":
            blocks[-1][1].extend(lines)  # blank lines inside one display
        else:
            blocks.append((kind, lines))
    return blocks


def equation_links(lines: list[str]) -> list[str]:
    """The equation links (code in backticks, line-anchored into a .py) among ``lines``."""
    found = []
    for m in LINK.finditer("\n".join(lines)):
        name, target = named(m.group(2)), m.group(3)
        if name and is_expression(name) and ".py#L" in target:
            found.append(name)
    return found


EQUATION_PAGES = ("backprop.md", "convolution.md", "recurrent.md", "attention.md")


def unlinked_equations(page: Path) -> list[str]:
    """The first line of each displayed equation of ``page`` with no equation link in the
    paragraph just before or after it."""
    blocks = _blocks(_blank_fences(page.read_text(encoding="utf-8")))
    unlinked = []
    for i, (kind, lines) in enumerate(blocks):
        if kind != "equation":
            continue
        near = [blocks[j] for j in (i - 1, i + 1) if 0 <= j < len(blocks)]
        if not any(k == "prose" and equation_links(ls) for k, ls in near):
            unlinked.append(lines[0].strip())
    return unlinked


@pytest.mark.parametrize("name", EQUATION_PAGES)
def test_every_equation_links_to_the_line_that_computes_it(name):
    unlinked = unlinked_equations(ROOT / "docs" / name)
    assert not unlinked, f"docs/{name}: equations without an equation link beside them:\n" + (
        "\n".join(unlinked)
    )


def test_every_table_row_of_equations_links_to_its_lines():
    """convolution.md's table of equations: each row's link is an equation link."""
    text = (ROOT / "docs" / "convolution.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `") and "](" in line]
    assert rows and all(equation_links([row]) for row in rows), rows


def test_an_equation_link_that_drifts_fails_and_fix_finds_its_line_again(tmp_path):
    """A link whose line no longer holds its expression is caught (a def line is not
    enough), and --fix moves it to where the expression is now, keeping a range's length."""
    post = ROOT / "src/cartoonbrain/blog/post.py"
    page = ROOT / "docs" / "backprop.md"
    ((line, _),) = spans_of("g = weights[n].T @ g", post)
    target = "../src/cartoonbrain/blog/post.py"
    assert _link_problem(page, 1, "`g = weights[n].T @ g`", f"{target}#L{line}") is None
    drifted = _link_problem(page, 1, "`g = weights[n].T @ g`", f"{target}#L{line - 1}")
    assert f"it is at #L{line}" in str(drifted)
    (backward,) = lines_of("backward", post)
    assert "does not hold" in str(
        _link_problem(page, 1, "`g = weights[n].T @ g`", f"{target}#L{backward}")
    )
    ranged = f"{target}#L{line - 2}-L{line}"
    assert _link_problem(page, 1, "`g = g * grad_f(affines[n])`", ranged) is None
    assert "1 to 3 lines" in str(
        _link_problem(page, 1, "`g = g * grad_f(affines[n])`", f"{target}#L{line - 2}-L{line + 1}")
    )
    assert "does not compute it" in str(_link_problem(page, 1, "`g = g * nothing`", ranged))
    # a docstring that quotes the expression is not where it is computed
    assert spans_of("error = pred - label", ROOT / "src/cartoonbrain/blog/experiment.py")[0][0] > 30
    # --fix: a copy of the source with two lines added above, and a page linking the old lines
    moved = tmp_path / "src" / "post.py"
    moved.parent.mkdir()
    moved.write_text("# one\n# two\n" + post.read_text(encoding="utf-8"), encoding="utf-8")
    doc = tmp_path / "docs" / "page.md"
    doc.parent.mkdir()
    doc.write_text(
        f"[`g = weights[n].T @ g`](../src/post.py#L{line}) and "
        f"[`g = g * grad_f(affines[n])`](../src/post.py#L{line - 2}-L{line})\n",
        encoding="utf-8",
    )
    assert fix_anchors(doc) == 2
    assert doc.read_text(encoding="utf-8") == (
        f"[`g = weights[n].T @ g`](../src/post.py#L{line + 2}) and "
        f"[`g = g * grad_f(affines[n])`](../src/post.py#L{line}-L{line + 2})\n"
    )


# ---------------------------------------------------------------- the gradient check
def _words(text: str) -> str:
    return " ".join(text.split())


def test_the_gradient_check_is_what_backprop_md_says():
    """The formula and the threshold of gradcheck agree between backprop.md, the
    docstrings and what ``verbose`` prints, and the formula is what the code computes."""
    import importlib

    import numpy as np

    import cartoonbrain as cb

    module = importlib.import_module(
        "cartoonbrain.diagnostics.gradcheck"
    )  # cb.gradcheck is the function

    page = _words((ROOT / "docs" / "backprop.md").read_text(encoding="utf-8"))
    formula = "‖∇_analytic − ∇_numeric‖ / max(‖∇_analytic‖ + ‖∇_numeric‖, 1e-12)"
    assert formula in _words(module.__doc__ or "") and formula in page
    (threshold,) = [  # the flag's threshold: "ok" if error < threshold else "CHECK"
        node.comparators[0].value
        for node in ast.walk(ast.parse(Path(module.__file__).read_text(encoding="utf-8")))
        if isinstance(node, ast.Compare)
        and isinstance(node.left, ast.Name)
        and node.left.id == "error"
        and isinstance(node.comparators[0], ast.Constant)
    ]
    written = f"{threshold:.0e}".replace("e-0", "e-")  # 1e-06 -> 1e-6
    doc = _words(module.gradcheck.__doc__ or "")
    assert f"Below {written}" in doc and f"``CHECK`` from {written} up" in doc, doc
    assert f"Below {written} the gradients are right" in page
    assert f"From {written} up it prints `CHECK`" in page

    rng = np.random.default_rng(0)
    net = cb.Network([cb.Dense(3, 4, activation="tanh"), cb.Dense(4, 2)], dtype="float64")
    X, T = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    _, analytic = net.loss_and_gradients(X, T)
    numeric = module.numerical_gradients(net, X, T)
    errors = module.gradient_errors(net, X, T)
    for name, a, n in zip(errors, analytic, numeric):  # "layer1.W", ..., then "X"
        expected = np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-12)
        np.testing.assert_allclose(errors[name], expected, rtol=1e-6, atol=1e-15)


def test_the_printed_gradient_error_quoted_in_backprop_md_is_what_the_code_prints(capsys):
    """The comment beside the verbose gradcheck quotes its first line; the digits may differ
    a little from machine to machine, so the value must agree to a factor of 2."""
    import numpy as np

    import cartoonbrain as cb

    page = (ROOT / "docs" / "backprop.md").read_text(encoding="utf-8")
    (quoted,) = re.findall(r'verbose=True\)  # "(layer1\.W  relative error (\S+)  ok)"', page)
    rng = np.random.default_rng(0)
    net = cb.Network([cb.Dense(3, 4, activation="sigmoid"), cb.Dense(4, 2)], seed=0)
    X, T = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    cb.gradcheck(net, X, T, verbose=True)
    first = capsys.readouterr().out.splitlines()[0]
    printed = float(first.split()[3])
    assert first.startswith("layer1.W  relative error") and first.endswith("  ok")
    assert 0.5 < float(quoted[1]) / printed < 2, (quoted, first)


# ---------------------------------------------------------------- python blocks
def python_blocks(page: Path) -> list[tuple[int, str, bool]]:
    """(first line, source, runs) for each ```python block of ``page``."""
    found = []
    for first, info_string, body in _fenced(page.read_text(encoding="utf-8")):
        info = info_string.split()
        if info[:1] != ["python"]:
            continue
        if info[1:] not in ([], ["not-run"]):
            raise ValueError(f"{_rel(page)}: unknown fence ```{info_string}; use ```python not-run")
        found.append((first, body, info[1:] == []))
    return found


def _registries() -> list[dict]:
    from cartoonbrain import activations, initializers, losses, metrics, optimizers
    from cartoonbrain import onnx as cbonnx
    from cartoonbrain.layers import LAYERS
    from cartoonbrain.optimizers import schedules

    return [
        LAYERS,
        activations.ACTIVATIONS,
        activations._IN_PLACE,
        losses.LOSSES,
        optimizers.OPTIMIZERS,
        schedules.SCHEDULES,
        initializers.INITIALIZERS,
        metrics.METRICS,
        cbonnx.ACTIVATION_EXPORTERS,
        cbonnx.LAYER_EXPORTERS,
    ]


RUNNABLE = [page for page in DOCS if any(runs for _, _, runs in python_blocks(page))]


@pytest.mark.parametrize("page", RUNNABLE, ids=_rel)
def test_python_blocks_run(page, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # files the examples write land here
    namespace = {"__name__": "__docs__"}
    saved = [(table, dict(table)) for table in _registries()]
    try:
        for first, source, runs in python_blocks(page):
            if runs:  # padded so that a traceback names the page's own line
                code = compile("\n" * (first - 1) + source, str(page), "exec")
                exec(code, namespace)
    except ModuleNotFoundError as error:  # an optional extra (scikit-learn, ...) is missing
        if not error.name or error.name.split(".")[0] == "cartoonbrain":
            raise
        pytest.skip(f"{_rel(page)} needs {error.name}")
    finally:
        for table, entries in saved:
            table.clear()
            table.update(entries)
    capsys.readouterr()  # the examples print; keep the test output quiet


def test_the_guides_and_derivations_run_every_block():
    """The derivation and the guides have no block that is not run."""
    for name in ("backprop.md", "convolution.md", "build-your-own.md", "guide.md", "attention.md"):
        blocks = python_blocks(ROOT / "docs" / name)
        assert blocks and all(runs for _, _, runs in blocks), name


# ---------------------------------------------------------------- shell blocks
def shell_commands(page: Path) -> list[tuple[int, list[str]]]:
    """(line, argv after 'cartoonbrain') of each ``cartoonbrain`` command in shell blocks."""
    commands = []
    for first, info, body in _fenced(page.read_text(encoding="utf-8")):
        if info not in ("sh", "shell", "bash", "console"):
            continue
        joined = re.sub(r"\\\n", " ", body)  # continuation lines
        for offset, line in enumerate(joined.split("\n")):
            line = line.strip().removeprefix("$ ")
            if line.startswith("cartoonbrain "):
                argv = shlex.split(line, comments=True)
                commands.append((first + offset, argv[1:]))
    return commands


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_shell_commands_parse(page, capsys):
    from cartoonbrain.cli import build_parser

    parser = build_parser()
    for line, argv in shell_commands(page):
        try:
            parser.parse_args(argv)
        except SystemExit:
            pytest.fail(
                f"{_rel(page)}:{line}: cartoonbrain {shlex.join(argv)}: "
                f"{capsys.readouterr().err.strip()}"
            )


# ---------------------------------------------------------------- fixing anchors
def _nearest(spans: list[tuple[int, int]], line: int) -> list[tuple[int, int]]:
    """The one span nearest ``line`` when the expression is computed in several places
    (a forward and an inference pass written alike); all of them on a tie."""
    if len(spans) < 2:
        return spans
    distances = [abs(first - line) for first, _ in spans]
    best = [span for span, d in zip(spans, distances) if d == min(distances)]
    return best if len(best) == 1 else spans


def fix_anchors(page: Path) -> int:
    """Rewrite every #L<n> of ``page`` to its name's line when the name is defined once,
    and every equation link's to where its expression is computed (the place nearest the
    old anchor when there are several)."""
    text = page.read_text(encoding="utf-8")
    changed = 0

    def fix(m: re.Match[str]) -> str:
        nonlocal changed
        path_part, _, fragment = m.group(3).partition("#")
        name = named(m.group(2))
        if not LINE_ANCHOR.match(fragment) or name is None:
            return m.group(0)
        source = (page.parent / path_part).resolve()
        if source.suffix != ".py" or not source.exists():
            return m.group(0)
        if is_expression(name):
            old = LINE_ANCHOR.match(fragment)
            spans = _nearest(spans_of(name, source), int(old.group(1)) if old else 0)
            anchor = fragment
            if len(spans) == 1 and old is not None:  # a range keeps its length
                first, last = spans[0]
                length = int(old.group(2) or old.group(1)) - int(old.group(1))
                anchor = _anchor(first, max(last, min(first + length, first + MAX_SPAN - 1)))
        else:
            right = lines_of(name, source)
            anchor = f"L{right[0]}" if len(right) == 1 else fragment
        if anchor == fragment:
            return m.group(0)
        changed += 1
        return f"{m.group(1)}[{m.group(2)}]({path_part}#{anchor})"

    fixed = LINK.sub(fix, text)
    if changed:
        page.write_text(fixed, encoding="utf-8")
    return changed


if __name__ == "__main__":
    if sys.argv[1:] != ["--fix"]:
        sys.exit("usage: python tests/test_docs.py --fix")
    left = []
    for page in PAGES:
        if n := fix_anchors(page):
            print(f"{_rel(page)}: {n} anchors rewritten")
        definitions.cache_clear()
        left += [
            problem
            for line, text, target, _ in links(page)
            if (problem := _link_problem(page, line, text, target)) is not None
        ]
    # what --fix cannot mend: an expression no longer in the code (rewrite the link's text
    # to the new line's code), or one computed in several places equally far away
    for problem in left:
        print(f"still wrong: {problem}")
    sys.exit(1 if left else 0)
