"""The ``graphrec`` command: ``demo``, ``evaluate``, ``fit`` and ``score``.

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

__all__ = ["main"]


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


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(device=_device(args.device), seed=args.seed, models=args.models.split(",") if args.models else None)
    return 0


# ----------------------------------------------------------------------- main
class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``graphrec evaluate: error: ...``), as every other error here."""

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
    sub = p.add_subparsers(dest="command", required=True, metavar="{demo,evaluate,fit,score}")  # named in the missing-command error

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
