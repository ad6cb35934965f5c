"""Talking into the call and this computer's audio: typed text is spoken into the call, the
agent hears "please hold" during a hand-over, and with no sound card (this machine, CI) the
app says once that local audio is unavailable and keeps working."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest
from textual.widgets import Input
from tui_scenes import T0, live_call, make_app, no_portaudio, publish, until

from engine.events import EventType
from holdslayer_tui.app import KEEP_WARM_TEXT, HoldSlayerApp
from holdslayer_tui.call_book import HANDED_OVER, PERSON
from holdslayer_tui.local_audio import LocalAudio
from holdslayer_tui.screens.live_call import LiveCallScreen
from holdslayer_tui.widgets.level_meter import LevelMeter

pytestmark = pytest.mark.timeout(60)


class FakeVoice:
    """Stands in for Piper: records what it was asked to say, returns 0.1 s of tone."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def __call__(self, text: str) -> np.ndarray:
        self.said.append(text)
        return (np.sin(np.arange(1600) / 5) * 8000).astype(np.int16)


class NoSoundCard:
    """sounddevice on a machine with no sound card lists no devices."""

    def query_devices(self) -> list[dict[str, Any]]:
        return []


def phone_handover_app(fake_runtime, voice: FakeVoice) -> HoldSlayerApp:
    """An app that hands a call over to the user's phone (sip:me@127.0.0.1)."""
    app = make_app(fake_runtime, synthesize=voice)
    app.settings.handover.mode = "phone"
    app.settings.handover.target = "sip:me@127.0.0.1"
    return app


def pcm_played(fake_runtime) -> list[np.ndarray]:
    return [p for _, p in fake_runtime.engine.played if isinstance(p, np.ndarray)]


def test_say_something_is_spoken_into_the_call(fake_runtime) -> None:
    async def go() -> None:
        voice = FakeVoice()
        app = make_app(fake_runtime, synthesize=voice)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await live_call(pilot, app, fake_runtime)
            await pilot.press("s")
            box = screen.query_one("#say-box", Input)
            assert box.display and box.has_focus
            await pilot.press(*"agent 1234")  # digits go into the box, not onto the call
            await pilot.press("enter")
            await until(pilot, lambda: len(pcm_played(fake_runtime)) == 1)
            assert voice.said == ["agent 1234"]
            assert fake_runtime.engine.digits == []
            assert not box.display
            await until(pilot, lambda: "you said: agent 1234" in screen.query_one(
                "#transcript").lines)
            # Esc closes the box without speaking and without leaving the call
            await pilot.press("s", "x", "escape")
            assert isinstance(app.screen, LiveCallScreen) and not box.display
            assert voice.said == ["agent 1234"]

    asyncio.run(go())


def test_handover_tells_the_agent_to_hold_with_synthesised_speech(fake_runtime,
                                                                  monkeypatch) -> None:
    monkeypatch.setattr("holdslayer_tui.app.KEEP_WARM_PROMPTS", ())  # no Asterisk sounds

    async def go() -> None:
        voice = FakeVoice()
        app = phone_handover_app(fake_runtime, voice)
        async with app.run_test(size=(80, 24)) as pilot:
            await live_call(pilot, app, fake_runtime)
            publish(fake_runtime, EventType.HUMAN_DETECTED, "call1", T0 + 50, evidence="voice")
            await until(pilot, lambda: app.book.get("call1").state == HANDED_OVER)
            await until(pilot, lambda: pcm_played(fake_runtime) != [])
            assert voice.said == [KEEP_WARM_TEXT]
            assert fake_runtime.engine.played[0][0] == "call1"  # to the agent, not our phone

    asyncio.run(go())


@pytest.mark.parametrize("loader", [lambda: NoSoundCard(), no_portaudio],
                         ids=["no-devices", "no-portaudio"])
def test_no_sound_card_is_said_once_and_the_call_goes_on(fake_runtime, loader) -> None:
    async def go() -> None:
        app = make_app(fake_runtime, local_audio=LocalAudio(loader))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await live_call(pilot, app, fake_runtime)
            await pilot.press("m")
            await until(pilot, lambda: app._audio_warned)
            await pilot.press("m")
            await pilot.pause(0.2)
            titles = [n.title for n in app._notifications]
            assert titles.count("No sound device") == 1
            assert not app.book.get("call1").listening
            assert "listening" not in str(screen.query_one("#call-status").render())
            await pilot.press("2")  # the call still works
            await until(pilot, lambda: app.book.get("call1").digits == "2")

    asyncio.run(go())


def test_handover_plays_the_recorded_prompt_when_installed(fake_runtime, monkeypatch,
                                                          tmp_path) -> None:
    prompt = tmp_path / "pls-hold-while-try.wav"
    prompt.write_bytes(b"RIFF")
    monkeypatch.setattr("holdslayer_tui.app.KEEP_WARM_PROMPTS", (str(prompt),))

    async def go() -> None:
        voice = FakeVoice()
        app = phone_handover_app(fake_runtime, voice)
        async with app.run_test(size=(80, 24)) as pilot:
            await live_call(pilot, app, fake_runtime)
            publish(fake_runtime, EventType.HUMAN_DETECTED, "call1", T0 + 50, evidence="voice")
            await until(pilot, lambda: fake_runtime.engine.played != [])
            assert fake_runtime.engine.played == [("call1", str(prompt))]
            assert voice.said == []

    asyncio.run(go())


def test_local_handover_without_sound_card_keeps_the_agent_warm(fake_runtime,
                                                                monkeypatch) -> None:
    monkeypatch.setattr("holdslayer_tui.app.KEEP_WARM_PROMPTS", ())

    async def go() -> None:
        voice = FakeVoice()
        app = make_app(fake_runtime, synthesize=voice, local_audio=LocalAudio(no_portaudio))
        app.settings.handover.mode = "local_audio"
        async with app.run_test(size=(80, 24)) as pilot:
            await live_call(pilot, app, fake_runtime)
            await until(pilot, lambda: app._audio_warned)  # said at start, before a person
            publish(fake_runtime, EventType.HUMAN_DETECTED, "call1", T0 + 50, evidence="voice")
            await until(pilot, lambda: app.alerts != [])
            await pilot.press("t")
            await until(pilot, lambda: voice.said == [KEEP_WARM_TEXT])
            await pilot.pause(0.2)
            assert [n.title for n in app._notifications].count("No sound device") == 1
            assert app.book.get("call1").state in (HANDED_OVER, PERSON)
            assert app.book.get("call1").live

    asyncio.run(go())


class FakeStream:
    def __init__(self, **kw: Any) -> None:
        self.kw, self.written, self.started = kw, [], False

    def __enter__(self) -> FakeStream:
        return self

    def __exit__(self, *a: object) -> None:
        pass

    def write(self, data: np.ndarray) -> None:
        self.written.append(data.copy())

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


class FakeSoundDevice:
    def __init__(self) -> None:
        self.outputs: list[FakeStream] = []
        self.inputs: list[FakeStream] = []

    def query_devices(self) -> list[dict[str, Any]]:
        return [{"name": "speaker", "max_output_channels": 2, "max_input_channels": 0},
                {"name": "mic", "max_output_channels": 0, "max_input_channels": 1}]

    def OutputStream(self, **kw: Any) -> FakeStream:  # noqa: N802 (sounddevice's name)
        self.outputs.append(FakeStream(**kw))
        return self.outputs[-1]

    def InputStream(self, **kw: Any) -> FakeStream:  # noqa: N802
        self.inputs.append(FakeStream(**kw))
        return self.inputs[-1]


def test_with_a_sound_card_the_far_end_plays_and_the_mic_reaches_the_call() -> None:
    from engine.sip.audio_tap import FRAME_BYTES, AudioTap

    sd = FakeSoundDevice()
    audio = LocalAudio(lambda: sd)
    tap = AudioTap("c1", "remote")
    sent: list[np.ndarray] = []
    assert audio.probe() == ""
    audio.talk("c1", tap, sent.append)
    for _ in range(3):
        tap.push(b"\x01\x00" * (FRAME_BYTES // 2))
    mic = sd.inputs[0]
    mic.kw["callback"](np.full((320, 1), 7, np.int16), 320, None, None)


    end = time.monotonic() + 2
    while sum(len(w) for w in sd.outputs[0].written) < 960 and time.monotonic() < end:
        time.sleep(0.01)
    audio.close()
    assert sd.outputs[0].kw["samplerate"] == 16000
    assert sum(len(w) for w in sd.outputs[0].written) == 960
    assert len(sent) == 1 and sent[0].shape == (320,) and sent[0][0] == 7
    assert not audio.is_active("c1")


def test_the_meter_shows_every_level_of_a_burst_in_turn(fake_runtime) -> None:
    """The engine publishes levels in bursts (its analysis wakes every 60 ms); the meter
    shows each one on a redraw of its own instead of jumping to the newest, so it moves 25
    times a second, not 16.7. A screen far behind skips ahead to the last few."""

    async def go() -> None:
        app = make_app(fake_runtime)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await live_call(pilot, app, fake_runtime)
            meter = screen.query_one(LevelMeter)
            shown: list[float] = []
            show = meter.show
            meter.show = lambda level, history: (shown.append(level.rms_dbfs),  # type: ignore
                                                 show(level, history))
            for rms in (-30.0, -20.0):  # one wake's worth: two levels at once
                app.link.levels.update("call1", rms, -10.0, "music")
            await until(pilot, lambda: len(shown) >= 2, timeout=2, why=lambda: shown)
            await pilot.pause(0.2)
            assert shown == [-30.0, -20.0]  # in turn, one redraw each, then nothing new
            assert "-20 dBFS" in str(screen.query_one("#level-bar").render())
            shown.clear()
            for i in range(10):  # the screen was away for 10 levels
                app.link.levels.update("call1", -40.0 + i, -10.0, "music")
            await until(pilot, lambda: len(shown) >= 3, timeout=2, why=lambda: shown)
            await pilot.pause(0.2)
            assert shown == [-33.0, -32.0, -31.0]

    asyncio.run(go())
