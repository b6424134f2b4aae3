"""Settings, from the environment and optionally a TOML file.

Precedence: environment variable > TOML file (``HOTLINE_CONFIG`` or
``--config``) > default.  Every value is validated here, once, so that a
bad setting stops start-up with one line naming it.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name


@dataclass(frozen=True)
class AmiTarget:
    host: str
    port: int
    username: str
    secret: str

    def __repr__(self) -> str:  # never print the secret
        return f"AmiTarget({self.username}@{self.host}:{self.port})"


@dataclass(frozen=True)
class Listen:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Settings:
    database_url: str
    ami: AmiTarget | None
    agi_listen: Listen
    http_listen: Listen
    vosk_model: Path | None
    vosk_models: dict[str, Path] = field(default_factory=dict)
    var_dir: Path = PROJECT_ROOT / "var"
    recordings_dir: Path = PROJECT_ROOT / "var" / "recordings"
    asterisk_conf_dir: Path = PROJECT_ROOT / "asterisk-conf"
    timezone: str = "Asia/Shanghai"
    service_level_seconds: int = 15
    service_level_target: float = 0.90
    completion_target: float = 0.96  # 办结率 each department is held to
    ami_action_timeout: float = 5.0
    ami_ping_interval: float = 10.0
    # How often each backend compares the settings it holds with the database's,
    # healing a missed "config.changed" NOTIFY (core.config_sync).
    config_check_seconds: float = 30.0
    agi_command_timeout: float = 30.0
    agi_max_sessions: int = 500
    order_target_minutes: int = 10
    log_level: str = "INFO"
    order_prefix: str = "BJ"  # work-order numbers: BJ20261129-0001
    instance_name: str = "backend"  # how this backend signs its claims (several may share a DB)
    # FastAGI servers the dialplan tries in turn (asterisk-conf render); empty: agi_listen only.
    agi_servers: tuple[Listen, ...] = ()
    # Addresses allowed to open FastAGI sessions (the Asterisk servers).
    agi_allowed: tuple[str, ...] = ("127.0.0.1", "::1")
    # Reverse proxies whose X-Forwarded-For names the client (login throttling).
    trusted_proxies: tuple[str, ...] = ()
    # Send the session cookie only over HTTPS (set behind the TLS proxy).
    cookie_secure: bool = False
    # Recordings and transcripts older than this are purged (0: never).
    retention_days: int = 365
    # After a call, the agent stays in wrap-up until its order is submitted,
    # at most this long (then ready by itself); 0: only the queues' wrapuptime.
    wrapup_max_seconds: int = 300
    # The city's own recorded prompts (hotline/welcome.wav...), None: the
    # espeak-ng ones in asterisk-conf/sounds.
    prompts_dir: Path | None = None
    # When the IVR asks for a description: "waiting" (only when the estimated
    # wait is longer than the description can take) or "always".
    description_when: str = "waiting"
    # A closed order's 回访 is due this many hours after the hotline closed it
    # (DOMAIN.md is silent); due soon from 80 % of that.
    visit_hours: int = 48
    # Largest attachment on an order (photos, documents), in megabytes.
    attachment_max_mb: int = 10
    # Prometheus metrics (hotline/metrics.py) on their own address; None: off.
    metrics_listen: Listen | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# name -> (TOML key, description) for documentation and `hotline serve --help`.
DOCUMENTED = {
    "HOTLINE_CONFIG": "path of an optional TOML settings file",
    "HOTLINE_DATABASE_URL": "SQLAlchemy URL; default sqlite:///var/hotline.db",
    "HOTLINE_AMI_URL": "ami://user:secret@host:port of the Asterisk manager interface",
    "HOTLINE_AGI_LISTEN": "host:port of our FastAGI server (default 127.0.0.1:4573)",
    "HOTLINE_HTTP_LISTEN": "host:port of the console and REST API (default 127.0.0.1:8080)",
    "HOTLINE_METRICS_LISTEN": "host:port of the Prometheus metrics, no login: keep it "
                              "internal (default: off)",
    "HOTLINE_VOSK_MODEL": "Vosk model directory (default language)",
    "HOTLINE_VOSK_MODEL_<LANG>": "Vosk model directory for one language, e.g. _ZH",
    "HOTLINE_VAR_DIR": "where the SQLite database, recordings and logs live (default var/)",
    "HOTLINE_RECORDINGS_DIR": "where Asterisk's recordings are read (default var/recordings)",
    "HOTLINE_TIMEZONE": "the city's time zone (default Asia/Shanghai)",
    "HOTLINE_SERVICE_LEVEL_SECONDS": "answer target in seconds (default 15, GB/T 33358-2016)",
    "HOTLINE_SERVICE_LEVEL_TARGET": "share of calls to answer within it (default 0.90)",
    "HOTLINE_COMPLETION_TARGET": "completion rate (办结率) departments are held to (default 0.96)",
    "HOTLINE_LOG_LEVEL": "DEBUG, INFO, WARNING or ERROR",
    "HOTLINE_ORDER_PREFIX": "letters before the date in work-order numbers (default BJ)",
    "HOTLINE_INSTANCE": "this backend's name when several share a database (default backend)",
    "HOTLINE_AGI_SERVERS": "host:port,host:port... FastAGI servers the dialplan tries in turn "
                           "(asterisk-conf render; default HOTLINE_AGI_LISTEN)",
    "HOTLINE_AMI_SECRET_FILE": "file whose first line is the AMI secret (then HOTLINE_AMI_URL "
                               "is ami://user@host:port, and no secret sits in the environment)",
    "HOTLINE_AGI_ALLOW": "comma-separated IP addresses of the Asterisk servers allowed to "
                         "use FastAGI (default 127.0.0.1,::1)",
    "HOTLINE_TRUSTED_PROXIES": "comma-separated IP addresses of reverse proxies whose "
                               "X-Forwarded-For is believed (default none)",
    "HOTLINE_COOKIE_SECURE": "true: the session cookie is sent over HTTPS only (production)",
    "HOTLINE_RETENTION_DAYS": "recordings and transcripts older than this many days are "
                              "purged daily, except an open order's (default 365; 0: never)",
    "HOTLINE_WRAPUP_MAX_SECONDS": "after a call the agent is in wrap-up until the order is "
                                  "submitted, at most this long (default 300; 0: the queues' "
                                  "wrapuptime only)",
    "HOTLINE_PROMPTS_DIR": "the city's recorded IVR prompts (see asterisk-conf/README.md)",
    "HOTLINE_DESCRIPTION_WHEN": "waiting (default: only when the wait is long) or always",
    "HOTLINE_VISIT_HOURS": "a closed order's 回访 is due this many hours after it closed "
                           "(default 48; due soon from 80 %)",
    "HOTLINE_ATTACHMENT_MAX_MB": "largest attachment on a work order in MB (default 10)",
}


def _addresses(name: str, value: str) -> tuple[str, ...]:
    out = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            out.append(str(ipaddress.ip_address(item)))
        except ValueError:
            raise SettingsError(name, f"not an IP address: {item!r}") from None
    return tuple(out)


def _flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(name, f"expected true or false, got {value!r}")


def _parse_listen(name: str, value: str) -> Listen:
    host, sep, port = value.rpartition(":")
    if not sep or not host:
        raise SettingsError(name, f"expected host:port, got {value!r}")
    host = host.strip("[]")
    try:
        number = int(port)
    except ValueError:
        raise SettingsError(name, f"port must be a number, got {port!r}") from None
    if not 0 <= number <= 65535:
        raise SettingsError(name, f"port must be 0-65535, got {number}")
    return Listen(host, number)


def read_secret_file(name: str, path: str) -> str:
    """A secret from the first line of a file (never from the command line or
    the environment, where ps and /proc show it)."""
    try:
        secret = Path(path).read_text(encoding="utf-8").splitlines()[0].strip()
    except (OSError, IndexError, UnicodeDecodeError) as exc:
        raise SettingsError(name, f"cannot read a secret from {path}: "
                                  f"{getattr(exc, 'strerror', None) or 'empty file'}") from None
    if not secret:
        raise SettingsError(name, f"{path} holds no secret on its first line")
    return secret


def parse_ami_url(name: str, value: str, secret: str | None = None) -> AmiTarget:
    """``secret`` (from HOTLINE_AMI_SECRET_FILE) stands in for the URL's own."""
    parts = urlsplit(value)
    if parts.scheme != "ami":
        raise SettingsError(name, "expected ami://user:secret@host:port")
    if secret is not None and parts.username and parts.hostname:
        try:
            port = parts.port or 5038
        except ValueError:
            raise SettingsError(name, "the port must be a number from 0 to 65535") from None
        return AmiTarget(parts.hostname, port, unquote(parts.username), secret)
    if not parts.username or parts.password is None or not parts.hostname:
        raise SettingsError(name, "expected ami://user:secret@host:port (user, secret and host;"
                                  " or ami://user@host:port with HOTLINE_AMI_SECRET_FILE)")
    try:
        port = parts.port or 5038
    except ValueError:
        raise SettingsError(name, "the port must be a number from 0 to 65535") from None
    return AmiTarget(parts.hostname, port, unquote(parts.username), unquote(parts.password))


def _parse_database_url(name: str, value: str) -> str:
    scheme = value.split(":", 1)[0]
    if not value or "://" not in value:
        raise SettingsError(name, "expected an SQLAlchemy URL such as sqlite:///var/hotline.db")
    if not (scheme.startswith("sqlite") or scheme.startswith("postgresql")):
        raise SettingsError(name, f"unsupported database {scheme!r}: use sqlite or postgresql")
    if scheme == "postgresql":
        # psycopg 3 is the driver we ship; the bare scheme would ask for psycopg2.
        value = "postgresql+psycopg" + value[len("postgresql"):]
    return value


def _number(name: str, value: str, kind: type, low: float, high: float) -> float | int:
    try:
        number = kind(value)
    except ValueError:
        raise SettingsError(name, f"expected a number, got {value!r}") from None
    if not low <= number <= high:
        raise SettingsError(name, f"must be between {low} and {high}, got {number}")
    return number


def _read_toml(path: Path) -> dict[str, str]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError("HOTLINE_CONFIG", f"no such file: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError("HOTLINE_CONFIG", f"{path} is not valid TOML: {exc}") from None
    flat: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            for sub, subvalue in value.items():  # [vosk_models] zh = "/path"
                flat[f"HOTLINE_{key.upper()}_{sub.upper()}".replace("MODELS", "MODEL")] = str(
                    subvalue
                )
        else:
            flat[f"HOTLINE_{key.upper()}"] = str(value)
    return flat


def load_settings(
    env: Mapping[str, str] | None = None, config_file: str | os.PathLike[str] | None = None
) -> Settings:
    """Build validated settings; raise :class:`SettingsError` naming the bad one."""
    env = dict(os.environ if env is None else env)
    values: dict[str, str] = {}
    config_path = config_file or env.get("HOTLINE_CONFIG")
    if config_path:
        values.update(_read_toml(Path(config_path)))
    values.update({k: v for k, v in env.items() if k.startswith("HOTLINE_")})

    var_dir = Path(values.get("HOTLINE_VAR_DIR", PROJECT_ROOT / "var")).resolve()
    database_url = _parse_database_url(
        "HOTLINE_DATABASE_URL",
        values.get("HOTLINE_DATABASE_URL", f"sqlite:///{var_dir / 'hotline.db'}"),
    )
    ami_url = values.get("HOTLINE_AMI_URL", "")
    secret_file = values.get("HOTLINE_AMI_SECRET_FILE", "")
    secret = read_secret_file("HOTLINE_AMI_SECRET_FILE", secret_file) if secret_file else None
    ami = parse_ami_url("HOTLINE_AMI_URL", ami_url, secret) if ami_url else None

    vosk_models: dict[str, Path] = {}
    for key, value in values.items():
        if key.startswith("HOTLINE_VOSK_MODEL_") and value:
            vosk_models[key.removeprefix("HOTLINE_VOSK_MODEL_").lower()] = Path(value)
    default_model = values.get("HOTLINE_VOSK_MODEL") or None

    timezone = values.get("HOTLINE_TIMEZONE", "Asia/Shanghai")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError("HOTLINE_TIMEZONE", f"unknown time zone {timezone!r}") from None
    log_level = values.get("HOTLINE_LOG_LEVEL", "INFO").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError("HOTLINE_LOG_LEVEL",
                            f"expected DEBUG, INFO, WARNING or ERROR, got {log_level!r}")

    order_prefix = values.get("HOTLINE_ORDER_PREFIX", "BJ")
    if not re.fullmatch(r"[A-Z]{1,6}", order_prefix):
        raise SettingsError("HOTLINE_ORDER_PREFIX",
                            f"expected 1 to 6 capital letters, got {order_prefix!r}")
    instance_name = values.get("HOTLINE_INSTANCE", "backend")
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", instance_name):
        raise SettingsError("HOTLINE_INSTANCE",
                            f"expected 1 to 32 letters, digits, '.', '_' or '-', got "
                            f"{instance_name!r}")
    agi_servers = tuple(
        _parse_listen("HOTLINE_AGI_SERVERS", part.strip())
        for part in values.get("HOTLINE_AGI_SERVERS", "").split(",") if part.strip())
    prompts = values.get("HOTLINE_PROMPTS_DIR") or None
    if prompts and not Path(prompts).is_dir():
        raise SettingsError("HOTLINE_PROMPTS_DIR", f"{prompts!r} is not a directory")
    description_when = values.get("HOTLINE_DESCRIPTION_WHEN", "waiting").lower()
    if description_when not in ("waiting", "always"):
        raise SettingsError("HOTLINE_DESCRIPTION_WHEN",
                            f"expected waiting or always, got {description_when!r}")

    metrics = values.get("HOTLINE_METRICS_LISTEN", "").strip()
    return Settings(
        metrics_listen=_parse_listen("HOTLINE_METRICS_LISTEN", metrics) if metrics else None,
        order_prefix=order_prefix, instance_name=instance_name, agi_servers=agi_servers,
        database_url=database_url,
        ami=ami,
        agi_listen=_parse_listen(
            "HOTLINE_AGI_LISTEN", values.get("HOTLINE_AGI_LISTEN", "127.0.0.1:4573")
        ),
        http_listen=_parse_listen(
            "HOTLINE_HTTP_LISTEN", values.get("HOTLINE_HTTP_LISTEN", "127.0.0.1:8080")
        ),
        vosk_model=Path(default_model) if default_model else None,
        vosk_models=vosk_models,
        var_dir=var_dir,
        recordings_dir=Path(values.get("HOTLINE_RECORDINGS_DIR", var_dir / "recordings")),
        timezone=timezone,
        service_level_seconds=int(
            _number("HOTLINE_SERVICE_LEVEL_SECONDS",
                    values.get("HOTLINE_SERVICE_LEVEL_SECONDS", "15"), int, 1, 600)
        ),
        service_level_target=float(
            _number("HOTLINE_SERVICE_LEVEL_TARGET",
                    values.get("HOTLINE_SERVICE_LEVEL_TARGET", "0.9"), float, 0.0, 1.0)
        ),
        completion_target=float(
            _number("HOTLINE_COMPLETION_TARGET",
                    values.get("HOTLINE_COMPLETION_TARGET", "0.96"), float, 0.0, 1.0)
        ),
        log_level=log_level,
        agi_allowed=_addresses("HOTLINE_AGI_ALLOW",
                               values.get("HOTLINE_AGI_ALLOW", "127.0.0.1,::1")),
        trusted_proxies=_addresses("HOTLINE_TRUSTED_PROXIES",
                                   values.get("HOTLINE_TRUSTED_PROXIES", "")),
        cookie_secure=_flag("HOTLINE_COOKIE_SECURE", values.get("HOTLINE_COOKIE_SECURE", "")),
        retention_days=int(_number("HOTLINE_RETENTION_DAYS",
                                   values.get("HOTLINE_RETENTION_DAYS", "365"), int, 0, 36500)),
        prompts_dir=Path(prompts) if prompts else None,
        description_when=description_when,
        wrapup_max_seconds=int(_number(
            "HOTLINE_WRAPUP_MAX_SECONDS", values.get("HOTLINE_WRAPUP_MAX_SECONDS", "300"),
            int, 0, 3600)),
        visit_hours=int(_number("HOTLINE_VISIT_HOURS", values.get("HOTLINE_VISIT_HOURS", "48"),
                                int, 1, 720)),
        attachment_max_mb=int(_number("HOTLINE_ATTACHMENT_MAX_MB",
                                      values.get("HOTLINE_ATTACHMENT_MAX_MB", "10"), int, 1, 100)),
    )
