"""Lint an Asterisk 22 configuration directory for the hotline.

:func:`check` reads every file with :mod:`pbx.conf_reader` and reports,
with line numbers: lines Asterisk cannot parse; options Asterisk 22 does
not know (a typo such as ``wrapup-time`` is silently ignored by Asterisk,
so it is an error here) or values it would misread; references to
contexts, queues, endpoints, sounds and music classes that do not exist;
AGI addresses that miss the backend's FastAGI listener; an AMI user with
more power than the backend needs or reachable from anywhere.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pbx import asterisk_conf as ast
from pbx.asterisk_conf import Problem
from pbx.conf_prompts import check_city_prompts, wav_samples
from pbx.conf_reader import (
    ConfFile,
    Dialplan,
    ExtenShape,
    Step,
    exten_order,
    exten_shape,
    is_dynamic,
    read_conf,
    split_top,
)
from pbx.transfer_plan import CONTEXTS as TRANSFER_CONTEXTS
from pbx.transfer_plan import missing as missing_transfer_contexts
from pbx.transfer_plan import transfer_problems
from routing import dial_patterns

if TYPE_CHECKING:
    from core.settings import Settings

FILES = ("extensions.conf", "queues.conf", "manager.conf", "pjsip.conf", "logger.conf",
         "cdr.conf", "musiconhold.conf")
REQUIRED = frozenset({"extensions.conf", "queues.conf", "manager.conf"})
OUR_SOUNDS = "hotline/"  # sounds we ship; stock Asterisk sounds cannot be checked here
SOUND_EXTS = (".wav", ".WAV", ".gsm", ".ulaw", ".alaw", ".sln", ".sln16", ".wav16", ".g722")
SOUND_ARG = {"playback": 0, "background": 0, "controlplayback": 0, "read": 1, "queue": 3}
PLACEHOLDER_NETS = tuple(ipaddress.ip_network(n) for n in
                         ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))
LOCAL_RE = re.compile(r"Local/([^@,&)\s]+)@([^/,&)\s]+)")
PJSIP_RE = re.compile(r"PJSIP/(?:[^@,&/)\s]+@)?([^,&/)\s@]+)")
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", "", "*"})


class _Report:
    """Problems, de-duplicated: a bad option in a template is reported once."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, int | None, str], Problem] = {}

    def error(self, file: str, line: int | None, message: str) -> None:
        self._items.setdefault((file, line, message), Problem(file, line, message, "error"))

    def warning(self, file: str, line: int | None, message: str) -> None:
        self._items.setdefault((file, line, message), Problem(file, line, message, "warning"))

    def problems(self) -> list[Problem]:
        return sorted(self._items.values(), key=lambda p: (p.file, p.line or 0, p.message))


class _Conf:
    """Everything the checks share about one configuration directory."""

    def __init__(self, conf_dir: Path, files: dict[str, ConfFile]) -> None:
        self.dir = conf_dir
        self.files = files
        ext = files.get("extensions.conf")
        self.plan = Dialplan.from_conf(ext) if ext else Dialplan()
        queues = files.get("queues.conf")
        self.queues = {s.name for s in queues.active if s.name.lower() != "general"} \
            if queues else set()
        moh = files.get("musiconhold.conf")
        self.moh_classes = {s.name for s in moh.active if s.name.lower() != "general"} \
            if moh else None
        self.pjsip: dict[str, set[str]] = {}  # type -> names
        for s in files["pjsip.conf"].active if "pjsip.conf" in files else []:
            self.pjsip.setdefault((s.get("type") or "").lower(), set()).add(s.name)

    def has_context(self, name: str) -> bool:
        return name in self.plan.contexts

    def sound_exists(self, name: str) -> bool:
        base = self.dir / "sounds" / name
        return any(base.with_name(base.name + ext).is_file() for ext in SOUND_EXTS)


def check(conf_dir: Path, settings: Settings | None = None,
          queue_names: Iterable[str] | None = None, prompts_dir: Path | None = None,
          callback_patterns: Iterable[str] | None = None) -> list[Problem]:
    """Lint the Asterisk configuration in ``conf_dir`` (sounds in ``conf_dir/sounds``).

    ``settings`` adds the checks that need them (AGI addresses against
    ``agi_listen``, the AMI user against ``ami``); ``queue_names`` are the
    queues the routing table sends callers to (for example
    ``RoutingTable.load(session).queues()``), each of which must exist;
    ``prompts_dir`` (else ``settings.prompts_dir``), the city's recorded
    prompts, must hold every prompt the IVR plays; ``callback_patterns``,
    the routing rules' dial patterns for callbacks (``callback_numbers``),
    must each be dialled by ``[callback-out]`` for every number they allow.
    Returns the problems sorted by file and line; errors make Asterisk or
    the backend misbehave, warnings are worth a look.
    """
    conf_dir = Path(conf_dir)
    report = _Report()
    files: dict[str, ConfFile] = {}
    for name in FILES:
        path = conf_dir / name
        if not path.is_file():
            if name in REQUIRED:
                report.error(name, None, "missing: the backend needs this file")
            elif name in ("pjsip.conf", "logger.conf"):
                report.warning(name, None, "missing: Asterisk's defaults apply")
            continue
        conf = read_conf(path)
        for line, message in conf.errors:
            report.error(name, line, message)
        for line, text in conf.directives:
            report.warning(name, line, f"'{text}' is not followed by this check")
        for problem in ast.option_problems(conf):
            (report.error if problem.severity == "error" else report.warning)(
                problem.file, problem.line, problem.message)
        files[name] = conf
    c = _Conf(conf_dir, files)
    _check_dialplan(report, c, settings)
    _check_transfers(report, c)
    if callback_patterns is not None:
        _check_callback_out(report, c, list(callback_patterns))
    _check_queues(report, c, queue_names)
    _check_manager(report, c, settings)
    _check_pjsip(report, c)
    _check_logger(report, c)
    _check_sounds(report, c)
    _check_queue_languages(report, c)
    city = prompts_dir or (settings.prompts_dir if settings is not None else None)
    if city is not None:
        check_city_prompts(report, city)
    return report.problems()


# ----------------------------------------------------------------- helpers

def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in ast.BOOL_TRUE


# ---------------------------------------------------------------- dialplan

def _check_dialplan(report: _Report, c: _Conf, settings: Settings | None) -> None:
    file, plan = "extensions.conf", c.plan
    for line, message in plan.errors:
        report.error(file, line, message)
    for opt in plan.unknown:
        report.error(file, opt.line, f"unknown dialplan directive '{opt.name}' "
                                     "(Asterisk ignores the line)")
    for name, opt in plan.globals.items():
        value = plan.resolve(opt.value)
        if name.upper().endswith("QUEUE") and not is_dynamic(value) and value not in c.queues:
            report.error(file, opt.line, f"global {name} names queue '{value}', which "
                                         "queues.conf does not define")
    fastagi = 0
    for ctx in plan.contexts.values():
        for inc in ctx.includes:
            target = inc.value.split(",")[0].strip()
            if not c.has_context(target):
                report.error(file, inc.line, f"include => {target}: no such context")
        for steps in ctx.extensions.values():
            for step in steps:
                fastagi += _check_step(report, c, step, settings)
    if c.plan.contexts and not fastagi:
        report.error(file, None, "no AGI() call reaches a FastAGI server (agi://): "
                                 "the backend would never be asked")


def _check_transfers(report: _Report, c: _Conf) -> None:
    """Transfers go only to listed queues, department numbers and 110/119/120."""
    contexts = {name: {exten: [(s.app, s.line) for s in steps]
                       for exten, steps in ctx.extensions.items()}
                for name, ctx in c.plan.contexts.items() if name in TRANSFER_CONTEXTS}
    for line, message in transfer_problems(contexts, lambda queue: queue in c.queues):
        report.error("extensions.conf", line, message)
    for message in missing_transfer_contexts(c.plan.contexts):
        report.warning("extensions.conf", None, message)


@dataclass(frozen=True)
class _Answer:
    """An extension that may answer a number dialled into [callback-out]."""

    context: str
    name: str
    shape: ExtenShape
    dials: bool
    line: int
    always: bool  # for every caller at every time (no /callerid, no timed include)


def _answers(plan: Dialplan, name: str) -> list[_Answer]:
    """The extensions that may answer in context ``name``, in the order Asterisk
    22 tries them (pbx_find_extension, main/pbx.c): the context's own, best
    match first (:func:`exten_order`), then each ``include =>`` in turn (a
    context already searched is not searched again).  ``switch =>`` is not
    followed."""
    out: list[_Answer] = []
    seen: set[str] = set()

    def walk(context: str, always: bool) -> None:
        ctx = plan.contexts.get(context)
        if ctx is None or context in seen:
            return
        seen.add(context)
        for exten in sorted(ctx.extensions, key=exten_order):
            steps, shape = ctx.extensions[exten], exten_shape(exten)
            if shape is not None and any(s.priority == "1" for s in steps):
                out.append(_Answer(context, exten, shape,
                                   any(s.app.lower() == "dial" for s in steps),
                                   steps[0].line, always and not shape.by_caller))
        for inc in ctx.includes:
            target, timed, _ = inc.value.partition(",")
            walk(target.strip(), always and not timed)
    walk(name, True)
    return out


def _check_callback_out(report: _Report, c: _Conf, patterns: list[str]) -> None:
    """Every number a callback may dial (the routing rules' patterns) reaches an
    extension of [callback-out] that Dials, as Asterisk 22 picks the extension:
    the first that matches in :func:`_answers`' order.  An extension without
    Dial() that would answer an allowed number is named with such a number; a
    number nothing answers is named on the context."""
    file, ctx = "extensions.conf", c.plan.contexts.get(dial_patterns.CONTEXT)
    if ctx is None:
        report.error(file, None, f"no [{dial_patterns.CONTEXT}] context: callbacks and "
                                 "回访 would dial nothing")
        return
    answers = _answers(c.plan, ctx.name)
    for pattern in patterns:
        if dial_patterns.problem(pattern) is not None:
            continue  # the routing rules refuse it; nothing can be checked
        spots = [frozenset(p) for p in dial_patterns.positions(pattern)]
        fitting = tuple(a for a in answers if _fits(spots, a.shape))
        for answer in fitting:
            example = None if answer.dials else _number(
                spots, fitting, functools.partial(_runs, answer))
            if example is not None:
                report.error(file, answer.line, f"[{answer.context}] {answer.name} answers "
                                                f"{example}, which the callback pattern "
                                                f"{pattern} allows, without Dial()")
        missing = _number(spots, fitting, lambda live: not any(a.always for a in live))
        if missing is not None:
            report.error(file, ctx.line, f"[{ctx.name}] has no extension that dials "
                                         f"{missing}, which the routing rules' callback "
                                         f"pattern {pattern} allows")


def _runs(answer: _Answer, live: tuple[_Answer, ...]) -> bool:
    """Whether Asterisk may run ``answer`` for a number that ``live`` match (in
    order): it tries them up to the first that answers every caller at every time."""
    for other in live:
        if other == answer:
            return True
        if other.always:
            return False
    return False


def _fits(spots: list[frozenset[str]], shape: ExtenShape) -> bool:
    """Whether numbers of ``len(spots)`` digits have the length ``shape`` takes."""
    n = len(shape.positions)
    return len(spots) == n if shape.rest == "" else len(spots) >= n + (shape.rest == ".")


def _number(spots: list[frozenset[str]], answers: tuple[_Answer, ...],
            wanted: Callable[[tuple[_Answer, ...]], bool]) -> str | None:
    """The lowest number of ``spots`` whose matching ``answers`` (of the
    number's length, in order) are ``wanted``, or None when no number's are."""

    @functools.cache
    def find(i: int, live: tuple[_Answer, ...]) -> str | None:
        if i == len(spots):
            return "" if wanted(live) else None
        for digit in sorted(spots[i]):
            rest = find(i + 1, tuple(a for a in live if i >= len(a.shape.positions)
                                     or digit in a.shape.positions[i]))
            if rest is not None:
                return digit + rest
        return None
    return find(0, answers)


def _check_step(report: _Report, c: _Conf, step: Step, settings: Settings | None) -> int:
    """Check one priority; returns 1 when it is a FastAGI call."""
    file, app, plan = "extensions.conf", step.app.lower(), c.plan
    args = split_top(step.data)
    found_agi = 0
    if app in ("goto", "gosub"):
        _target(report, plan, step, step.data, gosub=app == "gosub")
    elif app in ("gotoif", "gotoiftime", "gosubif"):
        parts = split_top(step.data, "?", 1)
        if len(parts) == 2:
            for target in split_top(parts[1], ":", 1):
                if target.strip():
                    _target(report, plan, step, target, gosub=app == "gosubif")
    elif app == "queue":
        _check_queue_app(report, c, step, args)
        if len(args) > 5 and args[5].strip():
            found_agi += _check_agi(report, c, step, args[5], settings)
    elif app in ("agi", "eagi"):
        found_agi += _check_agi(report, c, step, args[0], settings)
    if app in SOUND_ARG and len(args) > SOUND_ARG[app]:
        for name in split_top(args[SOUND_ARG[app]], "&"):
            _check_sound(report, c, file, step.line, plan.resolve(name.strip()))
    for match in LOCAL_RE.finditer(step.data):
        target = plan.resolve(match.group(2))
        if not is_dynamic(target) and not c.has_context(target):
            report.error(file, step.line, f"Local/...@{target}: no such context")
    if app == "dial" and "@trunk" in step.data and "${EXTEN}" in step.data:
        # Toll fraud: whatever reaches this extension is dialled out.
        why = dial_patterns.problem(step.exten.split("/")[0])
        if why is not None:
            report.error(file, step.line, f"Dial through the trunk from extension "
                                          f"'{step.exten}': {why}")
    if app == "dial" and "pjsip.conf" in c.files:
        for match in PJSIP_RE.finditer(step.data):
            endpoint = plan.resolve(match.group(1))
            if not is_dynamic(endpoint) and endpoint not in c.pjsip.get("endpoint", set()):
                report.error(file, step.line, f"Dial to PJSIP endpoint '{endpoint}', which "
                                              "pjsip.conf does not define")
    return found_agi


def _target(report: _Report, plan: Dialplan, step: Step, target: str, gosub: bool) -> None:
    message = plan.target_error(step, target, gosub)
    if message:
        report.error("extensions.conf", step.line, message)


def _check_queue_app(report: _Report, c: _Conf, step: Step, args: list[str]) -> None:
    file, plan = "extensions.conf", c.plan
    name = plan.resolve(args[0].strip())
    if name and not is_dynamic(name) and name not in c.queues:
        report.error(file, step.line, f"Queue({name}): queues.conf does not define it")
    gosub = plan.resolve(args[6].strip()) if len(args) > 6 else ""
    if len(args) > 7 and not gosub and c.has_context(args[7].strip()):
        report.error(file, step.line, "Queue: the member gosub is the 7th argument in "
                                      "Asterisk 22 (Macro was removed); the 8th is the "
                                      "penalty rule")
    if gosub and not is_dynamic(gosub):
        context = gosub.split(",")[0]
        ctx = plan.contexts.get(context)
        if ctx is None:
            report.error(file, step.line, f"Queue: member gosub context '{context}' does "
                                          "not exist")
        elif not ctx.matching("s"):
            report.error(file, step.line, f"Queue: member gosub runs s,1 of '{context}', "
                                          "which has no 's' extension")


def _check_agi(report: _Report, c: _Conf, step: Step, raw: str,
               settings: Settings | None) -> int:
    file, plan = "extensions.conf", c.plan
    raw = raw.strip()
    target = plan.resolve(raw)
    via = re.match(r"\$\{(\w+)\}", raw)
    line = plan.globals[via.group(1)].line if via and via.group(1) in plan.globals else step.line
    if not target.lower().startswith(("agi://", "hagi://")):
        if not is_dynamic(target):
            report.warning(file, step.line, f"AGI({target}) runs a program on the Asterisk "
                                            "host; the backend answers FastAGI (agi://)")
        return 0
    if settings is None:
        return 1
    url = urlsplit(target)
    try:
        host, port = url.hostname or "", url.port or 4573
    except ValueError:
        report.error(file, line, f"{target}: bad port")
        return 1
    listen = settings.agi_listen
    same_host = listen.host in WILDCARD_HOSTS or _same_host(host, listen.host)
    if any(_same_host(host, s.host) and port == s.port for s in settings.agi_servers):
        return 1  # one of the backends the dialplan tries in turn (HOTLINE_AGI_SERVERS)
    if not same_host or port != listen.port:
        report.error(file, line, f"AGI goes to {host}:{port}, but the backend's FastAGI "
                                 f"listener is {listen} (HOTLINE_AGI_LISTEN)")
    return 1


def _same_host(a: str, b: str) -> bool:
    loopback = {"localhost", "127.0.0.1", "::1"}
    return a == b or (a in loopback and b in loopback)


def _check_sound(report: _Report, c: _Conf, file: str, line: int | None, name: str) -> None:
    if name.startswith(OUR_SOUNDS) and not is_dynamic(name) and not c.sound_exists(name):
        report.error(file, line, f"sound '{name}' is missing: no sounds/{name}.wav "
                                 "(or another format) next to the .conf files")


# ------------------------------------------------------------------ queues

def _check_queues(report: _Report, c: _Conf, queue_names: Iterable[str] | None) -> None:
    file, conf = "queues.conf", c.files.get("queues.conf")
    if conf is None:
        return
    seen: set[str] = set()
    for section in conf.sections:
        if section.name.lower() == "general":
            continue
        if not section.template and section.name in seen:
            report.error(file, section.line, f"queue '{section.name}' is defined twice; "
                                             "Asterisk skips the second")
        seen.add(section.name)
        for opt in section.options:
            key = opt.name.lower()
            if key in ("context", "membergosub") and not c.has_context(opt.value):
                report.error(file, opt.line, f"{opt.name} = {opt.value}: no such context")
            elif key in ("musicclass", "music", "musiconhold") and c.moh_classes is not None \
                    and opt.value not in c.moh_classes:
                report.error(file, opt.line, f"music class '{opt.value}' is not in "
                                             "musiconhold.conf")
            elif key in ast.QUEUE_SOUNDS:
                for name in re.split(r"[,|]", opt.value):
                    _check_sound(report, c, file, opt.line, name.strip())
            elif key == "member":
                for match in LOCAL_RE.finditer(opt.value):
                    if not c.has_context(match.group(2)):
                        report.error(file, opt.line, f"member Local/...@{match.group(2)}: "
                                                     "no such context")
    for name in queue_names or ():
        if name not in c.queues:
            report.error(file, None, f"queue '{name}' is used by the routing table but not "
                                     "defined here")


# ----------------------------------------------------------------- manager

def _check_manager(report: _Report, c: _Conf, settings: Settings | None) -> None:
    file, conf = "manager.conf", c.files.get("manager.conf")
    if conf is None:
        return
    general = conf.first("general")
    if general is None or not _is_true(general.get("enabled")):
        report.error(file, general.line if general else None,
                     "[general] enabled = yes is needed: the backend lives on AMI")
    users = [s for s in conf.active if s.name.lower() != "general"]
    ami = settings.ami if settings else None
    if ami is not None:
        port = int(general.get("port", "5038") or 5038) if general else 5038
        if port != ami.port:
            port_opt = general.option("port") if general else None
            report.error(file, port_opt.line if port_opt else None,
                         f"AMI listens on port {port}, HOTLINE_AMI_URL says {ami.port}")
        users = [s for s in users if s.name == ami.username]
        if not users:
            report.error(file, None, f"no [{ami.username}] user, which HOTLINE_AMI_URL logs "
                                     "in as")
        elif users[0].get("secret") != ami.secret:
            report.error(file, users[0].line, f"[{ami.username}] secret differs from the one "
                                              "in HOTLINE_AMI_URL: the login would fail")
    backend = _backend_address(settings)
    for user in users:
        for problem in ast.ami_user_problems(file, user, backend):
            (report.error if problem.severity == "error" else report.warning)(
                problem.file, problem.line, problem.message)


def _backend_address(settings: Settings | None) -> ast.IPAddress | None:
    if settings is None or settings.agi_listen.host in WILDCARD_HOSTS:
        return None
    host = "127.0.0.1" if settings.agi_listen.host == "localhost" else settings.agi_listen.host
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


# ------------------------------------------------------------------- pjsip

def _check_pjsip(report: _Report, c: _Conf) -> None:
    file, conf = "pjsip.conf", c.files.get("pjsip.conf")
    if conf is None:
        return
    refs = {"aors": "aor", "auth": "auth", "outbound_auth": "auth", "transport": "transport",
            "endpoint": "endpoint"}
    identified = {s.get("endpoint") for s in conf.active if s.get("type") == "identify"}
    for section in conf.active:
        kind = (section.get("type") or "").lower()
        for opt in section.options:
            key = opt.name.lower()
            if key in refs and kind in ("endpoint", "identify", "registration"):
                for ref in (r.strip() for r in opt.value.split(",")):
                    if ref and ref not in c.pjsip.get(refs[key], set()):
                        report.error(file, opt.line, f"{opt.name} = {ref}: no type = "
                                                     f"{refs[key]} section of that name")
            elif key in ("context", "subscribe_context", "message_context") \
                    and kind == "endpoint" and not c.has_context(opt.value):
                report.error(file, opt.line, f"{opt.name} = {opt.value}: extensions.conf has "
                                             "no such context")
            elif key in ("contact", "match", "server_uri", "client_uri", "outbound_proxy"):
                if _placeholder(opt.value):
                    report.warning(file, opt.line, f"{opt.name} = {opt.value} is a placeholder "
                                                   "(documentation) address: set the real one")
        if kind == "endpoint" and not section.get("auth") and section.name not in identified:
            report.warning(file, section.line, f"endpoint '{section.name}' has neither auth "
                                               "nor an identify section")
        if kind == "auth":
            password = section.get("password") or ""
            if password.startswith("change-me") or password == section.get("username"):
                report.warning(file, section.line, f"auth '{section.name}' has a placeholder "
                                                   "or guessable password")


def _placeholder(value: str) -> bool:
    for match in re.finditer(r"\d+\.\d+\.\d+\.\d+", value):
        try:
            address = ipaddress.ip_address(match.group(0))
        except ValueError:
            continue
        if any(address in net for net in PLACEHOLDER_NETS):
            return True
    return False


# ------------------------------------------------------------ logger, sounds

def _check_logger(report: _Report, c: _Conf) -> None:
    conf = c.files.get("logger.conf")
    general = conf.first("general") if conf else None
    option = general.option("queue_log") if general else None
    if conf is not None and option is None:
        report.warning("logger.conf", None, "queue_log is not set; say queue_log = yes")
    elif option is not None and not _is_true(option.value):
        report.error("logger.conf", option.line, "queue_log is off: queue statistics need it")
    moh = c.files.get("musiconhold.conf")
    if moh is not None and "default" not in (c.moh_classes or set()):
        report.warning("musiconhold.conf", None, "no [default] class: queues play silence")


def _check_sounds(report: _Report, c: _Conf) -> None:
    from ivr import prompts  # the IVR's sounds, played over FastAGI

    for name in sorted(prompts.TEXTS):
        if name.startswith(OUR_SOUNDS) and not c.sound_exists(name):
            report.error("sounds", None, f"ivr/prompts.py plays '{name}', but sounds/{name}.wav "
                                         "is missing (scripts/make-prompts makes it)")
    sounds = c.dir / "sounds"
    for path in sorted(sounds.rglob("*.wav")) if sounds.is_dir() else []:
        wav_samples(report, path, path.relative_to(c.dir).as_posix())


# ------------------------------------------------- queue announcements' language

LANGUAGE_RE = re.compile(r"CHANNEL\(language\)\s*=\s*([A-Za-z_]+)\s*$", re.I)
POSITION_SOUNDS = ("queue-youarenext", "queue-thereare", "queue-callswaiting")
HOLDTIME_SOUNDS = ("queue-holdtime", "queue-minute", "queue-minutes", "queue-seconds")


def _check_queue_languages(report: _Report, c: _Conf) -> None:
    """Queues that announce to callers whose language the dialplan sets
    (``Set(CHANNEL(language)=zh)``) need that language's sounds, or Asterisk
    falls back to its English ones: each queue sound and the digits its
    numbers are said with must be under sounds/<language>/."""
    from ivr import prompts

    languages: dict[str, int] = {}
    for ctx in c.plan.contexts.values():
        for steps in ctx.extensions.values():
            for step in steps:
                match = LANGUAGE_RE.search(step.data) if step.app.lower() == "set" else None
                if match and match.group(1).lower() != "en":
                    languages.setdefault(match.group(1), step.line)
    conf = c.files.get("queues.conf")
    if conf is None or not languages:
        return
    for section in conf.active:
        if section.name.lower() == "general":
            continue
        needed: list[str] = []
        if _int(section.get("announce-frequency")) > 0:
            announce = (section.get("announce-position") or "yes").lower()
            position = announce in ("limit", "more") or _is_true(announce)
            hold = (section.get("announce-holdtime") or "yes").lower()
            holdtime = hold == "once" or _is_true(hold)
            if position:
                needed += [section.get(k) or k for k in POSITION_SOUNDS]
            if announce == "more":
                needed += [section.get(k) or k for k in ("queue-quantity1", "queue-quantity2")]
            if holdtime:
                needed += [section.get(k) or k for k in HOLDTIME_SOUNDS]
            if position or holdtime:  # thanks follows either; numbers are said in both
                needed += [section.get("queue-thankyou") or "queue-thankyou",
                           *prompts.QUEUE_DIGITS]
        if _int(section.get("periodic-announce-frequency")) > 0:
            value = section.get("periodic-announce") or "queue-periodic-announce"
            # app_queue splits the list (on , or |) only when it holds a comma
            needed += [v.strip() for v in re.split(r"[,|]", value) if v.strip()] \
                if "," in value else [value.strip()]
        for lang, line in languages.items():
            # zh_CN falls back to zh, as file.c strips the dialect
            langs = [lang[:i] for i in range(len(lang), 0, -1) if i == len(lang)
                     or lang[i] == "_"]
            missing = sorted({n for n in needed if not n.startswith(OUR_SOUNDS)
                              and not any(c.sound_exists(f"{lg}/{n}") for lg in langs)})
            if missing:
                shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more"
                                                  if len(missing) > 4 else "")
                report.error("queues.conf", section.line,
                             f"[{section.name}] announces to '{lang}' callers (extensions.conf "
                             f"line {line}), but sounds/{lang}/ lacks {shown}: Asterisk would "
                             "say those in English (scripts/make-prompts makes them)")


def _int(value: str | None) -> int:
    try:
        return int((value or "0").strip())
    except ValueError:
        return 0
