"""Run these tests single-threaded: tiny sparse kernels spend far longer waiting for OpenMP
threads than computing when the 2-core machine is shared; the old setting is restored."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
