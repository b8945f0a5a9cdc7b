"""Pillow's ``PIL.Image`` and ``PIL.ImageFont``, loaded only when something uses them.

python-pptx imports both at start (``pptx.parts.image`` for pictures, ``pptx.text.layout`` for
``fit_text``), and the decks use neither: they draw no picture and measure their own text
(``reports.deck.tables``). Those imports build Pillow's EXIF tag tables and cost 0.1-0.15 s of
every `dxbot deck` (README, bench_deck). The standard library's ``importlib.util.LazyLoader``
puts in their place a module that runs Pillow's code on first use, so a deck that ever adds a
picture or fits text still gets the real modules. Imported first by ``reports.deck``, before
python-pptx.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

DEFERRED = ("PIL.Image", "PIL.ImageFont")


def defer(name: str) -> None:
    """``name`` (a submodule) in ``sys.modules`` and on its package, not yet executed."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    # ``from PIL import Image`` then finds it on the package without asking the import system,
    # which would read the module's ``__spec__`` and so execute it.
    package, _, attr = name.rpartition(".")
    setattr(importlib.import_module(package), attr, module)


for _name in DEFERRED:
    defer(_name)
