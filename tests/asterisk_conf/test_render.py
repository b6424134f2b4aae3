"""render(): from a migrated, seeded database to files that pass check()."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.models import Agent, Team
from core.db import make_engine
from core.settings import load_settings
from hotline.migrate import upgrade
from pbx.asterisk_conf import check, render
from pbx.conf_reader import Dialplan, read_conf
from routing.menu import RoutingTable
from routing.models import ServiceQueue

SECRET = "s3cret-for-tests"


def _seed(session: Session) -> None:
    try:
        from hotline.seed import seed_demo_city
    except ImportError:  # seed.py is new; stand-in rows keep this test independent of it
        session.add_all([
            ServiceQueue(name="hotline-help", category="help", menu_key="1", label="求助"),
            ServiceQueue(name="hotline-general", category="general", menu_key="0",
                         label="人工服务"),
        ])
        team = Team(code="A", name="一班", rota_index=0)
        session.add(team)
        session.flush()
        session.add_all([Agent(number=str(n), name=f"agent {n}", team_id=team.id,
                               interface=f"PJSIP/{n}") for n in (1001, 1002, 1003)])
        session.flush()
        return
    seed_demo_city(session, datetime(2025, 3, 3, 8, 0, tzinfo=UTC))


@pytest.fixture
def session(tmp_path: Path) -> Session:
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    upgrade(engine)
    with Session(engine) as s:
        _seed(s)
        # one agent who left: no phone for them
        s.add(Agent(number="1999", name="离职", team_id=s.scalars(select(Team)).first().id,
                    interface="PJSIP/1999", active=False))
        s.commit()
        yield s
    engine.dispose()


def settings_for(listen: str = "10.20.0.5:4573"):
    return load_settings({"HOTLINE_AGI_LISTEN": listen,
                          "HOTLINE_AMI_URL": f"ami://hotline:{SECRET}@10.20.0.9:5038"})


def test_rendered_files_pass_check(session: Session, tmp_path: Path) -> None:
    settings = settings_for()
    out = tmp_path / "out"
    written = render(settings, session, out)
    names = {p.name for p in written}
    assert {"extensions.conf", "queues.conf", "manager.conf", "pjsip.conf", "logger.conf",
            "cdr.conf", "musiconhold.conf", "agent-sip-passwords.txt", "welcome.wav"} <= names
    assert all(p.is_file() for p in written)
    queues = RoutingTable.load(session).queues()
    problems = check(out, settings, queues)
    assert [p for p in problems if p.severity == "error"] == []


def test_one_endpoint_per_active_agent(session: Session, tmp_path: Path) -> None:
    render(settings_for(), session, tmp_path)
    pjsip = read_conf(tmp_path / "pjsip.conf")
    endpoints = {s.name for s in pjsip.active if s.get("type") == "endpoint"} - {"trunk"}
    active = {a.number for a in session.scalars(select(Agent).where(Agent.active.is_(True)))}
    assert endpoints == active and "1999" not in endpoints
    auths = {s.name: s.get("password") for s in pjsip.active if s.get("type") == "auth"}
    assert set(auths) == active and len(set(auths.values())) == len(auths)
    assert "change-me" not in (tmp_path / "pjsip.conf").read_text(encoding="utf-8")


def test_password_file_is_private_and_stable(session: Session, tmp_path: Path) -> None:
    render(settings_for(), session, tmp_path)
    path = tmp_path / "agent-sip-passwords.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = [ln.split("\t") for ln in path.read_text(encoding="utf-8").splitlines()[1:]]
    pjsip = read_conf(tmp_path / "pjsip.conf")
    for endpoint, _name, password in lines:
        auth = [s for s in pjsip.named(endpoint) if s.get("type") == "auth"][0]
        assert auth.get("password") == password and len(password) >= 12
    before = path.read_text(encoding="utf-8")
    path.chmod(0o644)
    render(settings_for(), session, tmp_path)  # again: phones keep their passwords
    assert path.read_text(encoding="utf-8") == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_manager_permits_only_the_backend(session: Session, tmp_path: Path) -> None:
    render(settings_for(), session, tmp_path, ami_permit="10.20.0.5")
    user = read_conf(tmp_path / "manager.conf").first("hotline")
    assert user is not None and user.get("secret") == SECRET
    acl = [(o.name, o.value) for o in user.options if o.name in ("permit", "deny")]
    assert acl == [("deny", "0.0.0.0/0.0.0.0"), ("permit", "10.20.0.5/255.255.255.255")]
    assert "system" not in user.get("write", "") and "system" in user.get("read", "")
    general = read_conf(tmp_path / "manager.conf").first("general")
    assert general is not None and general.get("bindaddr") == "10.20.0.9"


def test_ami_secret_argument_wins(session: Session, tmp_path: Path) -> None:
    render(load_settings({}), session, tmp_path, ami_secret="from-the-cli-Qx7wE2rT9")
    user = read_conf(tmp_path / "manager.conf").first("hotline")
    assert user is not None and user.get("secret") == "from-the-cli-Qx7wE2rT9"
    assert user.all("permit")[0].value == "127.0.0.1/255.255.255.255"


def test_fastagi_points_at_the_backend(session: Session, tmp_path: Path) -> None:
    settings = settings_for("0.0.0.0:4573")
    with pytest.raises(ValueError, match="agi_host"):
        render(settings, session, tmp_path)
    render(settings, session, tmp_path, agi_host="10.20.0.5")
    plan = Dialplan.from_conf(read_conf(tmp_path / "extensions.conf"))
    assert plan.globals["FASTAGI"].value == "agi://10.20.0.5:4573"
    assert plan.globals["GENERAL_QUEUE"].value == RoutingTable.load(session).general.queue
    user = read_conf(tmp_path / "manager.conf").first("hotline")
    assert user is not None and user.get("permit") == "10.20.0.5/255.255.255.255"


def test_queues_from_rows(session: Session, tmp_path: Path) -> None:
    render(settings_for(), session, tmp_path)
    conf = read_conf(tmp_path / "queues.conf")
    names = {s.name for s in conf.active} - {"general"}
    assert names == {q.name for q in session.scalars(select(ServiceQueue))}
    for section in conf.active:
        if section.name != "general":
            assert section.get("strategy") == "rrmemory"
            assert section.get("servicelevel") == "15"


def test_no_secret_anywhere_is_refused(session: Session, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="AMI secret"):
        render(load_settings({}), session, tmp_path)


def test_several_backends_are_tried_in_turn_and_the_files_still_check(
        session: Session, tmp_path: Path) -> None:
    settings = load_settings({"HOTLINE_AGI_LISTEN": "10.20.0.6:4573",
                              "HOTLINE_AGI_SERVERS":
                                  "10.20.0.5:4573, 10.20.0.6:4573,[fd00::7]:4573",
                              "HOTLINE_AMI_URL": f"ami://hotline:{SECRET}@10.20.0.9:5038"})
    render(settings, session, tmp_path)
    plan = Dialplan.from_conf(read_conf(tmp_path / "extensions.conf"))
    assert plan.globals["FASTAGI"].value == "agi://10.20.0.5:4573"
    assert plan.globals["FASTAGI_FAILOVER"].value == "agi://10.20.0.6:4573|agi://[fd00::7]:4573"
    queues = RoutingTable.load(session).queues()
    assert [p for p in check(tmp_path, settings, queues) if p.severity == "error"] == []


def test_files_with_secrets_are_0640_and_a_weak_ami_secret_is_refused(session: Session,
                                                                      tmp_path: Path) -> None:
    render(settings_for(), session, tmp_path)
    for name in ("manager.conf", "pjsip.conf"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o640, name
    assert stat.S_IMODE((tmp_path / "extensions.conf").stat().st_mode) == 0o644
    for weak in ("amp111", "hotline-secret-2024", "aaaaaaaaaaaaaaaaaaaa"):
        with pytest.raises(ValueError, match="weak"):
            render(settings_for(), session, tmp_path / "weak", ami_secret=weak)
    manager = tmp_path / "manager.conf"
    manager.write_text(manager.read_text().replace(SECRET, "amp111"))
    problems = check(tmp_path, None, RoutingTable.load(session).queues())
    assert any("weak" in p.message and p.file == "manager.conf" for p in problems)


def test_the_ami_secret_comes_from_a_file_not_the_environment(tmp_path: Path) -> None:
    secret_file = tmp_path / "ami.secret"
    secret_file.write_text("Zx8-kQ2mP9aLwR4tYu\n")
    settings = load_settings({"HOTLINE_AMI_URL": "ami://hotline@10.20.0.9:5038",
                              "HOTLINE_AMI_SECRET_FILE": str(secret_file)})
    assert settings.ami is not None and settings.ami.secret == "Zx8-kQ2mP9aLwR4tYu"
    assert settings.ami.username == "hotline" and settings.ami.host == "10.20.0.9"


def test_supervisors_phones_get_endpoints(session: Session, tmp_path: Path) -> None:
    from core.accounts import create_user

    now = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
    sup = create_user(session, username="zhang", password="x" * 12, role="supervisor", now=now)
    sup.phone = "PJSIP/9001"
    agent = create_user(session, username="li", password="x" * 12, role="agent", now=now)
    agent.phone = "PJSIP/9002"  # not a supervisor: no endpoint
    session.commit()
    render(settings_for(), session, tmp_path)
    pjsip = read_conf(tmp_path / "pjsip.conf")
    kinds = {s.get("type") for s in pjsip.named("9001")}
    assert kinds == {"endpoint", "auth", "aor"}
    endpoint = next(s for s in pjsip.named("9001") if s.get("type") == "endpoint")
    assert endpoint.get("context") == "agents-out"  # dials what agents' phones may
    assert not pjsip.named("9002")
    lines = (tmp_path / "agent-sip-passwords.txt").read_text(encoding="utf-8").splitlines()
    assert any(ln.startswith("9001\tzhang\t") for ln in lines)
    problems = check(tmp_path, settings_for(), RoutingTable.load(session).queues())
    # (the committed trunk's placeholder address is warned about, as before)
    assert [p for p in problems if p.severity == "error" or "9001" in p.message] == []
