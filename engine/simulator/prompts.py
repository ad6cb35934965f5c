"""What a company says: prompt parts (recordings, synthesised text, silence) and their
rendering into one 16 kHz WAV per prompt, so a prompt is a single player with a known length."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.simulator.audio_files import BRIDGE_RATE, read_wav, resample, wav_duration, write_wav
from engine.simulator.voice import Synthesizer

ASTERISK_SOUNDS = Path("/usr/share/asterisk/sounds/en_US_f_Allison")


@dataclass(frozen=True)
class WavPart:
    path: Path


@dataclass(frozen=True)
class SayPart:
    text: str
    voice: str = ""  # a voice id of voice.py ("flite:slt"); "" for the company's default


@dataclass(frozen=True)
class SilencePart:
    seconds: float


PromptPart = WavPart | SayPart | SilencePart


@dataclass(frozen=True)
class Prompt:
    """Parts played in sequence; ``label`` is how the log names it."""

    parts: tuple[PromptPart, ...]

    @property
    def label(self) -> str:
        out = []
        for p in self.parts:
            if isinstance(p, WavPart):
                out.append(p.path.stem)
            elif isinstance(p, SayPart):
                out.append(f'"{p.text}"')
            else:
                out.append(f"{p.seconds:g}s")
        return " + ".join(out)

    @property
    def text(self) -> str:
        """The synthesised words in it (recordings are named by file)."""
        return " ".join(p.text for p in self.parts if isinstance(p, SayPart))


@dataclass(frozen=True)
class RenderedPrompt:
    prompt: Prompt
    path: Path
    duration: float
    lead_silence: float = 0.0  # seconds before the first audible sample


def _lead_silence(path: Path, threshold: int = 300) -> float:
    pcm, rate = read_wav(path)
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > threshold)
    return float(loud[0]) / rate if loud.size else 0.0


class PromptRenderer:
    """Renders prompts into cached 16 kHz WAVs under ``cache_dir``; identical prompts share one
    file, and a recording that changes on disk (size/mtime) gets a new render."""

    def __init__(self, synthesizer: Synthesizer, cache_dir: Path | None = None) -> None:
        self.synth = synthesizer
        self.cache_dir = cache_dir or synthesizer.cache_dir.parent / "prompts"
        self._done: dict[Prompt, RenderedPrompt] = {}

    def _part_key(self, part: PromptPart) -> str:
        if isinstance(part, WavPart):
            st = part.path.stat()
            return f"wav:{part.path.resolve()}:{st.st_size}:{st.st_mtime_ns}"
        if isinstance(part, SayPart):
            return f"say:{self.synth.wav_for(part.text, part.voice).name}"
        return f"silence:{part.seconds}"

    def render(self, prompt: Prompt) -> RenderedPrompt:
        if prompt in self._done:
            return self._done[prompt]
        key = hashlib.sha256("\n".join(map(self._part_key, prompt.parts)).encode()).hexdigest()
        path = self.cache_dir / f"{key[:32]}.wav"
        if not path.exists():
            chunks = []
            for part in prompt.parts:
                if isinstance(part, SilencePart):
                    chunks.append(np.zeros(int(part.seconds * BRIDGE_RATE), np.int16))
                    continue
                src = (part.path if isinstance(part, WavPart)
                       else self.synth.wav_for(part.text, part.voice))  # fmt: skip
                pcm, rate = read_wav(src)
                chunks.append(resample(pcm, rate, BRIDGE_RATE))
            write_wav(path, np.concatenate(chunks) if chunks else np.zeros(0, np.int16))
        done = RenderedPrompt(prompt, path, wav_duration(path), _lead_silence(path))
        self._done[prompt] = done
        return done
