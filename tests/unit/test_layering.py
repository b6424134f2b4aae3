"""No AMI action is written outside pbx/ (pbxsim/, bench/ and tests/ aside):
domain code calls the named commands of pbx/commands.py."""

from __future__ import annotations

import re

from core.settings import PROJECT_ROOT

DOMAINS = ("admin", "agents", "calls", "console", "floor", "hotline", "ivr", "routing", "speech",
           "worksheets")
RAW_ACTION = re.compile(r"""\.send\(\s*["'][A-Z]|["']Action["']\s*[:,]""")


def test_given_the_domain_packages_then_none_sends_a_raw_ami_action() -> None:
    offenders = [f"{path.relative_to(PROJECT_ROOT)}:{n}"
                 for package in DOMAINS for path in sorted((PROJECT_ROOT / package).rglob("*.py"))
                 for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
                 if RAW_ACTION.search(line)]
    assert offenders == []
