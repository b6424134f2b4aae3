"""Write the configuration a real Asterisk 22 host needs for this city.

The dialplan, logger, CDR and music-on-hold files are the committed ones
(``settings.asterisk_conf_dir``) with the addresses filled in; queues.conf,
pjsip.conf and manager.conf are generated from the database (service
queues, active agents) and the settings.  Agents' SIP passwords go to a
separate file, mode 0600, that the admin hands out; re-rendering keeps the
passwords already in that file so phones stay registered.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from agents.models import Agent
from core.accounts import User
from pbx.asterisk_conf import BACKEND_WRITE, weak_secret
from pbx.conf_reader import read_conf
from pbx.transfer_plan import set_context, set_transfer_contexts
from routing.dial_patterns import callback_out_context
from routing.menu import GENERAL_QUEUE
from routing.models import ServiceQueue
from routing.rules import load_rules
from worksheets.models import Department

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.settings import Settings

PASSWORDS_FILE = "agent-sip-passwords.txt"
SECRET_MODE = 0o640
COPIED = ("extensions.conf", "logger.conf", "cdr.conf", "musiconhold.conf")
QUEUE_TEMPLATE = "hotline-queue"
AMI_READ = "system,call,agent,user,dtmf,reporting,cdr,dialplan"
AMI_WRITE = BACKEND_WRITE
HEADER = "; Written by `hotline asterisk-conf render`; edit the database or settings, not this.\n"


def render(settings: Settings, session: Session, out_dir: Path, *, agi_host: str | None = None,
           ami_secret: str | None = None, ami_permit: str | None = None) -> list[Path]:
    """Write every .conf file (and sounds/) for an Asterisk 22 host into ``out_dir``.

    ``agi_host``: the backend's address as Asterisk reaches it, needed when
    ``settings.agi_listen`` is a wildcard (0.0.0.0); ``ami_secret``
    overrides ``settings.ami.secret``; ``ami_permit`` is the address (or
    network) allowed to log in to AMI, by default the backend's address.
    Raises ValueError when an address or the AMI secret cannot be decided.
    Prints nothing; returns the paths written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    source = Path(settings.asterisk_conf_dir)
    backend = _backend_host(settings, agi_host)
    written: list[Path] = []

    def write(name: str, text: str, mode: int = 0o644) -> None:
        path = out_dir / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(path, mode)  # an existing file keeps its old mode through O_CREAT
        written.append(path)

    queues = list(session.scalars(select(ServiceQueue).order_by(ServiceQueue.menu_key,
                                                                ServiceQueue.name)))
    general_queue = next((q.name for q in queues if q.category == "general"), GENERAL_QUEUE)
    agents = list(session.scalars(select(Agent).where(Agent.active.is_(True))
                                  .order_by(Agent.number)))
    fastagi = f"agi://{_url_host(backend)}:{settings.agi_listen.port}"
    failover: list[str] = []
    if settings.agi_servers:
        # Several backends: the dialplan tries them in this order ([hotline-agi-failover]).
        fastagi, *failover = (f"agi://{_url_host(server.host)}:{server.port}"
                              for server in settings.agi_servers)
    for name in COPIED:
        if not (source / name).is_file():
            continue
        text = (source / name).read_text(encoding="utf-8")
        if name == "extensions.conf":
            text = _set_global(text, "FASTAGI", fastagi)
            text = _set_global(text, "FASTAGI_FAILOVER", "|".join(failover))
            text = _set_global(text, "GENERAL_QUEUE", general_queue)
            text = _set_callback_out(text, load_rules(session).callback_patterns)
            text = set_transfer_contexts(text, [q.name for q in queues], session.scalars(
                select(Department.contact_phone).where(Department.active,
                                                       Department.contact_phone != "")))
        write(name, text)
    write("queues.conf", _queues_conf(source / "queues.conf", queues, general_queue,
                                      settings.service_level_seconds))
    phones = _phones(session, agents)
    passwords = _passwords(out_dir / PASSWORDS_FILE, phones)
    # Secrets inside: readable by root and Asterisk's group, not by every user.
    write("pjsip.conf", _pjsip_conf(source / "pjsip.conf", agents, phones, passwords),
          SECRET_MODE)
    write("manager.conf", _manager_conf(settings, backend, ami_secret, ami_permit), SECRET_MODE)
    written.append(_write_passwords(out_dir / PASSWORDS_FILE, phones, passwords))
    sounds = source / "sounds"
    if sounds.is_dir():
        shutil.copytree(sounds, out_dir / "sounds", dirs_exist_ok=True)
    if settings.prompts_dir is not None:  # the city's voice replaces the synthetic one
        shutil.copytree(settings.prompts_dir, out_dir / "sounds", dirs_exist_ok=True)
    if (out_dir / "sounds").is_dir():
        written.extend(sorted(p for p in (out_dir / "sounds").rglob("*") if p.is_file()))
    return written


def _backend_host(settings: Settings, agi_host: str | None) -> str:
    host = agi_host or settings.agi_listen.host
    if host in ("0.0.0.0", "::", "", "*"):
        raise ValueError(f"HOTLINE_AGI_LISTEN is {settings.agi_listen}: give the backend's "
                         "address as Asterisk reaches it (agi_host / --agi-host)")
    return "127.0.0.1" if host == "localhost" else host


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _set_callback_out(text: str, patterns: list[str]) -> str:
    """Replace [callback-out] (and the comment above it) with the context
    rendered from the routing rules' dial patterns; add it when absent."""
    return set_context(text, "callback-out", callback_out_context(patterns))


def _set_global(text: str, name: str, value: str) -> str:
    """Replace ``NAME = ...`` inside [globals]; add it there when absent."""
    lines = text.splitlines(keepends=True)
    section = ""
    for i, line in enumerate(lines):
        header = re.match(r"\s*\[([^\]]+)\]", line)
        if header:
            if section == "globals":  # leaving [globals] without finding it
                lines.insert(i, f"{name} = {value}\n")
                return "".join(lines)
            section = header.group(1)
        elif section == "globals" and re.match(rf"\s*{name}\s*=", line):
            lines[i] = f"{name} = {value}\n"
            return "".join(lines)
    if section != "globals":
        lines.append("\n[globals]\n")
    lines.append(f"{name} = {value}\n")
    return "".join(lines)


def _queues_conf(source: Path, queues: list[ServiceQueue], general_queue: str,
                 service_level: int) -> str:
    """[general] and the queue template from the committed file, one queue per row."""
    conf = read_conf(source) if source.is_file() else None
    out = [HEADER, "; One queue per service queue row; options come from the template.\n"]
    general = conf.first("general") if conf else None
    out.append("[general]\n")
    for opt in general.options if general else []:
        out.append(f"{opt.name} = {opt.value}\n")
    template = conf.first(QUEUE_TEMPLATE) if conf else None
    out.append(f"\n[{QUEUE_TEMPLATE}](!)\n")
    for opt in template.options if template else []:
        if opt.name.lower() != "servicelevel":
            out.append(f"{opt.name} = {opt.value}\n")
    # The service level Asterisk reports (QueueSummary) is the city's target.
    out.append(f"servicelevel = {service_level}\n")
    names = [q.name for q in queues]
    if general_queue not in names:
        out.append(f"\n; the fallback when the backend cannot be asked\n"
                   f"[{general_queue}]({QUEUE_TEMPLATE})\n")
    for q in queues:
        out.append(f"\n; key {q.menu_key}: {q.category} ({q.label})\n"
                   f"[{q.name}]({QUEUE_TEMPLATE})\n")
    return "".join(out)


def _endpoint(agent: Agent) -> str | None:
    return _pjsip_name(agent.interface)


def _pjsip_name(interface: str) -> str | None:
    tech, _, name = interface.partition("/")
    return name if tech.upper() == "PJSIP" and re.fullmatch(r"[\w.+-]+", name) else None


@dataclass(frozen=True)
class Phone:
    """A softphone Asterisk knows: an agent's, or a supervisor's own (users.phone)."""

    endpoint: str
    owner: str  # the agent's or supervisor's name
    callerid: str
    supervisor: bool = False


def _phones(session: Session, agents: list[Agent]) -> list[Phone]:
    out = []
    for agent in agents:
        endpoint = _endpoint(agent)
        if endpoint:
            out.append(Phone(endpoint, agent.name, f"agent-{agent.number} <{agent.number}>"))
    taken = {p.endpoint for p in out} | {"trunk"}
    users = session.scalars(select(User).where(User.active.is_(True), User.phone.is_not(None),
                                               User.role.in_(("supervisor", "admin")))
                            .order_by(User.username))
    for user in users:
        endpoint = _pjsip_name(user.phone or "")
        if endpoint and endpoint not in taken:
            taken.add(endpoint)
            out.append(Phone(endpoint, user.display_name or user.username,
                             f"supervisor <{endpoint}>", supervisor=True))
    return out


def _passwords(path: Path, phones: list[Phone]) -> dict[str, str]:
    """Keep the passwords already handed out; make new ones for new phones."""
    known: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and not line.startswith("#"):
                known[parts[0]] = parts[2]
    return {p.endpoint: known.get(p.endpoint) or secrets.token_urlsafe(12) for p in phones}


def _write_passwords(path: Path, phones: list[Phone], passwords: dict[str, str]) -> Path:
    lines = ["# endpoint\towner\tpassword (SIP username = endpoint)\n"]
    for phone in phones:
        lines.append(f"{phone.endpoint}\t{phone.owner}\t{passwords[phone.endpoint]}\n")
    # Created 0600 from the start: the passwords never sit world-readable.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("".join(lines))
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT
    return path


def _pjsip_conf(source: Path, agents: list[Agent], phones: list[Phone],
                passwords: dict[str, str]) -> str:
    """Transport, trunk and templates from the committed file; one phone per
    agent, then the supervisors' own (the same templates: they may dial only
    what agents' phones may, [agents-out])."""
    text = source.read_text(encoding="utf-8") if source.is_file() else ""
    # The committed file ends its shared part with this marker; its sample
    # agents after it are replaced by the city's.
    shared = text.split("; --- agents ---")[0].rstrip() + "\n"
    out = [HEADER, shared, "\n; --- agents ---\n"]
    for agent in agents:
        endpoint = _endpoint(agent)
        if endpoint is None:
            out.append(f"; {agent.number}: {agent.interface} is not a PJSIP phone\n")
            continue
        out.append(
            f"\n; {agent.number} {agent.name}\n"
            f"[{endpoint}](agent-phone)\nauth = {endpoint}\naors = {endpoint}\n"
            f"callerid = agent-{agent.number} <{agent.number}>\n"
            f"[{endpoint}](agent-auth)\nusername = {endpoint}\npassword = {passwords[endpoint]}\n"
            f"[{endpoint}](agent-aor)\n")
    supervisors = [p for p in phones if p.supervisor]
    if supervisors:
        out.append("\n; --- supervisors (listen, whisper, barge ring these) ---\n")
    for phone in supervisors:
        e = phone.endpoint
        out.append(f"\n; {phone.owner}\n[{e}](agent-phone)\nauth = {e}\naors = {e}\n"
                   f"callerid = {phone.callerid}\n"
                   f"[{e}](agent-auth)\nusername = {e}\npassword = {passwords[e]}\n"
                   f"[{e}](agent-aor)\n")
    return "".join(out)


def _manager_conf(settings: Settings, backend: str, ami_secret: str | None,
                  ami_permit: str | None) -> str:
    secret = ami_secret or (settings.ami.secret if settings.ami else None)
    if not secret:
        raise ValueError("no AMI secret: set HOTLINE_AMI_URL (or HOTLINE_AMI_SECRET_FILE) or "
                         "pass --ami-secret-file")
    weak = weak_secret(secret)
    if weak is not None:
        raise ValueError(f"the AMI secret is weak ({weak}); make one with "
                         "`python3 -c 'import secrets; print(secrets.token_urlsafe(24))'`")
    user = settings.ami.username if settings.ami else "hotline"
    port = settings.ami.port if settings.ami else 5038
    try:
        permit = ipaddress.ip_network(ami_permit or backend, strict=False)
    except ValueError:
        raise ValueError(f"AMI permit {ami_permit or backend!r} is not an IP address or "
                         "network (Asterisk's ACLs do not resolve names)") from None
    ami_host = settings.ami.host if settings.ami else "127.0.0.1"
    bind = ami_host if _is_ip(ami_host) else ("::" if permit.version == 6 else "0.0.0.0")
    if permit.version == 6:
        deny, allow = "::/0", f"{permit.network_address}/{permit.prefixlen}"
    else:
        deny, allow = "0.0.0.0/0.0.0.0", f"{permit.network_address}/{permit.netmask}"
    return (
        f"{HEADER}"
        "; AMI for the 12345 backend: one user, least privilege (see README.md).\n"
        "[general]\nenabled = yes\n"
        f"port = {port}\nbindaddr = {bind}\ndisplayconnects = yes\n\n"
        f"[{user}]\nsecret = {secret}\n"
        "; Deny everyone, then let only the backend's address in (last match wins).\n"
        f"deny = {deny}\npermit = {allow}\n"
        "; read: system for FullyBooted/Shutdown events; write: no system, command, config.\n"
        f"read = {AMI_READ}\nwrite = {AMI_WRITE}\nwritetimeout = 5000\n"
    )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
