"""Build-time pages of the graphrec documentation, generated from the code so they cannot drift.

- ``api/_generated/*.rst``: one page per layer, one autodoc entry for every name in the
  ``__all__`` of the layer's modules (an object exported in two places is documented once,
  where it is listed first, and linked from the other places);
- ``tutorials/*.ipynb``: the notebooks of ``notebooks/``, copied as stored (with their
  outputs; they are not executed at build time);
- the ``graphrec-models`` directive: every registered model with its parameters, defaults and
  one line each, from :func:`graphrec.models.registry.describe` (what ``graphrec models`` prints).
"""

from __future__ import annotations

import importlib
import inspect
import shutil
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive

DOCS = Path(__file__).resolve().parent.parent
ROOT = DOCS.parent

#: (page, title, intro, modules): the API reference, one page per layer. A new layer adds a row.
API_PAGES: list[tuple[str, str, str, list[str]]] = [
    ("graph", "Graph store", "The one heterogeneous store every layer reads, and its interop.",
     ["graphrec.graph", "graphrec.graph.interop", "graphrec.graph.ops", "graphrec.graph.times"]),
    ("data", "Datasets", "Loaders, splits, the named-dataset registry and download, the synthetic generator.",
     ["graphrec.data", "graphrec.data.synthetic", "graphrec.data.download", "graphrec.data.registry"]),
    ("eval", "Evaluation", "Metrics and the full-ranking protocol.", ["graphrec.eval"]),
    ("models", "Models", "The recommender interface, the registry, persistence and the built-in models.",
     ["graphrec.models", "graphrec.models.base", "graphrec.models.registry", "graphrec.models.persistence",
      "graphrec.models.embedding", "graphrec.models.baselines", "graphrec.models.gfcf", "graphrec.models.mf",
      "graphrec.models.lightgcn", "graphrec.models.rlmrec", "graphrec.models.hashing"]),
    ("train", "Training", "The BPR loop, samplers, early stopping, weight averaging, checkpoints.",
     ["graphrec.train", "graphrec.train.bpr"]),
    ("walks", "Walk engine", "The one vectorised random-walk engine.", ["graphrec.walks"]),
    ("rank", "Ranking by random walks", "Exact PPR, the PowerWalk index, its spectral tail, PPR recommenders.",
     ["graphrec.rank", "graphrec.rank.exact", "graphrec.rank.powerwalk", "graphrec.rank.spectral",
      "graphrec.rank.recommenders"]),
    ("text", "Text profiles", "Profiles from node metadata and their sentence embeddings (RLMRec).", ["graphrec.text"]),
    ("cluster", "Clustering", "Leiden / modularity clustering of the store (GraphHash's tables build on it).",
     ["graphrec.cluster"]),
    ("embed", "Node embeddings", "FastRP, IRWE and the registry of embedding methods, their evaluation and tuning.",
     ["graphrec.embed", "graphrec.embed.fastrp", "graphrec.embed.evaluate", "graphrec.embed.tune",
      "graphrec.embed.recommender", "graphrec.embed.irwe", "graphrec.embed.walkstats"]),
    ("social", "Social recommendation and Sybil resistance",
     "Personalized SALSA, MeritRank's decays and reputation, and the Sybil attack harness.",
     ["graphrec.social", "graphrec.social.salsa", "graphrec.social.meritrank", "graphrec.social.decays",
      "graphrec.social.reputation", "graphrec.social.reputation_model", "graphrec.social.view", "graphrec.attacks"]),
    ("distributed", "Ray cluster", "The local calls on a Ray cluster (``pip install 'graphrec[ray]'``).",
     ["graphrec.distributed", "graphrec.distributed.fastrp"]),
    ("utilities", "Command line, scoring and checks", "The ``graphrec`` command, batch scoring, input validators.",
     ["graphrec.cli", "graphrec.scoring", "graphrec.demo", "graphrec.checks"]),
]


def _data_home(modname: str, name: str, obj: Any) -> str | None:
    """Where the ``#:`` comment of a module-level constant is: the module that defines it (autodoc reads it there)."""
    import sys

    from sphinx.errors import PycodeError
    from sphinx.pycode import ModuleAnalyzer

    for mname in [modname, *sorted(m for m in sys.modules if m.startswith(modname + "."))]:
        mod = sys.modules.get(mname)
        if mod is None or getattr(mod, name, None) is not obj:
            continue
        try:
            docs = ModuleAnalyzer.for_module(mname).find_attr_docs()
        except PycodeError:  # a module without source
            docs = {}
        if ("", name) in docs:
            return f"{mname}.{name}"
    if _is_plain_value(obj):  # a string or tuple shows its value; a comment is welcome, not required
        return None
    raise RuntimeError(f"{modname}.{name}: no '#:' comment documents this constant where it is defined")


def _directive(qualname: str, obj: Any) -> tuple[str, list[str]]:
    """The name ``obj`` is documented under, and the autodoc directive that documents it."""
    if inspect.ismodule(obj):
        return obj.__name__, []
    if typing.get_origin(obj) is not None:  # a type alias such as tuple[str, str, str]
        modname, _, name = qualname.rpartition(".")
        home = _data_home(modname, name, obj)
        return home, [f".. autodata:: {home}", ""]
    if inspect.isclass(obj):
        kind = "autoexception" if issubclass(obj, BaseException) else "autoclass"
        return qualname, [f".. {kind}:: {qualname}", "   :members:", "   :show-inheritance:", ""]
    if callable(obj):
        return qualname, [f".. autofunction:: {qualname}", ""]
    modname, _, name = qualname.rpartition(".")
    home = _data_home(modname, name, obj)
    if home is None:  # a constant without a comment: its value, not the docstring of its type
        return qualname, [f".. py:data:: {name}", f"   :module: {modname}", f"   :value: {obj!r}", ""]
    lines = [f".. autodata:: {home}", "   :no-value:"] if _long(obj) or not _is_plain_value(obj) else [f".. autodata:: {home}"]
    return home, [*lines, ""]


def _long(obj: Any) -> bool:
    return len(repr(obj)) > 200


def _role(obj: Any) -> str:
    if typing.get_origin(obj) is not None:
        return "data"
    if inspect.ismodule(obj):
        return "mod"
    if inspect.isclass(obj):
        return "exc" if issubclass(obj, BaseException) else "class"
    return "func" if callable(obj) else "data"


def generate_api(out: Path) -> list[str]:
    """Write the API pages into ``out``; the page names."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.rst"):
        old.unlink()
    seen: dict[int, str] = {}  # id(object) -> documented qualified name
    seen_values: dict[tuple[str, str], str] = {}  # (name, repr) of a constant -> documented qualified name
    pages: dict[str, str] = {}
    for page, title, intro, modules in API_PAGES:
        lines = [title, "=" * len(title), "", intro, ""]
        for modname in modules:
            mod: ModuleType = importlib.import_module(modname)
            lines += [f"``{modname}``", "-" * (len(modname) + 4), "", f".. automodule:: {modname}", "   :no-members:"]
            parent, _, leaf = modname.rpartition(".")
            if parent and getattr(importlib.import_module(parent), leaf, mod) is not mod:
                # the package exports an object of the same name (graphrec.embed.fastrp, a function):
                # that object owns the name, the module is shown without a target of its own
                lines.append("   :no-index:")
            lines.append("")
            also = []
            for name in mod.__all__:
                obj = getattr(mod, name)
                qual = f"{modname}.{name}"
                if not inspect.ismodule(obj) and id(obj) in seen and not _is_plain_value(obj):
                    also.append(f":py:{_role(obj)}:`{name} <{seen[id(obj)]}>`")
                    continue
                if _is_plain_value(obj) and (name, repr(obj)) in seen_values:
                    also.append(f":py:data:`{name} <{seen_values[name, repr(obj)]}>`")
                    continue
                documented, directive = _directive(qual, obj)
                if _is_plain_value(obj):
                    seen_values[name, repr(obj)] = documented
                else:
                    seen[id(obj)] = documented
                lines += directive
            if also:
                lines += ["Also exported here: " + ", ".join(also) + ".", ""]
        pages[page] = "\n".join(lines)
    # the top-level package: links to where each name is documented
    import graphrec

    top = ["The ``graphrec`` package", "=" * 24, "", ".. automodule:: graphrec", "   :no-members:", "",
           "``import graphrec as gr`` gives these names; each links to its documentation.", "",
           ".. list-table::", "   :header-rows: 1", "", "   * - name", "     - what it is"]
    for name in graphrec.__all__:
        obj = getattr(graphrec, name)
        if inspect.ismodule(obj):
            target = f":py:mod:`gr.{name} <{obj.__name__}>`"
            what = (inspect.getdoc(obj) or "").split("\n", 1)[0]
        elif name == "__version__":
            target, what = "``gr.__version__``", f"the version, ``{obj}``"
        else:
            where = seen_values.get((name, repr(obj))) if _is_plain_value(obj) else seen.get(id(obj))
            if where is None:
                raise RuntimeError(f"graphrec.{name} is not documented on any API page: add its module to API_PAGES")
            target = f":py:{_role(obj)}:`gr.{name} <{where}>`"
            what = (inspect.getdoc(obj) or "").split("\n", 1)[0] if not _is_plain_value(obj) else f"``{obj!r}``"
        top += [f"   * - {target}", f"     - {what or ' '}"]
    pages = {"graphrec": "\n".join(top) + "\n", **pages}
    for page, text in pages.items():
        (out / f"{page}.rst").write_text(text + "\n", encoding="utf-8")
    DOCUMENTED.clear()
    DOCUMENTED.update(seen)
    return list(pages)


#: id(object) -> the name it is documented under, filled by :func:`generate_api`
DOCUMENTED: dict[int, str] = {}


def _resolve_alias(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """A reference to an object by another of its paths (``graphrec.data.splits.random_holdout``,
    ``graphrec.evaluate``) links to where the object is documented (``graphrec.data.random_holdout``)."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("graphrec"):
        return None
    obj = _lookup(target)
    documented = DOCUMENTED.get(id(obj)) if obj is not None and not _is_plain_value(obj) else None
    if documented is None and "." in target:  # a method or attribute of a class documented elsewhere
        owner, _, attr = target.rpartition(".")
        parent = _lookup(owner)
        if inspect.isclass(parent) and id(parent) in DOCUMENTED:
            documented = f"{DOCUMENTED[id(parent)]}.{attr}"
    if documented is None or documented == target:
        return None
    domain = env.get_domain("py")
    for typ in (node["reftype"], "obj"):
        new = domain.resolve_xref(env, node["refdoc"], app.builder, typ, documented, node, contnode)
        if new is not None:
            return new
    return None


def _lookup(dotted: str) -> Any:
    """The object at a dotted path (a module, or attributes of one), or None."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                return None
        return obj
    return None


def _is_plain_value(obj: Any) -> bool:
    """Strings, numbers and tuples of them: equal values are not one object to document once."""
    return isinstance(obj, (str, int, float, tuple)) and not callable(obj)


def copy_notebooks(out: Path) -> list[str]:
    """Copy ``notebooks/*.ipynb`` (stored with outputs) into ``out``; their names."""
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        target = out / nb.name
        if not target.exists() or target.read_bytes() != nb.read_bytes():
            shutil.copyfile(nb, target)
        names.append(nb.stem)
    return names


def _inline(text: str) -> list[nodes.Node]:
    """``text`` with its ``literals`` and :role:`targets` as literal nodes (the rest plain text)."""
    import re

    out: list[nodes.Node] = []
    pos = 0
    for m in re.finditer(r"``(.+?)``|:\w+:`~?([^`]+?)`", text):
        if m.start() > pos:
            out.append(nodes.Text(text[pos:m.start()]))
        literal = m.group(1) if m.group(1) is not None else m.group(2).rsplit(".", 1)[-1]
        out.append(nodes.literal(literal, literal))
        pos = m.end()
    if pos < len(text):
        out.append(nodes.Text(text[pos:]))
    return out


def _row(*cells: list[nodes.Node]) -> nodes.row:
    row = nodes.row()
    for content in cells:
        entry = nodes.entry()
        entry += nodes.paragraph("", "", *content)
        row += entry
    return row


class ModelsDirective(Directive):
    """``.. graphrec-models:: [NAME ...]``: each named model (default: every registered one), a table of its parameters.

    Built as docutils nodes, so it reads the same in reStructuredText and MyST pages.
    """

    has_content = False
    optional_arguments = 50

    def run(self) -> list[nodes.Node]:
        from graphrec.models.registry import available, describe

        out: list[nodes.Node] = []
        for name in self.arguments or available():
            summary, params = describe(name)
            out.append(nodes.rubric("", "", nodes.literal(name, name)))
            out.append(nodes.paragraph("", "", *_inline(summary)))
            if not params:
                out.append(nodes.paragraph(text="No parameters."))
                continue
            table = nodes.table(classes=["graphrec-params"])
            group = nodes.tgroup(cols=3)
            for width in (20, 15, 65):
                group += nodes.colspec(colwidth=width)
            head = nodes.thead()
            head += _row([nodes.Text("parameter")], [nodes.Text("default")], [nodes.Text("meaning")])
            body = nodes.tbody()
            for p in params:
                default = "(required)" if p.default is inspect.Parameter.empty else repr(p.default)
                body += _row([nodes.literal(p.name, p.name)], [nodes.literal(default, default)], _inline(p.doc))
            group += head
            group += body
            table += group
            out.append(table)
        return out


def _on_builder_inited(app: Any) -> None:
    generate_api(DOCS / "api" / "_generated")
    copy_notebooks(DOCS / "tutorials")


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _on_builder_inited)
    app.add_directive("graphrec-models", ModelsDirective)
    app.connect("missing-reference", _resolve_alias)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
