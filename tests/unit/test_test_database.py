"""The test suite's own guard: a PostgreSQL that answers but refuses the
tests' login is a failure to fix, not a skipped test."""

from __future__ import annotations

import pytest

from tests.conftest import PG_ADMIN_URL, _postgres_available, postgres_unavailable


def test_given_a_login_the_server_refuses_then_the_test_fails_not_skips(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    if _postgres_available() is not None:
        pytest.skip("no PostgreSQL on this machine to refuse us")
    server, _, database = PG_ADMIN_URL.rpartition("/")
    scheme, _, host = server.rpartition("@")
    wrong_user = f"{scheme.split('//')[0]}//no_such_hotline_role:wrong@{host}/{database}"
    reason = _postgres_available(wrong_user)
    assert reason is not None
    with pytest.raises(pytest.fail.Exception, match="refused the tests' login"):
        postgres_unavailable(reason)


@pytest.mark.parametrize("reason", [
    'connection failed: FATAL:  password authentication failed for user "root"',
    "connection failed: fe_sendauth: no password supplied",
    'FATAL:  database "postgres" does not exist',
    'FATAL:  no pg_hba.conf entry for host "127.0.0.1", user "root"',
])
def test_given_a_refusal_then_failure_even_outside_ci(monkeypatch, reason):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.fail.Exception):
        postgres_unavailable(reason)


def test_given_no_server_then_skip_outside_ci_and_failure_in_ci(monkeypatch):
    reason = "connection failed: connection to server at \"127.0.0.1\", port 5432 failed: " \
             "Connection refused"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        postgres_unavailable(reason)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        postgres_unavailable(reason)
