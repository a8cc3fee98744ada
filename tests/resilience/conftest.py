"""Fixtures of the resilience suite: a migrated database of its own, and clusters of real
gunicorn instances on it (see harness.py).

The database ``authcore_resilience_<pid>`` is created and migrated once per run, then used as
a template: each cluster gets a fresh copy (``CREATE DATABASE … TEMPLATE``, a file copy) and
every copy is dropped afterwards.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.resilience.harness import (
    REPO,
    Cluster,
    Instance,
    ThrowawayRedis,
    base_environment,
    create_database,
    database_url,
    drop_database,
)

_copies = itertools.count(1)


@pytest.fixture(scope="session")
def resilience_template() -> Iterator[str]:
    """A database migrated by ``manage.py migrate``, as an operator would do it."""
    name = f"authcore_resilience_{os.getpid()}"
    create_database(name)
    try:
        migrated = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            env=base_environment(DATABASE_URL=database_url(name)),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert migrated.returncode == 0, migrated.stderr
        yield name
    finally:
        drop_database(name)


class Databases:
    """Fresh copies of the migrated database, dropped by ``drop_all``."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.made: list[str] = []

    def make(self) -> str:
        name = f"{self.template}_{next(_copies)}"
        create_database(name, template=self.template)
        self.made.append(name)
        return name

    def drop_all(self) -> None:
        for name in self.made:
            drop_database(name)


def _suite_redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        raise RuntimeError("the resilience suite needs REDIS_URL (make pytest)")
    return url


class Clusters:
    """``start(n=2, redis_url=None, database=None, database_port=None, serve=True, **env)``:
    n instances on one fresh database and one Redis namespace (``serve=False``: hosts that only
    run manage.py); ``stop_all`` stops them and clears the namespace."""

    def __init__(self, databases: Databases, folder: Path) -> None:
        self.databases = databases
        self.folder = folder
        self.clusters: list[Cluster] = []

    def start(
        self,
        n: int = 2,
        *,
        redis_url: str | None = None,
        database: str | None = None,
        database_port: int | None = None,
        serve: bool = True,
        **overrides: str,
    ) -> Cluster:
        name = database or self.databases.make()
        prefix = f"resilience{os.getpid()}x{next(_copies)}"
        url = redis_url or _suite_redis_url()
        env = base_environment(
            DATABASE_URL=database_url(name, port=database_port),
            REDIS_URL=url,
            AUTHCORE_REDIS_PREFIX=prefix,
            **overrides,
        )
        folder = self.folder / prefix
        folder.mkdir()
        instances = [Instance(name=f"instance{i}", env=dict(env), folder=folder) for i in range(n)]
        cluster = Cluster(instances=instances, database=name, redis_url=url, redis_prefix=prefix)
        self.clusters.append(cluster)
        if not serve:  # hosts that only run manage.py commands
            return cluster
        starting = [threading.Thread(target=instance.start) for instance in instances]
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join()
        for instance in instances:
            if not instance.healthy:
                raise RuntimeError(f"{instance.name} did not start:\n{instance.log.read_text()}")
        return cluster

    def stop_all(self) -> None:
        stopping = [
            threading.Thread(target=instance.stop)
            for cluster in self.clusters
            for instance in cluster
        ]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
        for cluster in self.clusters:
            try:
                client = redis.Redis.from_url(cluster.redis_url, socket_timeout=1)
                keys = list(client.scan_iter(match=f"{cluster.redis_prefix}:*", count=1000))
                if keys:
                    client.delete(*keys)
            except redis.RedisError:
                pass  # a throwaway Redis that is gone already


@pytest.fixture
def start_cluster(resilience_template: str, tmp_path: Path) -> Iterator[Clusters]:
    """Clusters for one test (for tests that break them)."""
    databases = Databases(resilience_template)
    clusters = Clusters(databases, tmp_path)
    yield clusters
    clusters.stop_all()
    databases.drop_all()


@pytest.fixture(scope="module")
def module_clusters(
    resilience_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Clusters]:
    """Clusters shared by the tests of one module (for tests that only use them)."""
    databases = Databases(resilience_template)
    clusters = Clusters(databases, tmp_path_factory.mktemp("clusters"))
    yield clusters
    clusters.stop_all()
    databases.drop_all()


@pytest.fixture
def throwaway_redis(tmp_path: Path) -> Iterator[ThrowawayRedis]:
    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server is needed (make system installs it)")
    server = ThrowawayRedis(folder=tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()
