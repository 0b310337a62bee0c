"""Name -> recommender class registry used by the CLI and ``graphrec.models.create``.

Each later layer registers its models here, so ``graphrec evaluate --model NAME`` and
``graphrec score`` find them without the CLI knowing about every module. The built-in models
register on first use (:func:`create`, :func:`available`), which keeps ``import graphrec``
light: read :data:`REGISTRY` through :func:`available`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .base import Recommender

__all__ = ["REGISTRY", "available", "create", "parse_params", "register"]

REGISTRY: dict[str, Callable[..., Recommender]] = {}


def register(name: str, factory: Callable[..., Recommender]) -> None:
    """Register ``factory(graph=None, *, param=default, ...)`` under ``name``.

    :func:`create` accepts the parameters ``factory`` names after ``graph`` and refuses any
    other name (``**params`` is not read: a factory that forwards keywords must list them, or
    set a ``__signature__`` that does).
    """
    REGISTRY[name] = factory


def available() -> list[str]:
    """Names of every registered model, the built-ins included (sorted)."""
    _load_builtin_models()
    return sorted(REGISTRY)


def _coerce(value: str) -> Any:
    """A ``--param`` value: bool, None, int, float, a comma-separated list of numbers, or the string."""
    if "," in value:
        parts = [_coerce(v.strip()) for v in value.split(",")]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in parts):
            return parts
        return value
    low = value.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def parse_params(pairs: list[str] | None) -> dict[str, Any]:
    """``["dim=64", "lr=1e-3", "reg=1e-3,2e-3"]`` -> ``{"dim": 64, "lr": 0.001, "reg": [0.001, 0.002]}``; malformed pairs raise."""
    out: dict[str, Any] = {}
    for p in pairs or []:
        key, sep, value = p.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--param expects key=value, got {p!r}")
        if key.strip() in out:
            raise ValueError(f"--param {key.strip()} is given twice; give each parameter once")
        out[key.strip()] = _coerce(value.strip())
    return out


def create(name: str, graph: Any = None, **params: Any) -> Recommender:
    """Instantiate model ``name`` with ``params``; unknown names or params raise ``ValueError``."""
    _load_builtin_models()
    if name not in REGISTRY:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(sorted(REGISTRY))}")
    factory = REGISTRY[name]
    sig = inspect.signature(factory)
    if "lambda" in params and "lam" in sig.parameters:  # `lambda` is a Python keyword: accept it on the CLI
        params = {("lam" if k == "lambda" else k): v for k, v in params.items()}
    named = list(sig.parameters.values())[1:]  # after graph
    allowed = {p.name for p in named if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)}
    allowed -= {"etype"}
    rep = "reputation" in params and "reputation" not in allowed  # any model: graphrec.social.reputation_model
    if rep and params["reputation"] is None:
        params = {k: v for k, v in params.items() if k != "reputation"}
        rep = False
    if rep:
        from ..social.reputation_model import REPUTATION_PARAMS, wrap

        allowed |= set(REPUTATION_PARAMS)
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)} for model {name!r}; accepted: {', '.join(sorted(allowed)) or 'none'}")
    if rep:
        return wrap(factory, graph, dict(params))
    return factory(graph, **params)


_BUILTINS_LOADED = False


def _load_builtin_models() -> None:
    """Import the modules that register built-in models (lazy: keeps ``import graphrec`` light)."""
    global _BUILTINS_LOADED
    if _BUILTINS_LOADED:
        return
    _BUILTINS_LOADED = True
    from . import baselines

    register("mostpop", baselines.MostPop)
    register("itemknn", baselines.ItemKNN)
    for module in _EXTRA_MODEL_MODULES:
        try:
            __import__(module)
        except ImportError as e:
            if str(e).startswith("No module named 'graphrec"):
                raise  # a broken graphrec module is a bug, not a missing optional dependency
            # an optional layer whose third-party dependency is absent: its models stay unregistered


#: modules that call ``register`` at import time; each layer adds its own line
_EXTRA_MODEL_MODULES: list[str] = [
    "graphrec.rank.recommenders",
    "graphrec.models.gfcf",
    "graphrec.models.mf",
    "graphrec.models.lightgcn",
    "graphrec.models.rlmrec",
    "graphrec.social.salsa",
    "graphrec.social.meritrank",
]
