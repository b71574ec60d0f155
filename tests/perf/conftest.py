"""Fixtures of the performance tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest


@pytest.fixture
def shared_redis() -> Iterator[tuple[str, str]]:
    """Redis as the page cache's store (database 14) and a key prefix of this test's own,
    whose keys are removed afterwards. Skipped without Redis; a failure in CI."""
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/14"
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required in CI: {error}")
        pytest.skip(f"Redis not reachable: {error}")
    prefix = f"portal-test-{uuid.uuid4().hex[:8]}:"
    yield url, prefix
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
