#!/usr/bin/env python3
"""Rewrites references to the modules that moved from ``hotline/`` to ``core/``.

Idempotent: run it again after merging a branch that still uses the old
names (``hotline/<m>.py`` are aliases for one release).  It rewrites, in
every ``.py`` and ``.mako`` file of the checkout (shims, .venv and build
output aside):

* ``from hotline.settings import X`` / ``import hotline.clock [as c]``
* ``from hotline import settings, app`` (split: the moved names come from core)
* dotted references in code and strings: ``hotline.clock.Clock``,
  monkeypatch targets ``"hotline.clock.X"``, logger names ``"hotline.bus"``
  (``hotline.db`` only when dotted further or imported, so the SQLite file
  ``var/hotline.db`` is left alone)
* names that moved elsewhere: ``hotline.outbox``'s ``CALL_RECORDING`` and
  ``follow_calls`` (now ``speech.recording_outbox``), ``hotline.cli``'s
  ``_fail`` and ``_settings`` (now ``core.commands.fail`` / ``settings_of``).

``--port-merge`` (during a ``git merge`` that stopped on conflicts): a moved
module changed on the other side since the merge base is a conflict on
``hotline/<m>.py`` (the shim stands at its old path, so git sees no
rename).  It applies that side's change to ``core/<m>.py`` (``git apply
-3``), puts the shim back and stages both, then rewrites as usual; what it
cannot apply it names (resolve by hand, then ``git add``).

Shims and files holding ``# rewrite_core_imports: skip this file`` are left
alone.  Then it sorts the imports of the files it changed (``ruff --select I``;
``--no-ruff`` to skip).  ``--check`` lists what it would change and exits 1
if anything.  Usage: ``.venv/bin/python scripts/dev/rewrite_core_imports.py``
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MOVED = ("settings", "clock", "db", "logmask", "tasks", "outbox", "leases", "election",
         "accounts", "bus", "events", "live_events", "passwords", "login_throttle",
         "pg_relay", "spreadsheet")
# (module, name) -> (new module, new name): names that left their module.
ELSEWHERE = {
    ("core.outbox", "CALL_RECORDING"): ("speech.recording_outbox", "CALL_RECORDING"),
    ("core.outbox", "follow_calls"): ("speech.recording_outbox", "follow_calls"),
    ("hotline.cli", "_fail"): ("core.commands", "fail"),
    ("hotline.cli", "_settings"): ("core.commands", "settings_of"),
}
SKIP_DIRS = {".venv", ".git", "node_modules", "__pycache__", "mutants", "var", "build", "dist"}
SHIM_MARK = "this alias is kept for one release"
SKIP_MARK = "# rewrite_core_imports: skip this file"  # its own tests' examples
_MOVED = "|".join(MOVED)
_NOT_DB = "|".join(m for m in MOVED if m != "db")
# hotline.<m> as a name (not .../hotline.db, not x.hotline.clock)
DOTTED = re.compile(rf"(?<![\w./-])hotline\.({_NOT_DB})\b(?![-?])")
DOTTED_DB = re.compile(r"(?<![\w./-])hotline\.db(?=\.[A-Za-z_])")
IMPORT_DB = re.compile(r"^(\s*)(from|import) hotline\.db\b", re.M)
# from <pkg> import <names>: one line, a parenthesised list or backslash continuations
FROM_IMPORT = re.compile(
    r"^(?P<indent>[ \t]*)from (?P<module>[\w.]+) import "
    r"(?P<names>\([^)]*\)|(?:[^\n\\]*\\\n)*[^\n]*)", re.M)


def _names(text: str) -> tuple[list[str], str]:
    """The imported names of a from-import, and a trailing comment if any."""
    comment = ""
    body = text.strip()
    if body.startswith("("):
        body = body[1:body.rindex(")")]
        parts = []
        for line in body.splitlines():
            code, _, _ = line.partition("#")
            parts.append(code)
        body = " ".join(parts)
    else:
        body = body.replace("\\\n", " ")
        body, hash_, rest = body.partition("#")
        comment = (hash_ + rest).rstrip()
    return [n.strip() for n in body.replace("\n", " ").split(",") if n.strip()], comment


def _statement(indent: str, module: str, names: list[str], comment: str) -> str:
    line = f"{indent}from {module} import {', '.join(names)}"
    if comment:
        line += f"  {comment}"
    if len(line) <= 100:
        return line
    inner = "".join(f"{indent}    {n},\n" for n in names)
    return f"{indent}from {module} import (  {comment}\n{inner}{indent})".replace(
        "import (  \n", "import (\n")


def _split_from(match: re.Match[str]) -> str:
    indent, module = match["indent"], match["module"]
    names, comment = _names(match["names"])
    if module == "hotline":  # from hotline import settings, app
        moved = [n for n in names if n.split(" as ")[0].strip() in MOVED]
        if not moved:
            return match[0]
        kept = [n for n in names if n not in moved]
        out = [_statement(indent, "core", moved, comment)]
        if kept:
            out.append(_statement(indent, "hotline", kept, ""))
        return "\n".join(out)
    groups: dict[str, list[str]] = {}
    changed = False
    for name in names:
        original, _, alias = (part.strip() for part in name.partition(" as "))
        target = ELSEWHERE.get((module, original))
        if target is None:
            groups.setdefault(module, []).append(name)
            continue
        changed = True
        new_module, new_name = target
        local = alias or original
        groups.setdefault(new_module, []).append(
            new_name if new_name == local else f"{new_name} as {local}")
    if not changed:
        return match[0]
    return "\n".join(_statement(indent, m, ns, comment if i == 0 else "")
                     for i, (m, ns) in enumerate(groups.items()))


def rewrite(text: str) -> str:
    text = IMPORT_DB.sub(lambda m: f"{m[1]}{m[2]} core.db", text)
    text = DOTTED_DB.sub("core.db", text)
    text = DOTTED.sub(lambda m: f"core.{m[1]}", text)
    text = FROM_IMPORT.sub(_split_from, text)
    # A module alias's names that moved elsewhere: outbox.CALL_RECORDING, core.outbox.follow_calls
    text = re.sub(r"(?<![\w.])core\.outbox\.(CALL_RECORDING|follow_calls)\b",
                  r"speech.recording_outbox.\1", text)
    if re.search(r"^\s*from core import [^\n]*\boutbox\b", text, re.M) and re.search(
            r"(?<![\w.])outbox\.(CALL_RECORDING|follow_calls)\b", text):
        text = re.sub(r"(?<![\w.])outbox\.(CALL_RECORDING|follow_calls)\b",
                      r"recording_outbox.\1", text)
        if not re.search(r"^from speech import recording_outbox$", text, re.M):
            text = re.sub(r"^(from core import [^\n]*\boutbox\b[^\n]*)$",
                          r"\1\nfrom speech import recording_outbox", text, count=1, flags=re.M)
    return text


def files(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".py", ".mako") or not path.is_file():
            continue
        rel = path.relative_to(root)
        if any(part in SKIP_DIRS or part.endswith(".egg-info") for part in rel.parts):
            continue
        found.append(path)
    return found


def _git(root: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, input=stdin, capture_output=True,
                          text=True, check=False)


def port_merge(root: Path) -> int:
    """Apply the other side's changes of moved modules to core/; 1 if any is left to do."""
    heads = [_git(root, "rev-parse", "--verify", "-q", ref).stdout.strip()
             for ref in ("HEAD", "MERGE_HEAD")]
    if not all(heads):
        print("--port-merge: no merge in progress (no MERGE_HEAD)", file=sys.stderr)
        return 1
    base = _git(root, "merge-base", *heads).stdout.strip()
    left = 0
    for name in MOVED:
        old, new = f"hotline/{name}.py", f"core/{name}.py"
        shim_side = [h for h in heads if SHIM_MARK in _git(root, "show", f"{h}:{old}").stdout]
        if len(shim_side) != 1:
            continue
        other = heads[1 - heads.index(shim_side[0])]
        diff = _git(root, "diff", base, other, "--", old).stdout
        if not diff:
            continue
        diff = diff.replace(f"a/{old}", f"a/{new}").replace(f"b/{old}", f"b/{new}")
        applied = _git(root, "apply", "-3", "--index", stdin=diff)
        shim = _git(root, "show", f"{shim_side[0]}:{old}").stdout
        (root / old).write_text(shim, "utf-8")
        _git(root, "add", old)
        if applied.returncode == 0:
            print(f"ported {old} -> {new}")
        else:
            left += 1
            print(f"ported {old} -> {new} WITH CONFLICTS: resolve {new}, then git add it\n"
                  f"{applied.stderr.strip()}")
    return 1 if left else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="list, change nothing")
    parser.add_argument("--no-ruff", action="store_true", help="do not sort imports")
    parser.add_argument("--port-merge", action="store_true",
                        help="first port the other side's changes of moved modules to core/")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    ported = port_merge(args.root) if args.port_merge else 0
    changed = []
    for path in files(args.root):
        text = path.read_text("utf-8")
        if SKIP_MARK in text or (SHIM_MARK in text and "sys.modules[__name__]" in text):
            continue
        new = rewrite(text)
        if new != text:
            changed.append(path)
            if not args.check:
                path.write_text(new, "utf-8")
    for path in changed:
        print(path.relative_to(args.root))
    if args.check:
        return 1 if changed else 0
    # Staged only where the merge left no conflict (a file with markers stays unmerged).
    unmerged = set(_git(args.root, "diff", "--name-only", "--diff-filter=U").stdout.split())
    staged = [str(p.relative_to(args.root)) for p in changed
              if str(p.relative_to(args.root)) not in unmerged]
    if args.port_merge and staged:
        _git(args.root, "add", *staged)
    python = [p for p in changed if p.suffix == ".py"
              and str(p.relative_to(args.root)) not in unmerged]  # markers: no syntax
    if python and not args.no_ruff:
        ruff = Path(sys.executable).with_name("ruff")
        cmd = [str(ruff) if ruff.exists() else "ruff", "check", "--fix", "--select", "I",
               "--quiet", *map(str, python)]
        subprocess.run(cmd, cwd=args.root, check=False)
        if args.port_merge and staged:
            _git(args.root, "add", *staged)
    return ported


if __name__ == "__main__":
    sys.exit(main())
