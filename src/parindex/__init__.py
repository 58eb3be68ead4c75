"""parindex: reproducible reports on Vietnam's provincial PAR INDEX and SIPAS.

The package is in wings, each importing only the ones below it (docs/architecture.md):
``data`` <- ``infer`` <- ``render`` <- ``build`` <- ``export`` and ``cli``, with ``errors`` and
``proc`` under all of them. ``Report``, ``Review`` and ``Brief`` (the notebooks' sections) are
importable from here.
"""

from __future__ import annotations

import sys

# Nothing else at the top: this runs first in every parindex process, before the command takes
# over the stop signals (parindex.__main__), and a Ctrl-C meanwhile is Python's traceback.
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from .render.sections import Brief, Report, Review

    __version__: str

__all__ = ["__version__", "Report", "Review", "Brief"]

_SECTIONS = ("Report", "Review", "Brief")


def __dir__() -> list[str]:
    return sorted({*globals(), "__version__", *_SECTIONS})


def __getattr__(name: str):
    # Lazy: ``import parindex`` stays light for the command line (the sections pull in matplotlib,
    # the version importlib.metadata: 16 ms of a command's first moments, see parindex.__main__).
    if name in _SECTIONS:
        from .render import sections

        return getattr(sections, name)
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("parindex")
        except PackageNotFoundError:  # running from a source tree without installation
            found = "0+unknown"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The modules' paths before the layout of issue 21. Until the next release ``import
# parindex.inference`` and the like give the moved module itself (the same object, so a
# monkeypatch on the old path patches what the code uses), with a DeprecationWarning. They are
# resolved by a finder rather than by files at the old paths so that git sees every move as a
# rename and branches that edited a module before the move merge into its new place.
MOVED = {
    "analysis": "infer.analysis", "audit": "infer.audit", "brief": "infer.profile",
    "briefs": "build.briefs", "cache": "infer.cache", "charts": "render.charts",
    "classify": "infer.classify", "collate": "data.collate", "datapackage": "data.datapackage",
    "execute": "build.execute", "exports": "build.parts", "gcpause": "proc.gcpause",
    "htmltable": "render.htmltable", "inference": "infer.inference", "kernel": "build.kernel",
    "labels": "data.labels", "lifecycle": "proc.lifecycle", "loading": "data.loading",
    "maps": "render.maps", "pages": "render.pages", "parameters": "build.parameters",
    "paths": "data.paths", "pdf": "render.pdf", "publish": "build.publish",
    "registry": "data.registry", "report": "build.report", "review": "infer.review",
    "sections": "render.sections", "startup": "proc.startup", "tables": "data.tables",
    "tidy": "export", "trends": "infer.trends", "years": "build.years",
}


# A finder and loader by its methods alone (the import system asks for no base class):
# importlib.abc took 21 ms of every process's first import of parindex.
class _MovedFinder:
    def __init__(self) -> None:
        self._own_specs: dict[int, object] = {}

    def find_spec(self, fullname, path=None, target=None):
        pkg, _, old = fullname.partition(".")
        if pkg != __name__ or old not in MOVED:
            return None
        import importlib.util

        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        old = spec.name.partition(".")[2]
        new = f"{__name__}.{MOVED[old]}"
        import importlib
        import warnings

        warnings.warn(f"{spec.name} moved to {new}; the old path goes in the next release",
                      DeprecationWarning, stacklevel=2)
        module = importlib.import_module(new)
        self._own_specs[id(module)] = module.__spec__
        return module

    def exec_module(self, module):
        # the import system has just set __spec__ to the old name's: the module keeps its own
        module.__spec__ = self._own_specs.pop(id(module))


# by name: a reload of this module makes a new class, and its finder must not be added twice
if not any(type(f).__module__ == __name__ and type(f).__name__ == "_MovedFinder" for f in sys.meta_path):
    sys.meta_path.append(_MovedFinder())
