"""Where table data lives: local folders, AWS S3 and S3-compatible stores (MinIO).

A :class:`StorageConfig` is resolved field by field, highest first: the call's argument, the
table's, the catalog's, then the environment (``AWS_*`` variables). The result is handed to
Polars and delta-rs as an options dict; nothing is ever written into ``os.environ``, and secrets
are redacted from ``repr``, logs and error messages, as are credentials embedded in a URI
(:func:`redact_uri`).

Example:
    >>> cfg = StorageConfig(endpoint_url="http://127.0.0.1:9000", access_key_id="minio",
    ...                     secret_access_key="minio123", allow_http=True)
    >>> cfg
    StorageConfig(endpoint_url='http://127.0.0.1:9000', region=None, access_key_id='***', secret_access_key='***', session_token=None, profile=None, allow_http=True, timeout_seconds=None)
    >>> get_s3_storage_options(cfg)["aws_allow_http"]
    'true'
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuralake.errors import StorageError

if TYPE_CHECKING:
    import pyarrow.fs as pafs

_SECRET_FIELDS = ("access_key_id", "secret_access_key", "session_token")
_ENV = {
    "endpoint_url": ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
    "region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    "access_key_id": ("AWS_ACCESS_KEY_ID",),
    "secret_access_key": ("AWS_SECRET_ACCESS_KEY",),
    "session_token": ("AWS_SESSION_TOKEN",),
    "profile": ("AWS_PROFILE",),
    "allow_http": ("AWS_ALLOW_HTTP",),
}
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Timeouts:
    """How one request (connect, send, answer and every retry) stays within ``total`` seconds.

    object_store starts a retry only while less than ``retry`` seconds have passed since the
    first try, and sleeps at most ``backoff`` before it; a try that cannot connect gives up
    after ``connect``. So a store that refuses or drops connections fails within
    ``retry + backoff + connect = total``, and one that accepts and never answers fails when
    the first try's ``total`` is up (a retry would start past ``retry``).
    """

    total: float
    connect: float
    backoff: float
    retry: float


def timeouts(config: StorageConfig) -> Timeouts:
    """The request bounds for ``config.timeout_seconds`` (30 s by default)."""
    total = config.timeout_seconds or DEFAULT_TIMEOUT_SECONDS
    connect = min(DEFAULT_CONNECT_TIMEOUT_SECONDS, total / 4)
    backoff = total / 10
    return Timeouts(total, connect, backoff, total - connect - backoff)


def unanswered(config: StorageConfig, started: float) -> str | None:
    """Why a call begun at ``started`` (``time.monotonic()``) failed, if it ran out of time.

    A call that failed only after the retry window had passed spent its timeout waiting: the
    endpoint did not answer (or could not be reached). Returns that, with how to fix it, or
    ``None`` for a call that failed sooner (the store answered with an error).
    """
    bounds = timeouts(config)
    if time.monotonic() - started < bounds.retry:
        return None
    where = redact_uri(config.endpoint_url) if config.endpoint_url else "AWS S3"
    return (
        f"the storage endpoint {where} did not answer within {bounds.total:g} seconds; check "
        "endpoint_url (and that the store is up and reachable), or raise timeout_seconds"
    )


def _duration(seconds: float) -> str:
    """``seconds`` as object_store reads a duration (whole units only: ``2s``, ``1300ms``)."""
    ms = max(1, round(seconds * 1000))
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


@dataclass(frozen=True)
class StorageConfig:
    """Connection settings for object storage; every field is optional.

    Args:
        endpoint_url: S3-compatible endpoint, e.g. ``http://127.0.0.1:9000`` for MinIO.
        region: AWS region (defaults to ``us-east-1`` for custom endpoints).
        access_key_id: Access key (redacted in ``repr``).
        secret_access_key: Secret key (redacted in ``repr``).
        session_token: Temporary session token (redacted in ``repr``).
        profile: Named AWS profile, used instead of explicit keys.
        allow_http: Allow plain HTTP (needed for local MinIO without TLS).
        timeout_seconds: Per-request timeout, so an unreachable endpoint fails instead of hanging.
    """

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    profile: str | None = None
    allow_http: bool | None = None
    timeout_seconds: float | None = None

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            shown = "'***'" if f.name in _SECRET_FIELDS and value else repr(value)
            parts.append(f"{f.name}={shown}")
        return f"StorageConfig({', '.join(parts)})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StorageConfig:
        """Read the standard ``AWS_*`` variables (the environment is read, never written)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, keys in _ENV.items():
            raw = next((env[k] for k in keys if env.get(k)), None)
            if raw is not None:
                values[name] = raw.lower() in ("1", "true", "yes") if name == "allow_http" else raw
        return cls(**values)

    def over(self, *lower: StorageConfig | None) -> StorageConfig:
        """This config with unset fields taken from ``lower`` configs, in order."""
        merged = self
        for other in lower:
            if other is None:
                continue
            updates = {
                name: value
                for name, value in vars(other).items()
                if value is not None and getattr(merged, name) is None
            }
            if updates:  # most lower configs set nothing new: no copy
                merged = replace(merged, **updates)
        return merged

    def secrets(self) -> tuple[str, ...]:
        """The secret values set on this config (for redaction)."""
        return tuple(v for v in (getattr(self, n) for n in _SECRET_FIELDS) if v)

    def redact(self, text: str) -> str:
        """``text`` with this config's secrets and any credentials in URIs replaced by ``***``.

        A secret is replaced only where it stands as a whole value (see :func:`redact_values`),
        so a short key such as ``"ab"`` never mangles words that merely contain it.

        Example:
            >>> StorageConfig(secret_access_key="ab").redact("Table 'tab': key=ab&ab")
            "Table 'tab': key=***&***"
        """
        return redact_values(redact_uri(text), self.secrets())


REDACTED = "***"

# User-info of any ``scheme://user:password@host`` in the text. A ``user:password`` pair may
# hold "/" and "+" in the password (AWS secret keys do) unless the part after ":" is a port.
_USERINFO = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)"
    r"(?:[^\s/?#@'\"<>]*:(?!\d*(?:[/?#'\"<>\s]|$))[^\s@'\"<>]*|[^\s/?#'\"<>]*)@"
)
#: Query parameters (and ``key=value`` pairs in headers) whose value is a credential: AWS and
#: GCS presigned URLs, AWS SigV2/SigV4 ``Authorization`` parts, Azure SAS tokens. Only after
#: ``?``, ``&``, ``;``, ``,`` or a space, so a hive folder such as ``/sig=1/`` is left alone.
SECRET_PARAMETERS = (
    "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "X-Goog-Signature",
    "X-Goog-Credential", "AWSAccessKeyId", "Signature", "Credential", "sig", "access_token",
    "password",
)  # fmt: skip
_PARAMETER = re.compile(
    r"(?:^|(?<=[?&;,\s]))(?P<key>" + "|".join(map(re.escape, SECRET_PARAMETERS)) + r")="
    r"(?P<value>[^&\s#'\"<>,;:)\]}]+)",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w")


def redact_uri(text: str) -> str:
    """``text`` with credentials embedded in URIs removed, wherever they appear in it.

    User-info (``s3://KEY:SECRET@bucket/...``, ``https://user:pass@host/...``) is dropped and
    the values of signing query parameters (:data:`SECRET_PARAMETERS`, e.g.
    ``X-Amz-Signature=...``) become ``***``. Works on bare URIs and on whole messages.

    Example:
        >>> redact_uri("cannot open s3://AKIA:s3cr/et@bucket/t?X-Amz-Signature=beef&v=1")
        'cannot open s3://bucket/t?X-Amz-Signature=***&v=1'
    """
    if "@" not in text and "=" not in text:  # the common case costs two scans, no regex
        return text
    text = _USERINFO.sub(r"\g<scheme>", text)
    return _PARAMETER.sub(lambda m: f"{m['key']}={REDACTED}", text)


def _is_word(char: str) -> bool:
    return _WORD.match(char) is not None


def redact_values(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every whole occurrence of a secret replaced by ``***``.

    An occurrence counts only where it does not continue a longer run of word characters:
    a secret starting (ending) with a letter, digit or ``_`` must not be preceded (followed)
    by one. So ``key=SECRET&``, ``'SECRET'`` and ``s3://SECRET@`` are redacted, while a short
    secret such as ``"ab"`` leaves ``"table"`` alone. Blank secrets are ignored; very short
    ones are still redacted wherever they stand alone. Longer secrets win where they overlap.

    Hand-written instead of one regex so that no compiled pattern (which ``re`` caches) ever
    holds a secret.

    Example:
        >>> redact_values("Table t: a=x, b='x', box", ["x"])
        "Table t: a=***, b='***', box"
    """
    wanted = sorted({s for s in secrets if s and s.strip()}, key=len, reverse=True)
    if not wanted:
        return text
    hits: list[tuple[int, int]] = []
    for secret in wanted:
        check_before, check_after = _is_word(secret[0]), _is_word(secret[-1])
        start = text.find(secret)
        while start != -1:
            end = start + len(secret)
            if not (
                (check_before and start > 0 and _is_word(text[start - 1]))
                or (check_after and end < len(text) and _is_word(text[end]))
            ):
                hits.append((start, -end))
            start = text.find(secret, start + 1)
    if not hits:
        return text
    parts: list[str] = []
    done = 0
    for start, neg_end in sorted(hits):  # leftmost first, the longest of those first
        if start >= done:
            parts += [text[done:start], REDACTED]
            done = -neg_end
    parts.append(text[done:])
    return "".join(parts)


def has_embedded_credentials(uri: str) -> bool:
    """True if ``uri`` carries user-info or a signing query parameter (see :func:`redact_uri`)."""
    return redact_uri(uri) != uri


def resolve(*configs: StorageConfig | None) -> StorageConfig:
    """Merge configs, highest precedence first, ending with the environment."""
    first, *rest = [c for c in configs if c is not None] or [StorageConfig()]
    return first.over(*rest, StorageConfig.from_env())


def is_remote(uri: str) -> bool:
    """True for ``s3://`` (and other ``scheme://``) URIs, false for local paths."""
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", uri)) and not uri.startswith("file://")


def get_s3_storage_options(config: StorageConfig | None = None) -> dict[str, str]:
    """Options dict for Polars and delta-rs (object_store keys) from a resolved config.

    Args:
        config: The config to translate; ``None`` reads the environment.

    Example:
        >>> get_s3_storage_options(StorageConfig(region="eu-west-1"))["aws_region"]
        'eu-west-1'
    """
    cfg = config if config is not None else StorageConfig.from_env()
    opts: dict[str, str] = {}
    if cfg.endpoint_url:
        opts["aws_endpoint_url"] = cfg.endpoint_url
        opts["aws_region"] = cfg.region or "us-east-1"
        opts["aws_virtual_hosted_style_request"] = "false"
    if cfg.region:
        opts["aws_region"] = cfg.region
    if cfg.access_key_id:
        opts["aws_access_key_id"] = cfg.access_key_id
    if cfg.secret_access_key:
        opts["aws_secret_access_key"] = cfg.secret_access_key
    if cfg.session_token:
        opts["aws_session_token"] = cfg.session_token
    if cfg.profile:
        opts["aws_profile"] = cfg.profile
    allow_http = cfg.allow_http
    if allow_http is None and cfg.endpoint_url:
        allow_http = cfg.endpoint_url.startswith("http://")
    if allow_http:
        opts["aws_allow_http"] = "true"
    # object_store would retry an unanswered request for up to 180 s; with these, connecting,
    # the request and its retries together take at most timeout_seconds (see Timeouts).
    bounds = timeouts(cfg)
    opts["timeout"] = _duration(bounds.total)
    opts["connect_timeout"] = _duration(bounds.connect)
    opts["retry_timeout"] = _duration(bounds.retry)
    opts["backoff_config.max_backoff"] = _duration(bounds.backoff)
    return opts


def storage_options(uri: str, config: StorageConfig) -> dict[str, str] | None:
    """Options for reading ``uri``: ``None`` for local paths, object_store keys for S3."""
    return get_s3_storage_options(config) if is_remote(uri) else None


def arrow_filesystem(uri: str, config: StorageConfig) -> tuple[pafs.FileSystem, str]:
    """A PyArrow filesystem and the path inside it, for listings and footers (never data pages)."""
    import pyarrow.fs as pafs

    if not is_remote(uri):
        return pafs.LocalFileSystem(), arrow_path(uri)
    scheme = uri.partition("://")[0]
    if scheme not in ("s3", "s3a"):
        raise StorageError(
            f"Unsupported storage scheme {scheme!r} in {redact_uri(uri)!r}; use s3:// or a "
            "local path."
        )
    if has_embedded_credentials(uri):  # pyarrow would refuse it with the secret in its message
        raise StorageError(
            f"The location {redact_uri(uri)!r} embeds credentials (user-info or a signed query "
            "string); use a plain s3://bucket/prefix and pass credentials through StorageConfig."
        )
    bounds = timeouts(config)
    endpoint = config.endpoint_url
    fs = pafs.S3FileSystem(
        access_key=config.access_key_id,
        secret_key=config.secret_access_key,
        session_token=config.session_token,
        region=config.region or "us-east-1",
        endpoint_override=endpoint,
        scheme="http" if endpoint and endpoint.startswith("http://") else "https",
        connect_timeout=bounds.connect,
        # Enforced by curl as "no byte for this many whole seconds", checked about once a
        # second: one second less keeps an unanswered request within the timeout.
        request_timeout=max(1.0, bounds.total - 1),
        # The AWS SDK's retries have no time limit: one try keeps a request within the timeout.
        retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=1),
        allow_bucket_creation=False,
        allow_bucket_deletion=False,
    )
    return fs, arrow_path(uri)


def arrow_path(uri: str) -> str:
    """The path of ``uri`` inside its :func:`arrow_filesystem` (bucket/key, or an absolute path)."""
    if not is_remote(uri):
        return str(Path(uri.removeprefix("file://")).absolute())
    return uri.partition("://")[2].rstrip("/")


def list_files(uri: str, config: StorageConfig) -> list[tuple[str, int]]:
    """``(path relative to uri, size in bytes)`` of every file under ``uri`` (a listing only)."""
    import pyarrow.fs as pafs

    fs, inner = arrow_filesystem(uri, config)
    started = time.monotonic()
    try:
        infos = fs.get_file_info(pafs.FileSelector(inner, recursive=True, allow_not_found=True))
    except (OSError, ValueError) as exc:  # pyarrow raises ArrowInvalid (a ValueError) on bad paths
        late = unanswered(config, started)
        hint = f"{late}. ({exc})" if late else str(exc)
        raise StorageError(config.redact(f"Cannot list {uri}: {hint}")) from exc
    prefix = inner.rstrip("/") + "/"
    return sorted(
        (i.path.removeprefix(prefix), i.size or 0) for i in infos if i.type == pafs.FileType.File
    )


def daft_io_config(config: StorageConfig) -> Any:
    """A ``daft.io.IOConfig`` for the Daft engine (``daft`` must be installed).

    Daft redacts the secret key in its config and plan text; the plan never shows the config.
    """
    from daft.io import IOConfig, S3Config

    bounds = timeouts(config)
    endpoint = config.endpoint_url
    allow_http = config.allow_http
    if allow_http is None and endpoint:
        allow_http = endpoint.startswith("http://")
    return IOConfig(
        s3=S3Config(
            endpoint_url=endpoint,
            use_ssl=None if allow_http is None else not allow_http,
            region_name=config.region or ("us-east-1" if endpoint else None),
            key_id=config.access_key_id,
            access_key=config.secret_access_key,
            session_token=config.session_token,
            profile_name=config.profile,
            # One try within the whole timeout: Daft's own retries would multiply it.
            connect_timeout_ms=int(bounds.connect * 1000),
            read_timeout_ms=int((bounds.total - bounds.connect) * 1000),
            num_tries=1,
            force_virtual_addressing=False,
        )
    )
