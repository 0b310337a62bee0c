"""Name -> recommender class registry used by the CLI and ``graphrec.models.create``.

Each later layer registers its models here, so ``graphrec evaluate --model NAME`` and
``graphrec score`` find them without the CLI knowing about every module. The built-in models
register on first use (:func:`create`, :func:`available`), which keeps ``import graphrec``
light: read :data:`REGISTRY` through :func:`available`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .base import Recommender

__all__ = ["REGISTRY", "ModelParam", "available", "create", "describe", "parse_params", "register"]

#: model name -> factory (a :class:`~graphrec.models.base.Recommender` class); read it through :func:`available`
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
    allowed = {p.name for p in _accepted(sig)}
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


def _accepted(sig: inspect.Signature) -> list[inspect.Parameter]:
    """The parameters :func:`create` accepts: every keyword after ``graph`` except ``etype``."""
    named = list(sig.parameters.values())[1:]  # after graph
    kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p for p in named if p.kind in kinds and p.name != "etype"]


@dataclass(frozen=True)
class ModelParam:
    """One parameter of a registered model, as :func:`create` accepts it.

    Attributes
    ----------
    name : str
        The keyword (``--param name=value`` on the command line).
    default : Any
        Its default value (:data:`inspect.Parameter.empty` when it has none).
    annotation : str
        The type annotation as written in the signature ('' when there is none).
    doc : str
        The first line of its description in the model's numpydoc ``Parameters`` section
        ('' when the docstring does not describe it).
    """

    name: str
    default: Any
    annotation: str
    doc: str


def _param_docs(obj: Any, _seen: set[int] | None = None) -> dict[str, str]:
    """``{name: first sentence of its description}`` from the numpydoc ``Parameters`` sections of ``obj``.

    The bases' sections count too, and a description that refers to another class
    (``As in :class:`~graphrec.models.mf.MF```) takes that class's description.
    """
    seen = set() if _seen is None else _seen
    if id(obj) in seen:
        return {}
    seen.add(id(obj))
    out: dict[str, str] = {}
    for klass in getattr(obj, "__mro__", (obj,)):
        doc = inspect.getdoc(klass) or ""
        section = re.search(r"^Parameters\n-+\n(.*?)(?=^\S[^\n]*\n-+\n|\Z)", doc, flags=re.MULTILINE | re.DOTALL)
        if section is None:
            continue
        lines = section.group(1).splitlines()
        i = 0
        while i < len(lines):
            header = lines[i]
            i += 1
            if not header or header[0].isspace():
                continue
            while header.rstrip().endswith(",") and i < len(lines) and lines[i][:1].strip():
                header += " " + lines[i].strip()  # a list of names continued on the next line
                i += 1
            block = []
            while i < len(lines) and (not lines[i] or lines[i][0].isspace()):
                block.append(lines[i].strip())
                i += 1
            names = [n.strip() for n in header.split(" : ")[0].rstrip(":").split(",") if n.strip()]
            kind = header.split(" : ", 1)[1] if " : " in header else ""
            text = " ".join(b for b in block if b)
            ref = re.search(r"as (?:in )?:class:`~?([\w.]+)`", f"{kind} {text}", flags=re.IGNORECASE)
            if ref is not None:  # "As in :class:`~graphrec.models.mf.MF`": that class describes these names
                target = _resolve(ref.group(1), klass)
                # a copy of seen: two groups of names may cite the same class
                inherited = _param_docs(target, set(seen)) if target is not None else {}
                for n in names:
                    if inherited.get(n):
                        out.setdefault(n, inherited[n])
            sentence = re.split(r"(?<=\.)\s", text, maxsplit=1)[0] if text else ""
            # the signature gives the default; a "(default 1e-3)" of a base class could contradict it
            sentence = re.sub(r"\s*\(default[^()]*\)|\s*Default [^.]*\.", "", sentence).strip()
            for n in names:
                out.setdefault(n, sentence)
    return out


def _resolve(dotted: str, context: Any) -> Any:
    """The object a dotted path names (a bare name: in the module of ``context``), or None."""
    import importlib
    import sys

    module, _, attr = dotted.rpartition(".")
    try:
        mod = importlib.import_module(module) if module else sys.modules[context.__module__]
        return getattr(mod, attr)
    except (ImportError, AttributeError, ValueError, KeyError):
        return None


def describe(name: str) -> tuple[str, list[ModelParam]]:
    """The one-line summary of model ``name`` and the parameters :func:`create` accepts for it.

    Read from the same signature that :func:`create` validates, so the list cannot drift from
    what ``--param`` accepts; descriptions come from the numpydoc ``Parameters`` sections.

    Returns
    -------
    summary : str
        The first line of the model's docstring.
    params : list of ModelParam
        In signature order.

    Raises
    ------
    ValueError
        For an unknown model name.
    """
    _load_builtin_models()
    if name not in REGISTRY:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(sorted(REGISTRY))}")
    factory = REGISTRY[name]
    summary = (inspect.getdoc(factory) or "").strip().split("\n", 1)[0]
    docs = _param_docs(factory)
    params = []
    for p in _accepted(inspect.signature(factory)):
        ann = p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", "")
        ann = "" if p.annotation is inspect.Parameter.empty else str(ann)
        params.append(ModelParam(p.name, p.default, ann, docs.get(p.name, "")))
    return summary, params


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
    "graphrec.embed.recommender",
    "graphrec.social.salsa",
    "graphrec.social.meritrank",
    "graphrec.embed.irwe",
]
