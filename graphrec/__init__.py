"""graphrec: graph-centric recommendation on one device-resident heterogeneous graph store.

>>> import graphrec as gr
>>> data = gr.datasets.load("synthetic")          # doctest: +SKIP
>>> model = gr.models.create("mostpop").fit(data)  # doctest: +SKIP
>>> gr.evaluate(model, data, k=[20])               # doctest: +SKIP

Your own table: ``Graph.from_frame`` (pandas or pyarrow), then a split step to a Dataset:

>>> g = gr.Graph.from_frame(df, user_col="user", item_col="item", time_col="ts")  # doctest: +SKIP
>>> data = gr.random_holdout(g, test_fraction=0.2, seed=0)  # or gr.temporal_leave_last_out(g)  # doctest: +SKIP
"""

from . import data as datasets
from . import embed, eval, graph, models
from .data.dataset import Dataset
from .data.splits import carve_validation, random_holdout, temporal_leave_last_out
from .eval import EvalReport, evaluate
from .graph import INTERACTS, ITEM, TRUSTS, USER, Graph, IdMap

__version__ = "0.1.0"

__all__ = [
    "INTERACTS",
    "ITEM",
    "TRUSTS",
    "USER",
    "Dataset",
    "EvalReport",
    "Graph",
    "IdMap",
    "__version__",
    "carve_validation",
    "datasets",
    "embed",
    "eval",
    "evaluate",
    "graph",
    "models",
    "random_holdout",
    "temporal_leave_last_out",
]
