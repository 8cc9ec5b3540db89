"""One executor interface, two implementations: a local pool and Dask distributed.

Both execute :func:`siteplan.batch.worker.execute_run`, which runs each run in its own
killable process with the wall-clock limit; the executor only decides *where* that
supervisor runs:

- ``local`` (default): ``workers`` supervising threads in this process, so at most
  ``workers`` run processes at once;
- ``dask``: one Dask task per run on a distributed cluster: a running scheduler
  (``scheduler="tcp://host:8786"``) or a ``LocalCluster`` started here
  (``cluster="local"``, ``workers`` single-threaded worker processes). Dask is an optional
  extra (``pip install siteplan[dask]``), imported only when asked for.

Executors are looked up by name in :data:`EXECUTORS`.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import threading
import time
from abc import ABC, abstractmethod
from typing import Any

from siteplan.exceptions import Problem, SiteplanError
from siteplan.batch.manifest import BatchError
from siteplan.batch.worker import execute_run

__all__ = ["Executor", "LocalExecutor", "DaskExecutor", "EXECUTORS", "make_executor", "DaskMissingError"]


class DaskMissingError(SiteplanError):
    """Dask distributed was asked for but is not installed."""


class Executor(ABC):
    """Submit runs, wait for some to finish, fetch their results, close."""

    name: str = ""

    @property
    @abstractmethod
    def capacity(self) -> int:
        """How many runs may be in flight at once [-]."""

    @abstractmethod
    def submit(self, task: dict, wall_time_limit_s: float | None, work_root: str | None) -> Any:
        """Start one run; return a handle."""

    @abstractmethod
    def wait(self, handles: set, timeout: float) -> set:
        """The handles among ``handles`` that have finished (waits at most ``timeout`` [s])."""

    @abstractmethod
    def result(self, handle) -> dict:
        """The result dict of a finished run (raises if the executor itself failed)."""

    @abstractmethod
    def close(self, cancel: bool = False) -> None:
        """Release resources; ``cancel`` stops runs still in flight."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(cancel=exc_type is not None)
        return False


class LocalExecutor(Executor):
    """``workers`` supervising threads, each running one run process at a time."""

    name = "local"

    def __init__(self, workers: int | None = None):
        n = workers if workers is not None else (os.cpu_count() or 1)
        if n < 1:
            raise BatchError(Problem("--workers", None, None, "must be >= 1", n))
        self._n = int(n)
        self._cancel = threading.Event()
        self._pool = cf.ThreadPoolExecutor(max_workers=self._n, thread_name_prefix="siteplan-run")

    @property
    def capacity(self) -> int:
        return self._n

    def submit(self, task, wall_time_limit_s, work_root):
        return self._pool.submit(execute_run, task, wall_time_limit_s, work_root, self._cancel)

    def wait(self, handles, timeout):
        done, _ = cf.wait(handles, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return set(done)

    def result(self, handle):
        return handle.result()

    def close(self, cancel=False):
        if cancel:
            self._cancel.set()
        self._pool.shutdown(wait=True, cancel_futures=cancel)


def _import_distributed():
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise DaskMissingError(
            "Dask distributed is not installed: install the optional extra with "
            "`pip install 'siteplan[dask]'` (or `pip install 'dask[distributed]'`), "
            f"or run without --scheduler/--cluster ({exc})") from None
    return distributed


class DaskExecutor(Executor):
    """One Dask task per run, on a running scheduler or a LocalCluster started here.

    The wall-clock limit is enforced inside the task (the run is a child process of the
    Dask worker that the task kills), so a hung solver never blocks a worker for good.
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, cluster: str | None = None, workers: int | None = None):
        if (scheduler is None) == (cluster is None):
            raise BatchError(Problem("executor", None, None, "give exactly one of --scheduler and --cluster"))
        distributed = _import_distributed()
        self._distributed = distributed
        self._cluster = None
        if cluster is not None:
            if cluster != "local":
                raise BatchError(Problem("--cluster", None, None, "only 'local' is known", cluster))
            n = workers if workers is not None else (os.cpu_count() or 1)
            if n < 1:
                raise BatchError(Problem("--workers", None, None, "must be >= 1", n))
            self._cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, dashboard_address=None)
            address = self._cluster.scheduler_address
        else:
            address = scheduler
        try:
            self._client = distributed.Client(address, timeout="30s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            if self._cluster is not None:
                self._cluster.close()
            raise BatchError(Problem("--scheduler", None, None, f"cannot connect to the Dask scheduler: {exc}",
                                     address)) from None

    @property
    def capacity(self) -> int:
        try:
            n = sum(self._client.nthreads().values())
        except Exception:  # noqa: BLE001 - a scheduler hiccup must not stop the batch
            n = 0
        return max(1, n)

    def submit(self, task, wall_time_limit_s, work_root):
        return self._client.submit(execute_run, task, wall_time_limit_s, work_root, None,
                                   key=f"siteplan-run-{task['run_id']}-{os.urandom(4).hex()}", pure=False,
                                   retries=0)

    def wait(self, handles, timeout):
        # distributed.wait() needs a default client; this executor's client is private, so poll
        deadline = time.monotonic() + timeout
        while True:
            done = {h for h in handles if h.done()}
            if done or time.monotonic() >= deadline:
                return done
            time.sleep(0.02)

    def result(self, handle):
        return handle.result()

    def close(self, cancel=False):
        try:
            self._client.close()
        finally:
            if self._cluster is not None:
                self._cluster.close()


#: Executors by name.
EXECUTORS = {"local": LocalExecutor, "dask": DaskExecutor}


def make_executor(*, workers: int | None = None, scheduler: str | None = None,
                  cluster: str | None = None) -> Executor:
    """The local pool, or Dask when ``scheduler`` or ``cluster`` is given."""
    if scheduler is not None and cluster is not None:
        raise BatchError(Problem("executor", None, None, "give either --scheduler or --cluster, not both"))
    if scheduler is None and cluster is None:
        return EXECUTORS["local"](workers=workers)
    return EXECUTORS["dask"](scheduler=scheduler, cluster=cluster, workers=workers)
