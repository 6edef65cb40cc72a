"""Feed files in S3-compatible object storage: ``WIRECRAWLER_FEED_DIR=s3://bucket/prefix``.

Plain Python with no Scrapy import. Paths are relative to the prefix and ``/``-separated, as
in a local feed directory (``briefs/2026-11-24T10-00-00Z.jsonl``), so the publication log names
a file the same way in both places.

A file is uploaded with ``put_object`` and ``If-None-Match: *``: the storage refuses to replace
a key that exists, as a hard link refuses to replace a file locally, so a published file is
never overwritten by another host that chose the same name. (Scrapy's own S3 feed storage
uploads with ``upload_fileobj``, which cannot send that condition.)

The endpoint and the credentials come the usual AWS way, through boto3: ``AWS_ENDPOINT_URL``
(or ``AWS_ENDPOINT_URL_S3``), ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_DEFAULT_REGION``, or the shared config and credentials files.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from wirecrawler.store.seen import SeenStoreError, SeenStoreUnavailable

SCHEME = "s3://"
# Short: an unreachable storage must fail a step in seconds, not hang the crawl for minutes.
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30
ATTEMPTS = 3


class ObjectStoreError(SeenStoreError):
    """Object storage that cannot be used: a bad URL, no such bucket, refused credentials."""


class ObjectStoreUnavailable(ObjectStoreError, SeenStoreUnavailable):
    """Object storage that cannot be reached now."""


def is_object_url(location: object) -> bool:
    return isinstance(location, str) and location.startswith(SCHEME)


@dataclass(frozen=True)
class ObjectLocation:
    bucket: str
    prefix: str  # "" or "some/prefix", without a trailing "/"

    @classmethod
    def parse(cls, url: str) -> ObjectLocation:
        """``s3://bucket`` or ``s3://bucket/some/prefix``."""
        if not is_object_url(url):
            raise ObjectStoreError(f"an object storage location looks like s3://bucket/prefix, not {url!r}")
        bucket, _, prefix = url[len(SCHEME) :].partition("/")
        prefix = prefix.strip("/")
        if not bucket or "//" in prefix or any(part in (".", "..") for part in prefix.split("/")):
            raise ObjectStoreError(f"an object storage location looks like s3://bucket/prefix, not {url!r}")
        return cls(bucket, prefix)

    def key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def path(self, key: str) -> str:
        return key[len(self.prefix) + 1 :] if self.prefix else key

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.prefix}" if self.prefix else f"{SCHEME}{self.bucket}"


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class ObjectFeeds:
    """The feed files under one bucket and prefix."""

    def __init__(self, location: ObjectLocation, client) -> None:
        self.location = location
        self.url = str(location)
        self._client = client

    @classmethod
    def connect(cls, url: str) -> ObjectFeeds:
        """A client for *url*, configured the usual AWS way; checks that the bucket can be reached."""
        import boto3
        from botocore.config import Config

        location = ObjectLocation.parse(url)
        config = Config(
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            retries={"max_attempts": ATTEMPTS, "mode": "standard"},
        )
        feeds = cls(location, boto3.client("s3", config=config))
        try:
            feeds._client.head_bucket(Bucket=location.bucket)
        except Exception as exc:  # botocore's errors share no base class with a useful message
            from botocore.exceptions import ConnectionError as NoConnection  # refused, no such host, connect timeout
            from botocore.exceptions import ReadTimeoutError

            unreachable = isinstance(exc, (NoConnection, ReadTimeoutError))  # else an answer, or no credentials
            refused = ObjectStoreUnavailable if unreachable else ObjectStoreError
            raise refused(f"cannot use the object storage {url}: {_describe(exc)}") from exc
        return feeds

    def put_new(self, path: str, file: Path) -> bool:
        """Uploads *file* as *path* unless that key exists; whether it was uploaded.

        Raises ``OSError`` when the storage cannot be reached or refuses for another reason.
        """
        try:
            with file.open("rb") as body:
                self._client.put_object(
                    Bucket=self.location.bucket, Key=self.location.key(path), Body=body, IfNoneMatch="*"
                )
        except Exception as exc:
            if _error_code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            raise _as_os_error(exc, f"cannot upload {self.url}/{path}") from exc
        return True

    def read(self, path: str) -> bytes:
        """The bytes of *path*; ``FileNotFoundError`` when there is no such key."""
        try:
            response = self._client.get_object(Bucket=self.location.bucket, Key=self.location.key(path))
            return response["Body"].read()
        except Exception as exc:
            if _error_code(exc) in ("NoSuchKey", "404"):
                raise FileNotFoundError(f"{self.url}/{path}: no such object") from exc
            raise _as_os_error(exc, f"cannot read {self.url}/{path}") from exc

    def exists(self, path: str) -> bool:
        try:
            self._client.head_object(Bucket=self.location.bucket, Key=self.location.key(path))
        except Exception as exc:
            if _error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return False
            raise _as_os_error(exc, f"cannot look up {self.url}/{path}") from exc
        return True

    def delete(self, path: str) -> None:
        """Deletes *path*; no error when it is not there (S3 answers a delete of a missing key alike)."""
        try:
            self._client.delete_object(Bucket=self.location.bucket, Key=self.location.key(path))
        except Exception as exc:
            raise _as_os_error(exc, f"cannot delete {self.url}/{path}") from exc

    def listed(self, under: str) -> Iterator[tuple[str, datetime]]:
        """Every object below the folder *under* (relative path), with its last-modified time."""
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            pages = paginator.paginate(Bucket=self.location.bucket, Prefix=self.location.key(under.rstrip("/") + "/"))
            for page in pages:
                for found in page.get("Contents", ()):
                    yield self.location.path(found["Key"]), found["LastModified"]
        except Exception as exc:
            raise _as_os_error(exc, f"cannot list {self.url}/{under}") from exc

    def close(self) -> None:
        self._client.close()


def _describe(exc: Exception) -> str:
    code = _error_code(exc)
    return f"{code}: {exc}" if code and code not in str(exc) else str(exc)


def _as_os_error(exc: Exception, what: str) -> OSError:
    return OSError(f"{what}: {_describe(exc)}")
