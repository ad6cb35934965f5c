"""Voice prints on real recordings through a phone line: the company's recorded voice stays
recognisable from one prompt to the next, a different person does not sound like it, and the
prints survive the company's memory file."""

import numpy as np

from engine.audio import memory_store
from engine.audio.announcement_memory import AnnouncementMemory
from engine.audio.voice_print import shared_encoder, similarity
from engine.speech.tts import synthesize


def _print(audio: np.ndarray, seconds: float = 1.0) -> np.ndarray:
    speech = np.nonzero(np.abs(audio.astype(np.int32)) > 500)[0]
    start = int(speech[0]) if speech.size else 0
    return shared_encoder().embed(audio[start : start + int(seconds * 16000)])


def test_the_recorded_voice_is_closer_to_itself_than_to_other_people(prompts, line, read_speech):
    """Allison's prompts against each other vs against a synthetic agent and a real reader,
    on one second of each, all through μ-law: what the new-voice cue rests on."""
    allison = [_print(line(prompts(n), seed=i)) for i, n in enumerate(
        ["queue-periodic-announce", "queue-thankyou", "pls-hold-while-try", "vm-goodbye"])]
    others = [
        _print(line(synthesize("Good afternoon, you're speaking with Dana."), seed=7)),
        _print(line(read_speech[0][0], seed=8)),
        _print(line(read_speech[-1][0], seed=9)),
    ]
    same = [similarity(a, b) for i, a in enumerate(allison) for b in allison[i + 1 :]]
    cross = [similarity(a, o) for a in allison for o in others]
    assert min(same) > max(cross), (same, cross)
    assert np.mean(same) - np.mean(cross) > 0.15


def test_a_voice_print_is_a_unit_vector_whatever_the_level(prompts):
    pcm = prompts("queue-thankyou")
    loud, soft = _print(pcm), _print((pcm * 0.1).astype(np.int16))
    assert abs(float(np.linalg.norm(loud)) - 1.0) < 1e-4
    assert similarity(loud, soft) > 0.99  # level is no part of who it sounds like


def test_voice_prints_survive_the_company_memory_file(tmp_path, prompts):
    mem = AnnouncementMemory()
    fp = np.arange(200, dtype=np.uint16) * 37
    voice = _print(prompts("queue-thankyou"))
    mem.remember(fp, "thank you for holding", voice=voice)
    memory_store.save("Acme Bank", mem, root=tmp_path)
    again = memory_store.load("Acme Bank", root=tmp_path)
    [stored] = again.voices()
    assert similarity(stored, voice) > 0.999
