"""Datasets: loaders for real formats, splits and the synthetic generator."""

from .dataset import Dataset, held_out_graph

__all__ = ["Dataset", "held_out_graph"]
