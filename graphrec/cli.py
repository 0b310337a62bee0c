"""The ``graphrec`` command: ``demo``, ``evaluate``, ``fit``, ``score``, ``embed``, ``models`` and ``datasets``.

Every model registered in :mod:`graphrec.models.registry` is available by name. Bad input
(unknown model or parameter, malformed files, missing data, NaN weights, unknown ids) exits
with status 2 and a one-line ``graphrec: error: ...`` message, never a traceback (pass
``--debug`` to see one).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any, NoReturn

import torch

__all__ = ["build_parser", "main"]


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


# ---------------------------------------------------------------------- helpers
def _device(name: str) -> torch.device:
    from .graph.store import store_device

    if name.startswith("cuda") and not torch.cuda.is_available():
        raise CliError(f"--device {name}: CUDA is not available on this machine")
    try:
        return store_device(name)
    except ValueError as err:
        raise CliError(f"--device: {err}") from None


def _ks(text: str) -> list[int]:
    try:
        ks = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise CliError(f"--k expects integers like 20 or 20,50; got {text!r}") from None
    if not ks or ks[0] < 1:
        raise CliError(f"--k values must be positive; got {text!r}")
    return ks


#: the edge-table options of every subcommand that reads data: flag -> load_edge_table keyword
TABLE_OPTIONS = {"--user-col": "user_col", "--item-col": "item_col", "--weight-col": "weight_col",
                 "--time-col": "time_col", "--sep": "sep"}


def _table_options(args: argparse.Namespace) -> dict[str, str]:
    """The edge-table options given on the command line, as :func:`~graphrec.data.load_edge_table` keywords."""
    out = {}
    for key in TABLE_OPTIONS.values():
        value = getattr(args, key, None)
        if value is not None:
            if key == "sep":
                value = {"\\t": "\t", "tab": "\t", "space": " "}.get(value, value)
            out[key] = value
    return out


def _load_data(spec: str, seed: int, device: torch.device, table: dict[str, str] | None = None) -> Any:
    from .data import load
    from .data.registry import TABLE_SUFFIXES

    kwargs: dict[str, Any] = {}
    is_table = spec.lower().endswith(TABLE_SUFFIXES) or (Path(spec).is_file() and not spec.lower().endswith(".mat"))
    if table:
        if not is_table:
            flag = next(f for f, k in TABLE_OPTIONS.items() if k in table)
            raise CliError(f"{flag} applies to an edge table (a .csv/.tsv/.parquet file), not to --data {spec}")
        kwargs.update(table)
    if spec == "synthetic" or is_table:  # split drawn with the seed
        kwargs["seed"] = seed
    try:
        data = load(spec, **kwargs)
    except ValueError as err:
        if is_table and "missing column(s)" in str(err):
            raise CliError(f"{err} (name them with --user-col, --item-col, --weight-col, --time-col)") from None
        raise
    if not hasattr(data, "test"):
        raise CliError(f"--data {spec}: this dataset has no train/test split of user-item interactions")
    return data.to(device)


def _make_model(name: str, params: dict[str, Any], seed: int) -> Any:
    import inspect

    from .models.registry import REGISTRY, _load_builtin_models, create

    _load_builtin_models()
    factory = REGISTRY.get(name)
    if factory is not None and "seed" in inspect.signature(factory).parameters and "seed" not in params:
        params = {**params, "seed": seed}
    return create(name, **params), params


def _fit(model: Any, data: Any) -> float:
    t0 = time.perf_counter()
    model.fit(data)
    if model.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def _training_summary(model: Any) -> dict[str, Any] | None:
    """What a trained model's fit did (epochs, early stopping, validation curve, time budget, refit), if it trains."""
    from .train.bpr import TrainResult

    result = getattr(model, "result", None)
    if not isinstance(result, TrainResult):
        return None
    refit = getattr(model, "refit_result", None)
    metric = next((k for h in result.history for k in h if "@" in k), None)  # the early-stopping metric, e.g. ndcg@20
    out = {
        "epochs_run": result.epochs_run, "best_epoch": result.best_epoch if result.best_epoch > 0 else None,
        "stopped_early": result.stopped_early,
        "stopped_by_time": result.stopped_by_time or (refit is not None and refit.stopped_by_time),
        "epoch_seconds": None if math.isnan(result.epoch_seconds) else round(result.epoch_seconds, 3),
        "refit_epochs": None if refit is None else refit.epochs_run,
        # whether the served weights are the refit's (a refit skipped or cut short by max_minutes is not served)
        "refit_served": None if refit is None else not refit.stopped_by_time,
        "best_valid": None if math.isnan(result.best_metric) else round(result.best_metric, 6),
        "valid_metric": metric,
        "valid_curve": [[h["epoch"], round(v, 6)] for h in result.history for k, v in h.items() if "@" in k],
    }
    selection = getattr(model, "selection", None)
    if selection:  # a hyper-parameter chosen on validation: every candidate's best score and epoch
        name = next(iter(selection[0]))
        out["chosen"] = {name: next(row[name] for row in selection if row["chosen"])}
        out["candidates"] = [{name: row[name], "best_valid": None if math.isnan(row["valid_metric"]) else round(row["valid_metric"], 6),
                              "best_epoch": row["best_epoch"] if row["best_epoch"] > 0 else None} for row in selection]
    return out


def _describe_training(t: dict[str, Any]) -> str:
    text = f"{t['epochs_run']} epochs"
    if t["best_epoch"] is not None:
        text += f" (best {t['best_epoch']}{', stopped early' if t['stopped_early'] else ''})"
    if t["best_valid"] is not None:
        text += f" · best validation {t['valid_metric'] or 'score'} {t['best_valid']:.4f}"
    if t["refit_served"]:
        text += f", refit on all of train for {t['refit_epochs']}"
    elif t["refit_epochs"]:
        text += f", refit cut short after {t['refit_epochs']} of {t['best_epoch']} (the early-stopped weights are served)"
    elif t["refit_epochs"] is not None:
        text += ", refit skipped (the early-stopped weights are served)"
    if t["epoch_seconds"] is not None:
        text += f" · {t['epoch_seconds']:.2f}s/epoch"
    if t["stopped_by_time"]:
        text += " · cut short by max_minutes"
    if "chosen" in t:
        (name, value), = t["chosen"].items()
        tried = ", ".join(f"{c[name]:g}: {c['best_valid']}" for c in t["candidates"])
        text += f" · {name} {value:g} chosen on validation ({tried})"
    return text


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinite floats as None: JSON (RFC 8259) has no NaN."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


# ------------------------------------------------------------------- commands
def cmd_evaluate(args: argparse.Namespace) -> int:
    from .eval import evaluate
    from .models.embedding import table_summary
    from .models.registry import parse_params

    _require(args, "data", "model")
    device = _device(args.device)
    ks = _ks(args.k)
    params = parse_params(args.param)
    data = _load_data(args.data, args.seed, device, _table_options(args))
    model, params = _make_model(args.model, params, args.seed)
    fit_s = _fit(model, data)
    report = evaluate(model, data, k=ks, progress=not args.json)
    result: dict[str, Any] = {
        "dataset": data.name,
        "model": args.model,
        "params": params,  # as given
        "fitted_params": model.params(),  # every parameter after fit: defaults, and values chosen on validation (gfcf's 'auto')
        "users": len(report.users),
        **{k: round(v, 6) for k, v in report.metrics.items()},
        "fit_seconds": round(fit_s, 3),
        "eval_seconds": round(report.seconds, 3),
        "device": str(device),
    }
    tables = table_summary(model)
    if tables is not None:  # the table's size next to the metrics (a compressed table's saving)
        result.update(tables)
    training = _training_summary(model)
    if training is not None:
        result["training"] = training
    if args.json:
        print(json.dumps(_finite(result), allow_nan=False))
    else:
        print(f"{data.name} · {args.model}{f' {params}' if params else ''} · {len(report.users)} test users · device {device}")
        for key, val in report.metrics.items():
            print(f"  {key:<14} {val:.4f}")
        print(f"  fit {fit_s:.2f}s · eval {report.seconds:.2f}s")
        if tables is not None:
            print(f"  parameters {tables['num_parameters']:,} · table {tables['table_rows']:,} rows for "
                  f"{tables['table_entities']:,} entities, {tables['table_bytes']:,} bytes")
        if training is not None:
            print(f"  training: {_describe_training(training)}")
    return 0


def _require(args: argparse.Namespace, *names: str) -> None:
    for name in names:
        if getattr(args, name) is None:
            raise CliError(f"the following argument is required: --{name}")


def cmd_fit(args: argparse.Namespace) -> int:
    from .models.registry import parse_params

    _require(args, "data", "model")
    device = _device(args.device)
    params = parse_params(args.param)
    data = _load_data(args.data, args.seed, device, _table_options(args))
    model, params = _make_model(args.model, params, args.seed)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "model.json").is_file():
        raise CliError(f"--out {out}: a non-empty folder that holds no saved model; choose another")
    print(f"fitting {args.model} on {data.name} ...", file=sys.stderr)
    fit_s = _fit(model, data)
    model.save(out)
    print(f"saved {args.model} to {out} (fit {fit_s:.2f}s)", file=sys.stderr)
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from .models import load as load_model
    from .models.registry import parse_params
    from .scoring import check_score_request, score_to_file

    device = _device(args.device)
    if args.k < 1:
        raise CliError(f"--k must be positive, got {args.k}")
    if args.model_dir is None:
        _require(args, "data", "model")
    elif args.model is not None or args.param:
        raise CliError("--model-dir scores a saved model: --model and --param do not apply")
    params = parse_params(args.param)
    data = None if args.data is None else _load_data(args.data, args.seed, device, _table_options(args))
    users = None
    if args.users:
        users = _read_user_file(Path(args.users))
    if args.chunk < 1:
        raise CliError(f"--chunk must be positive, got {args.chunk}")
    if args.model_dir is not None:
        model = load_model(args.model_dir, graph=None if data is None else data.train, device=device)
        model.check_graph()  # a model fitted on another graph than --data's says so before any output
        config = {"model_dir": str(Path(args.model_dir).resolve()), "data": args.data, "k": args.k,
                  "users": args.users, "exclude_seen": not args.include_seen}
        train = model.graph
    else:
        model, params = _make_model(args.model, params, args.seed)
        config = {"data": args.data, "model": args.model, "params": params, "k": args.k, "seed": args.seed,
                  "users": args.users, "exclude_seen": not args.include_seen}
        train = data.train
    if args.ray is not None:  # Ray present and the cluster reachable, before the fit
        from .distributed.cluster import _check_reachable, require_ray

        require_ray()
        if args.ray not in ("local", "auto"):
            _check_reachable(args.ray)
    # every check of the output and the user list before the fit, which may take hours
    check_score_request(Path(args.out), train, k=args.k, users=users, resume=args.resume, chunk_users=args.chunk,
                        exclude_seen=not args.include_seen, config=config)
    if args.model_dir is None:
        print(f"fitting {args.model} on {data.name} ...", file=sys.stderr)
        _fit(model, data)
    if args.ray is not None:
        from .distributed import score_to_file as ray_score_to_file

        if args.workers < 1:
            raise CliError(f"--workers must be positive, got {args.workers}")
        rows = ray_score_to_file(model, Path(args.out), k=args.k, users=users, resume=args.resume,
                                 chunk_users=args.chunk, exclude_seen=not args.include_seen, config=config, progress=True,
                                 cluster=args.ray, workers=args.workers)
    else:
        rows = score_to_file(model, Path(args.out), k=args.k, users=users, resume=args.resume,
                             chunk_users=args.chunk, exclude_seen=not args.include_seen, config=config, progress=True)
    print(f"wrote {rows} rows to {args.out}", file=sys.stderr)
    return 0


def _read_user_file(path: Path) -> list[str]:
    if not path.is_file():
        raise CliError(f"--users {path}: no such file")
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: a byte-order mark is not part of the first id
    except UnicodeDecodeError as err:
        raise CliError(f"--users {path}: not UTF-8 text (byte {err.start})") from None
    ids = [line.strip() for line in text.splitlines() if line.strip()]
    if not ids:
        raise CliError(f"--users {path}: the file lists no user ids")
    return ids


#: file suffixes read as plain edge lists (``a b`` per line) by ``graphrec embed``
EDGE_LIST_SUFFIXES = (".txt", ".edgelist", ".edges", ".el", "")


def _load_graph(spec: str, seed: int, device: torch.device) -> Any:
    """A Graph for ``graphrec embed``: a plain edge list file, a named dataset or a path
    (a Dataset gives its training graph)."""
    from .data import load
    from .data.loaders import load_edge_list

    p = Path(spec).expanduser()
    if p.is_file() and p.suffix.lower() in EDGE_LIST_SUFFIXES:
        return load_edge_list(p).to(device)
    data = load(spec, **({"seed": seed} if spec == "synthetic" else {}))
    return (data.train if hasattr(data, "train") else data).to(device)


def _write_embedding(out: Path, emb: Any, graph: Any, config: dict[str, Any]) -> int:
    """One row per node: node type, external id, embedding (parquet), or a structured .npy."""
    import numpy as np

    types, ids = emb.ids(graph)
    vec = emb.vectors.detach().float().cpu().numpy()
    if out.suffix.lower() == ".npy":
        width = max([len(str(x)) for x in ids] + [1])
        twidth = max([len(str(x)) for x in types] + [1])
        arr = np.zeros(len(ids), dtype=[("node_type", f"<U{twidth}"), ("id", f"<U{width}"), ("embedding", "<f4", (vec.shape[1],))])
        arr["node_type"], arr["id"], arr["embedding"] = [str(t) for t in types], [str(x) for x in ids], vec
        np.save(out, arr, allow_pickle=False)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        id_vals = ids.tolist()
        id_col = pa.array(id_vals, type=pa.int64()) if all(isinstance(x, (int, np.integer)) for x in id_vals) \
            else pa.array([str(x) for x in id_vals], type=pa.string())
        flat = pa.array(vec.reshape(-1), type=pa.float32())
        table = pa.table({
            "node_type": pa.array([str(t) for t in types], type=pa.string()),
            "id": id_col,
            "embedding": pa.FixedSizeListArray.from_arrays(flat, vec.shape[1]),
        }).replace_schema_metadata({"graphrec": json.dumps(_finite(config))})
        pq.write_table(table, out)
    return len(ids)


def cmd_embed(args: argparse.Namespace) -> int:
    import inspect

    from .embed import check_method, embed
    from .models.registry import parse_params

    device = _device(args.device)
    out = Path(args.out)
    if out.suffix.lower() not in (".parquet", ".npy"):
        raise CliError(f"--out must end in .parquet or .npy, got {args.out!r}")
    if not out.parent.exists():
        raise CliError(f"--out {args.out}: folder {out.parent} does not exist")
    params = parse_params(args.param)
    if args.etype:
        params["etype"] = args.etype
    fn = check_method(args.method, params)  # before loading: unknown names fail at once
    accepted = inspect.signature(fn).parameters
    if "seed" in accepted:
        params.setdefault("seed", args.seed)
    extra = {"progress": True} if "progress" in accepted else {}
    graph = _load_graph(args.data, args.seed, device)
    fit_on = _load_graph(args.fit_on, args.seed, device) if args.fit_on else None
    print(f"embedding {args.data} ({graph}) with {args.method} ...", file=sys.stderr)
    t0 = time.perf_counter()
    emb = embed(args.method, graph, fit_on=fit_on, **params, **extra)
    secs = time.perf_counter() - t0
    if fit_on is not None and emb.meta.get("fit_on_ignored"):
        print(f"note: {args.method} is training-free; --fit-on is not needed and was not used", file=sys.stderr)
    config = {"data": args.data, "method": args.method, "params": params, "fit_on": args.fit_on,
              "layout": [list(x) for x in emb.layout], "seconds": round(secs, 3), "meta": emb.meta}
    rows = _write_embedding(out, emb, graph, config)
    print(f"wrote {rows} rows ({emb.vectors.shape[1]} dims) to {out} in {secs:.2f}s", file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(device=_device(args.device), seed=args.seed, models=args.models.split(",") if args.models else None)
    return 0


def _show_default(value: Any) -> str:
    import inspect

    if value is inspect.Parameter.empty:
        return "(required)"
    if isinstance(value, tuple) and not value:
        return "none"
    return "none" if value is None else str(value)


def _plain(text: str) -> str:
    """reStructuredText roles and literals as plain text (``x`` -> x, :class:`~a.B` -> B)."""
    import re

    text = re.sub(r":\w+:`~?([^`]*?)`", lambda m: m.group(1).rsplit(".", 1)[-1] if "~" in m.group(0) else m.group(1), text)
    return text.replace("``", "")


def cmd_models(args: argparse.Namespace) -> int:
    from .models.registry import available, describe

    names = args.names or available()
    out = []
    for name in names:
        summary, params = describe(name)
        summary = _plain(summary)
        if args.json:
            out.append({"model": name, "summary": summary,
                        "params": [{"name": p.name, "default": _finite(p.default) if _jsonable(p.default) else repr(p.default),
                                    "type": p.annotation, "doc": _plain(p.doc)} for p in params]})
            continue
        print(f"{name}: {summary}")
        if not params:
            print("    (no parameters)")
        width = max((len(f"{p.name}={_show_default(p.default)}") for p in params), default=0)
        for p in params:
            key = f"{p.name}={_show_default(p.default)}"
            print(f"    {key:<{width}}  {_plain(p.doc)}".rstrip())
        print()
    if args.json:
        print(json.dumps(out))
    return 0


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def cmd_datasets(args: argparse.Namespace) -> int:
    from .data.download import SOURCES, fetch
    from .data.registry import _REGISTRY, DATA_ENV

    if args.action == "fetch":
        if args.name is None:
            raise CliError("datasets fetch: name a dataset, e.g. graphrec datasets fetch lastfm")
        path = fetch(args.name, args.root, base_url=args.base_url, force=args.force,
                     progress=lambda line: print(line, file=sys.stderr))
        print(f"{args.name}: {path}")
        return 0
    import os

    root = args.root or os.environ.get(DATA_ENV)
    where = f"under {root}" if root else f"${DATA_ENV} is not set"
    print(f"named datasets ({where}):")
    for name, entry in sorted(_REGISTRY.items()):
        source = SOURCES.get(entry.folder)
        fetchable = source is not None and entry.marker in source.sha256
        present = root is not None and (Path(root).expanduser() / entry.folder / entry.marker).is_file()
        state = "present" if present else ("missing: graphrec datasets fetch " + name if fetchable else "missing (no download)")
        print(f"  {name:<16} {state:<46} datasets/{entry.card}.md")
    print(f"  {'synthetic':<16} {'generated':<46} graphrec.data.synthetic")
    return 0


# ----------------------------------------------------------------------- main
class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help without breaking words at hyphens (model names such as ``meritrank-salsa``)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        import textwrap

        return textwrap.wrap(self._whitespace_matcher.sub(" ", text).strip(), width, break_on_hyphens=False)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``graphrec evaluate: error: ...``), as every other error here."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from .models.registry import available

    models = ", ".join(available())
    p = _Parser(prog="graphrec", description="Graph-centric recommendation on one graph store.")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    threads_help = "CPU threads for torch (default: torch's; `demo` defaults to 1, faster on its small graph)"
    p.add_argument("--threads", type=int, default=None, help=threads_help)
    # --threads also after the subcommand; SUPPRESS: absent there, it leaves the value given before it
    threads = argparse.ArgumentParser(add_help=False)
    threads.add_argument("--threads", type=int, default=argparse.SUPPRESS, help=threads_help)
    # the metavar is named in the missing-command error
    sub = p.add_subparsers(dest="command", required=True, metavar="{demo,evaluate,fit,score,embed,models,datasets}")

    d = sub.add_parser("demo", parents=[threads], help="run every layer on the built-in synthetic dataset")
    d.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    d.add_argument("--seed", type=int, default=0, help="seeds the synthetic data and the models (default: 0)")
    d.add_argument("--models", default=None, help=f"comma-separated subset of: {models} (default: all)")
    d.set_defaults(func=cmd_demo)

    common = argparse.ArgumentParser(add_help=False, parents=[threads])
    common.add_argument("--data", default=None, help="dataset name (gowalla, lastfm, ml-100k, synthetic, ...), a split directory "
                        "or a .csv/.tsv/.parquet edge table (columns named by --user-col etc.); required, except with "
                        "score --model-dir (default: the graph saved with the model)")
    table = common.add_argument_group("edge tables (--data file.csv/.tsv/.parquet)")
    table.add_argument("--user-col", dest="user_col", default=None, metavar="NAME", help="user id column (default: user)")
    table.add_argument("--item-col", dest="item_col", default=None, metavar="NAME", help="item id column (default: item)")
    table.add_argument("--weight-col", dest="weight_col", default=None, metavar="NAME",
                       help="weight column (ratings, counts); without it repeated rows are counted")
    table.add_argument("--time-col", dest="time_col", default=None, metavar="NAME",
                       help="time column: integers, or datetimes stored as unix seconds")
    table.add_argument("--sep", default=None, metavar="CHAR",
                       help="field separator of a text table (default: from the extension; 'tab' or '\\t' for a tab)")
    common.add_argument("--model", default=None, help=f"model name (required, except with score --model-dir): {models}")
    common.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="model hyper-parameter (repeatable; an unknown KEY's error lists the model's keys)")
    common.add_argument("--seed", type=int, default=0,
                        help="seeds the models, and the split of synthetic data and edge tables (default: 0)")
    common.add_argument("--device", default="cpu", help="cpu or cuda, cuda:1, ... (default: cpu)")

    e = sub.add_parser("evaluate", parents=[common], help="fit a model and run the full-ranking evaluation")
    e.add_argument("--k", default="20", help="cut-offs, e.g. 20 or 20,50 (default: 20)")
    e.add_argument("--json", action="store_true", help="print one JSON object as the last stdout line")
    e.set_defaults(func=cmd_evaluate)

    f = sub.add_parser("fit", parents=[common], help="fit a model and save it to a folder (score it later with score --model-dir)")
    f.add_argument("--out", required=True, help="folder to save the fitted model in")
    f.set_defaults(func=cmd_fit)

    s = sub.add_parser("score", parents=[common], help="batch top-k for all (or given) users to parquet/csv")
    s.add_argument("--model-dir", default=None, help="score a model saved by `graphrec fit` instead of fitting --model")
    s.add_argument("--k", type=int, default=100, help="items per user (default: 100)")
    s.add_argument("--out", required=True, help="output file (.parquet or .csv)")
    s.add_argument("--users", default=None, help="file with one external user id per line")
    s.add_argument("--resume", action="store_true", help="continue an interrupted run")
    s.add_argument("--chunk", type=int, default=4096, help="users per written chunk (default: 4096)")
    s.add_argument("--include-seen", action="store_true", help="do not exclude training items")
    s.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="score on Ray: a local cluster, or the one at ADDRESS (needs pip install 'graphrec[ray]'); "
                        "the output and --resume are the same as without")
    s.add_argument("--workers", type=int, default=2, help="Ray workers with --ray, one torch thread each (default: 2)")
    s.set_defaults(func=cmd_score)

    from .embed import METHODS, _load_methods

    _load_methods()
    b = sub.add_parser("embed", parents=[threads], help="node embeddings of a graph to parquet/npy (one row per node)")
    b.add_argument("--data", required=True, help="dataset name (blogcatalog, airports-usa, lastfm, synthetic, ...), a path, "
                   "or a plain edge list file (a b per line)")
    b.add_argument("--method", required=True, help=f"embedding method: {', '.join(sorted(METHODS))}")
    b.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="method parameter (repeatable)")
    b.add_argument("--fit-on", default=None, help="train on this graph (name or path) and infer on --data (methods that learn)")
    b.add_argument("--etype", default=None, help="relation to embed (default: the graph's only one, or its interactions)")
    b.add_argument("--out", required=True, help="output file (.parquet or .npy)")
    b.add_argument("--seed", type=int, default=0, help="seeds the method (default: 0)")
    b.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    b.set_defaults(func=cmd_embed)

    m = sub.add_parser("models", help="list every model with its parameters, defaults and one line each")
    m.add_argument("names", nargs="*", metavar="NAME", help="only these models (default: all)")
    m.add_argument("--json", action="store_true", help="one JSON list instead of text")
    m.set_defaults(func=cmd_models)

    ds = sub.add_parser("datasets", help="list the named datasets and whether each is present; fetch one",
                        description="Without an action: list the named datasets and whether each is present "
                        "under $GRAPHREC_DATA. `fetch NAME` downloads one from its original source, verifies the "
                        "SHA256 sums on its card and converts it where needed; a failed or corrupted download "
                        "leaves nothing behind.")
    ds.add_argument("action", nargs="?", choices=["list", "fetch"], default="list", help="list (default) or fetch")
    ds.add_argument("name", nargs="?", default=None, help="the dataset to fetch (lastfm, ml-100k, gowalla, ...)")
    ds.add_argument("--root", default=None, help="data root (default: $GRAPHREC_DATA)")
    ds.add_argument("--base-url", dest="base_url", default=None, metavar="URL",
                    help="download from this mirror, <URL>/<folder>/<file>, instead of the original sources "
                    "(default: $GRAPHREC_DATA_URL)")
    ds.add_argument("--force", action="store_true", help="download again even when the files are present")
    ds.set_defaults(func=cmd_datasets)
    return p


def _format_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                    line: str | None = None) -> str:
    """A warning as one line, ``graphrec: warning: ...``: no file, line number or source line."""
    return f"graphrec: warning: {' '.join(str(message).split())}\n"


def main(argv: list[str] | None = None) -> int:
    saved = warnings.formatwarning
    warnings.formatwarning = _format_warning  # type: ignore[assignment]
    try:
        return _main(argv)
    finally:
        warnings.formatwarning = saved


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    threads = args.threads if args.threads is not None else (1 if args.command == "demo" else None)
    if threads is not None:
        if threads < 1:
            print(f"graphrec: error: --threads must be >= 1, got {threads}", file=sys.stderr)
            return 2
        torch.set_num_threads(threads)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("graphrec: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # one line for users; --debug for developers
        if args.debug:
            raise
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if isinstance(e, KeyError) and msg.startswith(("'", '"')):
            msg = msg[1:-1]
        print(f"graphrec: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
