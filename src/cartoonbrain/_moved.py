"""Module paths of 0.1.0 that moved in 0.2.0, kept importable for this version.

0.2.0 put the modules into packages named for their level (docs/architecture.md). A user's
``import cartoonbrain.csvdata`` or ``from cartoonbrain.preprocessing import Preprocessor``
still works: the old name is served by the module at its new place, with a
``DeprecationWarning`` that names the new path. The public names (``cb.Preprocessor``,
``cb.datasets``, ``cb.gradcheck``, ...) did not move. Two old paths stay without a
warning, being documented for this version: ``cartoonbrain.gradcheck`` (``cb.gradcheck``
is also the function) and ``cartoonbrain.datasets`` (``cb.datasets``).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import ModuleType

#: old path -> where it lives now
MOVED = {
    "cartoonbrain.architecture": "cartoonbrain.network.architecture",
    "cartoonbrain.bucketsort": "cartoonbrain.data.bucketsort",
    "cartoonbrain.builders": "cartoonbrain.network.builders",
    "cartoonbrain.checks": "cartoonbrain.data.checks",
    "cartoonbrain.csvcolumns": "cartoonbrain.data.csvcolumns",
    "cartoonbrain.csvdata": "cartoonbrain.data.csvdata",
    "cartoonbrain.datasets": "cartoonbrain.data.datasets",
    "cartoonbrain.fused_predict": "cartoonbrain.network.fused_predict",
    "cartoonbrain.gradcheck": "cartoonbrain.diagnostics.gradcheck",
    "cartoonbrain.legacy_pickle": "cartoonbrain.saving.legacy_pickle",
    "cartoonbrain.model_file": "cartoonbrain.saving.model_file",
    "cartoonbrain.network_state": "cartoonbrain.saving.network_state",
    "cartoonbrain.optimizer_state": "cartoonbrain.saving.optimizer_state",
    "cartoonbrain.prediction": "cartoonbrain.network.prediction",
    "cartoonbrain.preprocessing": "cartoonbrain.data.preprocessing",
    "cartoonbrain.readable": "cartoonbrain.data.readable",
    "cartoonbrain.schedules": "cartoonbrain.optimizers.schedules",
    "cartoonbrain.stream": "cartoonbrain.data.stream",
    "cartoonbrain.streamstats": "cartoonbrain.data.streamstats",
    "cartoonbrain.summary": "cartoonbrain.network.summary",
}
#: documented old paths served without a warning (see the module's docstring)
QUIET = ("cartoonbrain.gradcheck", "cartoonbrain.datasets")


class MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves each old path of :data:`MOVED` with the module at its new place."""

    def __init__(self) -> None:
        self._specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = MOVED[spec.name]
        warnings.warn(
            f"{spec.name} moved to {new} in cartoonbrain 0.2.0; import it from there "
            "(the old path goes in 0.3.0)",
            DeprecationWarning,
            stacklevel=4,
        )
        module = importlib.import_module(new)
        self._specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        """The module at the new place has run already; the import system has just given
        it the old name's spec, which would make its own relative imports resolve (and
        warn) as if it lived at the old place: its spec is put back."""
        for old, spec in self._specs.items():
            if module.__name__ == MOVED[old]:
                module.__spec__ = spec


def install() -> None:
    """Serve the old paths (once); the quiet ones are put in place now."""
    if not any(isinstance(finder, MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(MovedModules())
    for old in QUIET:
        sys.modules.setdefault(old, importlib.import_module(MOVED[old]))
