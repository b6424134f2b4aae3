"""No AMI action is written outside pbx/ (pbxsim/, bench/ and tests/ aside):
domain code calls the named commands of pbx/commands.py."""

from __future__ import annotations

import re

from core.settings import PROJECT_ROOT

# Every top-level package of ours, found on disk (a new one is checked without
# being listed here), except the PBX layer itself, the stand-in, benchmarks and tests.
EXEMPT = {"pbx", "pbxsim", "bench", "tests", "scripts"}
DOMAINS = tuple(sorted(p.parent.name for p in PROJECT_ROOT.glob("*/__init__.py")
                       if p.parent.name not in EXEMPT))
RAW_ACTION = re.compile(r"""\.send\(\s*["'][A-Z]|["']Action["']\s*[:,]""")


def test_given_the_domain_packages_then_none_sends_a_raw_ami_action() -> None:
    assert {"reports", "worksheets", "hotline"} <= set(DOMAINS)
    offenders = [f"{path.relative_to(PROJECT_ROOT)}:{n}"
                 for package in DOMAINS for path in sorted((PROJECT_ROOT / package).rglob("*.py"))
                 for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
                 if RAW_ACTION.search(line)]
    assert offenders == []
