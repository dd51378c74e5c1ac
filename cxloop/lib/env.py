"""Strict parsers for the ``CXLOOP_*`` environment variables.

Each parser takes the variable's name and raw value (``None`` when unset) and either returns a
typed value or raises :class:`SettingError` whose message names the variable, what it expects and
what it got, so that a malformed setting stops start-up with one clear line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class SettingError(ValueError):
    """A ``CXLOOP_*`` variable holds a value cxloop cannot use."""

    def __init__(self, name: str, expected: str, value: str):
        super().__init__(f"{name}: expected {expected}, got {value!r}")
        self.name = name


@dataclass(frozen=True)
class DatabaseUrl:
    engine: str  # "sqlite" or "postgresql"
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: int | None = None


@dataclass(frozen=True)
class EmailUrl:
    backend: str  # "smtp", "console" or "locmem"
    host: str = ""
    port: int = 25
    user: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False


def parse_bool(name: str, value: str | None, *, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingError(name, "true or false (also 1/0, yes/no, on/off)", value)


def parse_choice(name: str, value: str | None, *, choices: tuple[str, ...], default: str) -> str:
    if value is None or value.strip() == "":
        return default
    if value.strip() not in choices:
        raise SettingError(name, "one of " + ", ".join(choices), value)
    return value.strip()


def parse_path(name: str, value: str | None, *, default: Path) -> Path:
    if value is None or value.strip() == "":
        return default.resolve()
    if "\0" in value:
        raise SettingError(name, "a directory path", value)
    return Path(value).expanduser().resolve()


def parse_hosts(name: str, value: str | None, *, default: list[str]) -> list[str]:
    if value is None or value.strip() == "":
        return default
    hosts = [host.strip() for host in value.split(",")]
    if any(not host or " " in host or "/" in host for host in hosts):
        raise SettingError(
            name, "comma-separated host names such as cx.example.com,localhost", value
        )
    return hosts


def parse_secret_key(name: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if len(value) < 32:
        raise SettingError(name, "a random string of at least 32 characters", "<hidden>")
    return value


def _port(name: str, raw: str | None, value: str, expected: str) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SettingError(name, expected, value)
    return int(raw)


def _split_netloc(netloc: str) -> tuple[str, str, str, str | None]:
    """``user:password@host:port`` → parts; the port stays a string for validation."""
    credentials, _, hostport = netloc.rpartition("@")
    user, _, password = credentials.partition(":")
    if hostport.startswith("["):  # an IPv6 literal
        host, _, rest = hostport[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
    else:
        host, _, port = hostport.partition(":")
    return unquote(user), unquote(password), host, port


def parse_database_url(name: str, value: str | None, *, data_dir: Path) -> DatabaseUrl:
    expected = "postgres://user:password@host:port/dbname or sqlite:///path/to/file.sqlite3"
    if value is None or value.strip() == "":
        return DatabaseUrl(engine="sqlite", name=str(data_dir / "cxloop.sqlite3"))
    url = urlsplit(value.strip())
    if url.scheme == "sqlite":
        path = unquote(url.path)
        if url.netloc or not path or path == "/":
            raise SettingError(name, expected, value)
        return DatabaseUrl(engine="sqlite", name=path)
    if url.scheme in ("postgres", "postgresql"):
        user, password, host, port = _split_netloc(url.netloc)
        dbname = unquote(url.path.lstrip("/"))
        if not dbname or "/" in dbname:
            raise SettingError(name, expected, value)
        return DatabaseUrl(
            engine="postgresql",
            name=dbname,
            user=user,
            password=password,
            host=host,
            port=_port(name, port, value, expected),
        )
    raise SettingError(name, expected, value)


def parse_redis_url(name: str, value: str | None) -> str | None:
    """A Redis URL (``redis://``, ``rediss://`` with TLS, ``unix://`` a socket), or None when
    unset; the database number, if given, is a whole number."""
    expected = "redis://[:password@]host[:port][/db], rediss://… or unix:///path/to/socket"
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    url = urlsplit(text)
    if url.scheme in ("redis", "rediss"):
        _user, _password, host, port = _split_netloc(url.netloc)
        database = url.path.lstrip("/")
        if not host or (database and not database.isdigit()):
            raise SettingError(name, expected, value)
        _port(name, port, value, expected)
        return text
    if url.scheme == "unix" and url.path not in ("", "/") and not url.netloc:
        return text
    raise SettingError(name, expected, value)


def parse_spark_remote(name: str, value: str | None) -> str | None:
    """A Spark Connect URL, ``sc://host[:port][/;param=value…]`` (port 15002 when omitted), or
    None when unset."""
    expected = "sc://host[:port] (a Spark Connect server)"
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    url = urlsplit(text)
    if url.scheme != "sc" or url.query or url.fragment:
        raise SettingError(name, expected, value)
    user, password, host, port = _split_netloc(url.netloc)
    parameters = url.path in ("", "/") or url.path.startswith("/;")  # sc://h:p/;token=…
    if not host or user or password or not parameters:
        raise SettingError(name, expected, value)
    _port(name, port, value, expected)
    return text


def parse_object_store(name: str, value: str | None) -> str | None:
    """An object-store location, ``s3://bucket/prefix`` (normalised without a trailing slash),
    or None when ``value`` is unset or a plain path. Another scheme (``s3a://``, ``gs://``…), a
    bucket name S3 would refuse, or no prefix (the store would share the bucket's root with
    whatever else is there) is refused."""
    if value is None or not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:/", value.strip()):
        return None
    text = value.strip()
    url = urlsplit(text)
    expected = "a directory path or s3://bucket/prefix"
    prefix = url.path.strip("/")
    if (
        url.scheme != "s3"
        or not BUCKET.match(url.netloc)
        or not prefix
        or url.query
        or url.fragment
        or any(part in ("", ".", "..") for part in prefix.split("/"))
    ):
        raise SettingError(name, expected, value)
    return f"s3://{url.netloc}/{prefix}"


# S3's rules for a bucket's name: 3–63 lower-case letters, digits, dots and hyphens, starting
# and ending with a letter or digit.
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def parse_http_url(name: str, value: str | None) -> str | None:
    """An ``http(s)://host[:port]`` endpoint (normalised without a trailing slash), or None."""
    if value is None or value.strip() == "":
        return None
    text = value.strip().rstrip("/")
    url = urlsplit(text)
    expected = "http(s)://host[:port]"
    if url.scheme not in ("http", "https") or url.path or url.query or url.fragment:
        raise SettingError(name, expected, value)
    user, password, host, port = _split_netloc(url.netloc)
    if not host or user or password or any(c.isspace() for c in host):
        raise SettingError(name, expected, value)
    _port(name, port, value, expected)
    return text


def missing_module(name: str) -> bool:
    """Whether ``name`` cannot be imported (an optional extra that is not installed)."""
    import importlib.util

    try:
        return importlib.util.find_spec(name) is None
    except ModuleNotFoundError:
        return True


# Seconds to connect to Redis and to wait for an answer: an unreachable Redis fails fast. No
# command cxloop sends blocks longer (its rq workers take tasks without waiting for one).
REDIS_TIMEOUTS = {"socket_connect_timeout": 2, "socket_timeout": 10}


def with_redis_timeouts(url: str) -> str:
    """``url`` with :data:`REDIS_TIMEOUTS` as its query parameters, those it names kept."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query = {name: str(seconds) for name, seconds in REDIS_TIMEOUTS.items()} | query
    return parts._replace(query=urlencode(query)).geturl()


def parse_email_url(name: str, value: str | None) -> EmailUrl:
    expected = "smtp://user:password@host:port (also smtp+tls://, smtps://) or console://"
    if value is None or value.strip() == "":
        return EmailUrl(backend="console")
    url = urlsplit(value.strip())
    if url.scheme in ("console", "locmem"):
        return EmailUrl(backend=url.scheme)
    if url.scheme not in ("smtp", "smtp+tls", "smtps"):
        raise SettingError(name, expected, value)
    user, password, host, port = _split_netloc(url.netloc)
    if not host:
        raise SettingError(name, expected, value)
    default_port = {"smtp": 25, "smtp+tls": 587, "smtps": 465}[url.scheme]
    return EmailUrl(
        backend="smtp",
        host=host,
        port=_port(name, port, value, expected) or default_port,
        user=user,
        password=password,
        use_tls=url.scheme == "smtp+tls",
        use_ssl=url.scheme == "smtps",
    )


def parse_base_url(name: str, value: str | None, *, default: str) -> str:
    if value is None or value.strip() == "":
        return default
    url = urlsplit(value.strip())
    if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
        raise SettingError(name, "an address such as https://cx.example.com", value)
    return value.strip().rstrip("/")


def parse_int(name: str, value: str | None, *, default: int, low: int, high: int) -> int:
    if value is None or value.strip() == "":
        return default
    word = value.strip()
    if not word.isascii() or not word.isdigit() or not low <= int(word) <= high:
        raise SettingError(name, f"a whole number from {low} to {high}", value)
    return int(word)


_EMAIL_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")


def parse_email_from(name: str, value: str | None, *, default: str) -> str:
    """A sender such as ``cxloop <cx@example.com>`` or ``cx@example.com``; a display name may
    hold any letters, the address only ASCII, and nothing may break a header line."""
    if value is None or value.strip() == "":
        return default
    expected = "an address such as cx@example.com or Name <cx@example.com>"
    text = value.strip()
    display, _, rest = text.rpartition("<")
    address = rest[:-1] if display or text.startswith("<") else text
    if (
        any(c in text for c in "\r\n\0")
        or ((display or text.startswith("<")) and not rest.endswith(">"))
        or any(c in display for c in '<>"')
        or not _EMAIL_ADDRESS.fullmatch(address)
    ):
        raise SettingError(name, expected, value)
    display = display.strip()
    return f"{display} <{address}>" if display else address
