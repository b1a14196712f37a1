"""The Daft engine's tests run on one local Ray cluster, started once and stopped at the end.

Daft picks its runner once per process, so this folder runs in one pytest process of its own
(``make test`` runs it after the rest, as the cluster takes both cores), on Ray: a head node
with two CPUs, no dashboard.
Ray workers are processes of their own: the tests see Daft's results, not its plan objects.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("daft")
pytest.importorskip("ray")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.daft)


@pytest.fixture(scope="session", autouse=True)
def ray_cluster() -> Iterator[Any]:
    """A local Ray cluster for this session; Daft frames run on it (``DAFT_RUNNER=native``
    runs them in the test process instead, for a quick local run)."""
    os.environ["DAFT_PROGRESS_BAR"] = "0"
    if os.environ.get("DAFT_RUNNER") == "native":
        yield None
        return
    import ray

    from neuralake.query.daft import use_ray

    for attempt in range(3):  # Ray gives a node 30 s to register: a loaded machine may miss it
        try:
            context = ray.init(
                num_cpus=2,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                log_to_driver=False,
                configure_logging=False,
            )
            break
        except Exception:
            ray.shutdown()
            if attempt == 2:
                raise
    use_ray()
    try:
        yield context
    finally:
        ray.shutdown()
