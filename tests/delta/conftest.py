"""Fixtures for the Delta write tests: a local folder and S3 through the session's moto server."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from neuralake import StorageConfig


@dataclass(frozen=True)
class Backend:
    """Where a test's tables live: ``uri(name)`` makes a fresh location."""

    kind: str
    root: str
    storage: StorageConfig | None

    def uri(self, name: str = "t") -> str:
        return f"{self.root}/{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def moto_endpoint(s3_server: Any) -> str:
    """The session's moto S3 server (started by the root conftest in a child process)."""
    return s3_server.endpoint


def s3_storage(endpoint: str) -> StorageConfig:
    return StorageConfig(
        endpoint_url=endpoint,
        region="us-east-1",
        access_key_id="testing",
        secret_access_key="testing",
        allow_http=True,
    )


@pytest.fixture(scope="session")
def s3_bucket(moto_endpoint: str) -> str:
    import boto3

    bucket = "delta-tests"
    boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    if request.param == "local":
        return Backend("local", str(tmp_path_factory.mktemp("lake")), None)
    endpoint = request.getfixturevalue("moto_endpoint")
    bucket = request.getfixturevalue("s3_bucket")
    return Backend("s3", f"s3://{bucket}/{uuid.uuid4().hex[:8]}", s3_storage(endpoint))


@pytest.fixture
def local_backend(tmp_path_factory: pytest.TempPathFactory) -> Backend:
    return Backend("local", str(tmp_path_factory.mktemp("lake")), None)


MakeBackend = Callable[[str], Backend]
