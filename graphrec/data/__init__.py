"""Datasets: loaders for real formats, splits, the named-dataset registry and the synthetic generator.

>>> import graphrec as gr
>>> data = gr.datasets.load("ml-100k", split="temporal")   # doctest: +SKIP
>>> g = gr.datasets.load("airports-usa")                   # a Graph with role labels  # doctest: +SKIP
"""

from .dataset import Dataset, held_out_graph
from .download import FetchError, fetch
from .frames import add_frame, graph_from_frame
from .loaders import (
    LINKS,
    NODE,
    load_airports,
    load_blogcatalog,
    load_edge_table,
    load_lastfm,
    load_movielens100k,
    load_split_dir,
)
from .registry import DATA_ENV, data_roots, dataset_path, known_datasets, load
from .splits import (
    carve_validation,
    pair_holdout_mask,
    random_holdout,
    random_holdout_mask,
    split_by_mask,
    temporal_holdout_mask,
    temporal_leave_last_out,
)

__all__ = [
    "DATA_ENV",
    "LINKS",
    "NODE",
    "Dataset",
    "FetchError",
    "add_frame",
    "carve_validation",
    "data_roots",
    "dataset_path",
    "fetch",
    "graph_from_frame",
    "held_out_graph",
    "known_datasets",
    "load",
    "load_airports",
    "load_blogcatalog",
    "load_edge_table",
    "load_lastfm",
    "load_movielens100k",
    "load_split_dir",
    "pair_holdout_mask",
    "random_holdout",
    "random_holdout_mask",
    "split_by_mask",
    "temporal_holdout_mask",
    "temporal_leave_last_out",
]
