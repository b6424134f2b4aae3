"""The election's and the relay's connections add their keepalives to the
server options a database URL already gives (a search_path stays)."""

from __future__ import annotations

from core.pg_liveness import KEEPALIVE, connect_options


def test_options_in_the_url_are_kept_and_ours_follow() -> None:
    got = connect_options("postgresql://root@127.0.0.1:5432/h?options=-c%20search_path%3Dcity")
    assert got["options"].startswith("-c search_path=city -c tcp_keepalives_idle=5")
    assert {k: got[k] for k in KEEPALIVE} == KEEPALIVE


def test_without_options_in_the_url_only_ours() -> None:
    got = connect_options("postgresql://root@127.0.0.1:5432/h", statement_timeout=0)
    assert got["options"].split(" -c ")[0] == "-c tcp_keepalives_idle=5"
    assert got["options"].endswith("-c statement_timeout=0")
