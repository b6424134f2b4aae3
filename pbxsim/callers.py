"""Simulated PSTN callers.

``PbxSim.place_call`` creates a ``PJSIP/trunk-N`` channel in ``from-pstn``
and runs the dialplan on it; a :class:`CallerParty` plays the citizen:
presses keys when the IVR listens, speaks when recorded, gives up after
``patience`` seconds in a queue, hangs up in the IVR if told to.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pbxsim.channels import RING, Channel, FarEnd
from pbxsim.pbx import run_pbx

if TYPE_CHECKING:
    from pbxsim.core import PbxSim


@dataclass
class CallerScript:
    """What the simulated citizen does.

    * ``keys``: digits pressed one at a time, each ``key_delay`` seconds
      after the IVR starts listening (STREAM FILE with escape digits,
      WAIT FOR DIGIT, GET DATA, Background, Read); exhausted = no input.
      With ``press_when_taken`` the caller waits for a prompt that takes
      their next key (one that names it), as a caller who knows the menu.
    * ``press_at``: (seconds after the answer, key) pressed whatever is
      playing.  As in Asterisk 22, a key is acted on only by a listener
      that takes it (a prompt's escape digits, WAIT FOR DIGIT...); during a
      prompt without escape digits, or between AGI commands, it is lost.
    * ``hangup_in_ivr_after``: seconds after answer at which the caller
      hangs up if it has not reached a queue yet (None = never).
    * ``patience``: seconds waited in a queue before abandoning.
    * ``speech`` / ``speech_seconds``: when recorded (RECORD FILE, Record)
      the caller speaks for ``speech_seconds`` then falls silent; the
      WAV's audio (8 kHz mono best) is written into the recording, else silence.
    * ``survey_key``: pressed when something listens after the agent hung up.
    * ``talk``: a WAV the caller says to the agent as soon as connected; the
      call's MixMonitor recording carries it (then silence).
    """

    keys: str = ""
    key_delay: float = 1.5
    press_when_taken: bool = False
    press_at: tuple[tuple[float, str], ...] = ()
    patience: float = 120.0
    hangup_in_ivr_after: float | None = None
    speech: Path | str | None = None
    speech_seconds: float = 5.0
    survey_key: str | None = None
    talk: Path | str | None = None


@dataclass
class SimCall:
    """A placed call.  ``done`` resolves when its channel has hung up;
    ``events`` is a timeline of (loop time, what happened)."""

    uniqueid: str
    channel: str
    chan: Channel
    done: asyncio.Future[None]
    events: list[tuple[float, str]] = field(default_factory=list)
    queue: str | None = None
    agent: str | None = None
    outcome: str | None = None

    def happened(self, prefix: str) -> bool:
        return any(text.startswith(prefix) for _, text in self.events)


class CallerParty(FarEnd):
    """The caller's behaviour, driven by channel hooks."""

    def __init__(self, sim: PbxSim, script: CallerScript, call: SimCall | None = None) -> None:
        self.sim = sim
        self.script = script
        self.call = call
        self.key_index = 0
        self.survey_sent = False
        self.reached_queue = False
        self.connected = False
        self.after_agent = False
        self._press: asyncio.TimerHandle | None = None
        self._patience: asyncio.TimerHandle | None = None

    def note(self, text: str) -> None:
        if self.call is not None:
            self.call.events.append((self.sim.loop_time(), text))

    def _next_key(self) -> str | None:
        s = self.script
        if self.after_agent:
            return s.survey_key if s.survey_key and not self.survey_sent else None
        return s.keys[self.key_index] if self.key_index < len(s.keys) else None

    def listening(self, chan: Channel) -> None:
        key = self._next_key()
        if self._press is not None or key is None:
            return
        if (self.script.press_when_taken and not self.after_agent and chan.takes is not None
                and key not in chan.takes):
            return
        self._press = self.sim.loop.call_later(
            max(0.0, self.script.key_delay), self._do_press, chan
        )

    def _do_press(self, chan: Channel) -> None:
        self._press = None
        key = self._next_key()
        if key is None or chan.hungup:
            return
        if self.after_agent:
            self.survey_sent = True
        else:
            self.key_index += 1
        self.note(f"dtmf {key}")
        chan.receive_dtmf(key)

    def _press_now(self, chan: Channel, key: str) -> None:
        if not chan.hungup:
            self.note(f"dtmf {key}")
            chan.receive_dtmf(key)

    def stopped_listening(self, chan: Channel) -> None:
        if self._press is not None:
            self._press.cancel()
            self._press = None

    def answered(self, chan: Channel) -> None:
        self.note("answered")
        for at, key in self.script.press_at:
            self.sim.loop.call_later(at, self._press_now, chan, key)
        t = self.script.hangup_in_ivr_after
        if t is not None:
            self.sim.loop.call_later(t, self._ivr_hangup, chan)

    def _ivr_hangup(self, chan: Channel) -> None:
        if not self.reached_queue and not chan.hungup:
            self.note("hangup in ivr")
            chan.request_hangup(16)

    def queued(self, chan: Channel, queue: str) -> None:
        self.reached_queue = True
        self.note(f"queued {queue}")
        if self.call is not None:
            self.call.queue = queue
        if self._patience is None:
            self._patience = self.sim.loop.call_later(self.script.patience, self._give_up, chan)

    def _give_up(self, chan: Channel) -> None:
        self._patience = None
        if not self.connected and not chan.hungup:
            self.note("abandon")
            chan.request_hangup(16)

    def left_queue(self, chan: Channel, queue: str, outcome: str) -> None:
        self.note(f"left queue {queue} {outcome}")
        if outcome.startswith("connected"):
            self.connected = True
            if self.call is not None:
                self.call.agent = outcome.split(" ", 1)[1] if " " in outcome else None
        if self._patience is not None:
            self._patience.cancel()
            self._patience = None
        if self.call is not None and self.call.outcome is None:
            self.call.outcome = outcome.split(" ")[0]

    def agent_gone(self, chan: Channel) -> None:
        self.note("agent hung up")
        self.after_agent = True

    def speech(self, chan: Channel) -> tuple[float, Path | None]:
        s = self.script
        self.note("recorded")
        return s.speech_seconds, (Path(s.speech) if s.speech else None)

    def talk(self, chan: Channel) -> Path | None:
        return Path(self.script.talk) if self.script.talk else None


def start_call(
    sim: PbxSim, number: str, name: str, dialed: str, script: CallerScript, context: str
) -> SimCall:
    idx = sim.next_tech_index("PJSIP")
    chan = sim.new_channel(
        f"PJSIP/trunk-{idx}", context=context, exten=dialed, state=RING, cid=(number, name)
    )
    chan.dnid = dialed
    call = SimCall(uniqueid=chan.uniqueid, channel=chan.name, chan=chan, done=chan.done)
    party = CallerParty(sim, script, call)
    chan.far_end = party
    party.note("ringing")

    def _ended(c: Channel) -> None:
        party.note("hangup")
        if party._patience is not None:
            party._patience.cancel()

    chan.on_hangup.append(_ended)
    sim.spawn(run_pbx(chan), name=f"pbx {chan.name}")
    return call
