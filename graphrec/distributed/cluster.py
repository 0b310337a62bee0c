"""Connecting to Ray and shipping the store to its workers.

graphrec never runs a scheduler of its own: the distributed paths are Ray tasks and actors
(Moritz et al., OSDI 2018). The graph and a fitted model travel once into Ray's object store
as numpy arrays; a worker on the same node maps them without a copy and rebuilds the model
with :func:`~graphrec.models.persistence.model_from_state`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["connect", "put_graph", "put_model", "require_ray"]


def require_ray() -> Any:
    """The ``ray`` module, or one ImportError line saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ImportError("graphrec's distributed paths need Ray: pip install 'graphrec[ray]'") from None
    return ray


def connect(cluster: Any = None, *, num_cpus: int | None = None) -> Any:
    """Make sure this process is connected to Ray; returns the ``ray`` module.

    Parameters
    ----------
    cluster : None, ``"local"`` or an address
        ``None``: the Ray session already started in this process, else a new local one;
        ``"local"``: a new local one; an address (``"ray://host:10001"``, ``"host:6379"``,
        ``"auto"``): that cluster. A wrong address is one ``ConnectionError`` line.
    num_cpus : CPUs of a new local session (default: all).
    """
    ray = require_ray()
    if ray.is_initialized():
        return ray
    if cluster not in (None, "local") and not isinstance(cluster, str):
        raise TypeError(f"cluster must be None, 'local' or an address string, got {type(cluster).__name__}")
    kw: dict[str, Any] = {"include_dashboard": False, "logging_level": "ERROR", "log_to_driver": False}
    if cluster not in (None, "local", "auto"):
        _check_reachable(cluster)
    try:
        if cluster in (None, "local"):
            ray.init(num_cpus=num_cpus, **kw)
        else:
            ray.init(address=cluster, **kw)
    except (ConnectionError, RuntimeError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConnectionError(f"cannot connect to the Ray cluster at {cluster!r}: {first}") from None
    return ray


def _check_reachable(address: str, timeout: float = 3.0) -> None:
    """One ``ConnectionError`` line unless ``address`` (``[ray://]host:port``) accepts a TCP connection.

    Ray itself waits minutes on a wrong address before it gives up.
    """
    import socket

    hostport = address.split("://", 1)[-1]
    host, sep, port = hostport.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"cluster address {address!r} is not of the form [ray://]host:port, 'auto' or 'local'")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as e:
        raise ConnectionError(f"cannot connect to the Ray cluster at {address!r}: {e.strerror or type(e).__name__}") from None


def _numpy(tensors: dict[str, Any]) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in tensors.items()}


def put_graph(graph: Any) -> Any:
    """The graph into Ray's object store once: ``ObjectRef`` of ``(meta, numpy arrays)``."""
    ray = require_ray()
    meta, tensors = graph.state()
    return ray.put((meta, _numpy(tensors)))


def put_model(model: Any) -> Any:
    """A fitted model (without its graph) into Ray's object store: ``ObjectRef`` of ``(meta, numpy arrays)``."""
    from ..models.persistence import model_state

    ray = require_ray()
    meta, tensors = model_state(model)
    return ray.put((meta, _numpy(tensors)))
