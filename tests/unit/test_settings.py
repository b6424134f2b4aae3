from __future__ import annotations

import subprocess
import sys

import pytest

from core.logmask import MaskingFilter, mask_number
from core.settings import SettingsError, load_settings


def test_defaults_use_sqlite_under_var_and_standard_ports(tmp_path):
    s = load_settings(env={"HOTLINE_VAR_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'hotline.db'}"
    assert (s.agi_listen.host, s.agi_listen.port) == ("127.0.0.1", 4573)
    assert (s.http_listen.host, s.http_listen.port) == ("127.0.0.1", 8080)
    assert s.ami is None and s.vosk_model is None


def test_ami_url_is_parsed_and_secret_not_shown():
    s = load_settings(env={"HOTLINE_AMI_URL": "ami://hotline:s%40cret@10.0.0.5:5038"})
    assert s.ami is not None
    assert (s.ami.host, s.ami.port, s.ami.username, s.ami.secret) == (
        "10.0.0.5", 5038, "hotline", "s@cret")
    assert "s@cret" not in repr(s.ami)


@pytest.mark.parametrize("name,value", [
    ("HOTLINE_AMI_URL", "http://x"),
    ("HOTLINE_AMI_URL", "ami://nohost"),
    ("HOTLINE_AMI_URL", "ami://u:p@host:99999"),
    ("HOTLINE_AGI_LISTEN", "4573"),
    ("HOTLINE_HTTP_LISTEN", "127.0.0.1:http"),
    ("HOTLINE_DATABASE_URL", "mysql://x/y"),
    ("HOTLINE_TIMEZONE", "Mars/Olympus"),
    ("HOTLINE_SERVICE_LEVEL_TARGET", "2"),
    ("HOTLINE_METRICS_LISTEN", "9100"),
    ("HOTLINE_METRICS_LISTEN", "127.0.0.1:metrics"),
])
def test_bad_setting_names_itself(name, value):
    with pytest.raises(SettingsError) as err:
        load_settings(env={name: value})
    assert str(err.value).startswith(name + ":")


def test_metrics_are_off_unless_an_address_is_given():
    assert load_settings(env={}).metrics_listen is None
    assert str(load_settings(env={"HOTLINE_METRICS_LISTEN": "127.0.0.1:9464"})
               .metrics_listen) == "127.0.0.1:9464"


def test_toml_file_is_read_and_environment_wins(tmp_path):
    path = tmp_path / "hotline.toml"
    path.write_text('http_listen = "0.0.0.0:9000"\nagi_listen = "0.0.0.0:4600"\n'
                    '[vosk_models]\nzh = "/models/zh"\n')
    s = load_settings(env={"HOTLINE_CONFIG": str(path), "HOTLINE_AGI_LISTEN": "127.0.0.1:4700"})
    assert s.http_listen.port == 9000 and s.agi_listen.port == 4700
    assert str(s.vosk_models["zh"]) == "/models/zh"
    path.write_text("not = [valid")
    with pytest.raises(SettingsError, match="HOTLINE_CONFIG"):
        load_settings(env={"HOTLINE_CONFIG": str(path)})


def test_postgresql_url_gets_the_psycopg_driver():
    s = load_settings(env={"HOTLINE_DATABASE_URL": "postgresql://root@127.0.0.1/x"})
    assert s.database_url.startswith("postgresql+psycopg://")


def test_cli_bad_setting_prints_one_line_and_exits_2():
    proc = subprocess.run([sys.executable, "-m", "hotline.cli", "migrate"],
                          env={"HOTLINE_AMI_URL": "bogus", "PATH": ""},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("hotline: HOTLINE_AMI_URL:")
    assert "Traceback" not in proc.stderr


def test_every_cli_command_has_help():
    for args in (["--help"], ["serve", "--help"], ["demo", "--help"], ["migrate", "--help"],
                 ["user", "--help"], ["user", "create", "--help"]):
        proc = subprocess.run([sys.executable, "-m", "hotline.cli", *args],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, args
        assert "usage: hotline" in proc.stdout


def test_phone_numbers_are_masked_in_logs_but_ids_are_not():
    import logging

    record = logging.LogRecord("x", logging.INFO, __file__, 1,
                               "call %s from %s, landline %s", ("1795945068.1", "13800138000",
                                                                "09173212345"), None)
    MaskingFilter().filter(record)
    assert record.getMessage() == "call 1795945068.1 from 138****8000, landline 0917****2345"
    assert mask_number("13800138000") == "138****8000"
    assert mask_number("12345") == "12345"
    assert mask_number("") == ""


def test_order_prefix_instance_and_agi_servers_are_checked() -> None:
    from core.settings import Listen

    s = load_settings({"HOTLINE_ORDER_PREFIX": "XA", "HOTLINE_INSTANCE": "b2",
                       "HOTLINE_AGI_SERVERS": "10.0.0.1:4573,10.0.0.2:4574"})
    assert (s.order_prefix, s.instance_name) == ("XA", "b2")
    assert s.agi_servers == (Listen("10.0.0.1", 4573), Listen("10.0.0.2", 4574))
    for name, bad in (("HOTLINE_ORDER_PREFIX", "bj-"), ("HOTLINE_INSTANCE", "a b"),
                      ("HOTLINE_AGI_SERVERS", "10.0.0.1")):
        with pytest.raises(SettingsError, match=name):
            load_settings({name: bad})


def test_numbers_with_a_country_prefix_or_punctuation_and_in_tracebacks_are_masked():
    import logging

    from core.logmask import MaskingFormatter, mask_text

    assert mask_text("from +8613800138000 and 008613900139000") == (
        "from 138****8000 and 139****9000")
    assert mask_text("call +86 138-0013-8000 / 138 0013 8000 / (0917) 321-2345") == (
        "call 138****8000 / 138****8000 / (091****2345")
    unchanged = "call 1795945068.1 at 2026-12-05 18:12:36, order BJ20261205-0001, port 4573"
    assert mask_text(unchanged) == unchanged
    try:
        raise ValueError("no route for 13800138000")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (),
                                   sys.exc_info())
    text = MaskingFormatter("%(message)s").format(record)
    assert "13800138000" not in text and "138****8000" in text


def test_every_documented_setting_is_in_the_readme():
    from pathlib import Path

    from core.settings import DOCUMENTED

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [name for name in DOCUMENTED if f"`{name}`" not in readme]
    assert not missing, f"settings not in README.md's table: {missing}"
