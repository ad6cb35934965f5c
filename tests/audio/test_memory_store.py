"""A company's announcements, kept between calls: the second call never alarms on what the
first one heard, a person is never kept as an announcement, and a damaged file costs nothing
but the memory."""

import numpy as np

from engine.audio import memory_store
from engine.audio.announcement_memory import AnnouncementMemory
from engine.audio.replay import replay

from .conftest import silence


def test_announcements_saved_after_one_call_veto_their_replay_on_the_next(
    music, prompts, line, tmp_path, monkeypatch
):
    monkeypatch.setenv("HOLDSLAYER_DATA_DIR", str(tmp_path))
    ann = prompts("queue-periodic-announce")
    first_call = AnnouncementMemory()
    replay(line(np.concatenate([music[: 16000 * 8], ann, music[: 16000 * 8]]), seed=2), None,
           memory=first_call)  # fmt: skip
    path = memory_store.save("Acme Bank", first_call)
    assert path == tmp_path / "memory" / "acme_bank.json"

    # acoustics alone would take the announcement followed by silence for a person...
    audio = line(np.concatenate([music[: 16000 * 12], ann, silence(4)]), seed=3)
    assert replay(audio, None).first("human") is not None
    # ...but the memory loaded for the next call to the same company vetoes it
    assert replay(audio, None, memory=memory_store.load("acme_bank")).first("human") is None


def test_a_known_please_hold_is_hold_on_the_next_call_as_soon_as_it_ends(
    music, prompts, line, whisper
):
    """Its words come from memory, not STT, on the next call to the company; they must count
    as words heard. Before, the call waited for 4 s of music (longer when an announcement
    came first) and showed "Menu" meanwhile."""
    from engine.audio.replay import modelled

    hold_prompt = prompts("pls-hold-while-try")
    first_call = AnnouncementMemory()
    replay(line(np.concatenate([silence(1), hold_prompt, music[: 16000 * 8]]), seed=4),
           modelled(whisper), memory=first_call)  # fmt: skip
    assert "hold" in " ".join(first_call.texts()).lower()

    audio = line(np.concatenate([silence(1), hold_prompt, music[: 16000 * 3]]), seed=5)
    prompt_end = 1 + len(hold_prompt) / 16000
    hold = replay(audio, modelled(whisper), memory=first_call).first("hold")
    assert hold is not None and hold.evidence["cue"] == "transcript", hold
    assert hold.t < prompt_end + 1.0, (hold.t, prompt_end)


def test_saving_twice_merges_instead_of_duplicating(tmp_path):
    fp = np.random.default_rng(0).integers(0, 1 << 16, 200, dtype=np.uint16)
    mem = AnnouncementMemory()
    mem.remember(fp, "Your call is important to us.")
    memory_store.save("Telco", mem, root=tmp_path)
    memory_store.save("Telco", mem, root=tmp_path)
    again = memory_store.load("Telco", root=tmp_path)
    assert len(again) == 1
    assert again.match_audio(fp[:50]).ber == 0.0


def test_a_person_the_detector_missed_is_never_kept_as_an_announcement(tmp_path):
    rng = np.random.default_rng(1)
    mem = AnnouncementMemory()
    mem.remember(rng.integers(0, 1 << 16, 200, dtype=np.uint16),
                 "Thank you for calling Acme Bank, this is Dana, how can I help you?")  # fmt: skip
    mem.remember(rng.integers(0, 1 << 16, 200, dtype=np.uint16), "Please continue to hold.")
    memory_store.save("Acme Bank", mem, root=tmp_path)
    kept = memory_store.load("Acme Bank", root=tmp_path).export()
    assert [e["text"] for e in kept] == ["Please continue to hold."]


def test_a_recording_that_introduces_the_company_is_kept(tmp_path):
    """"This is Acme Bank" sounds like a person's introduction; it names the company (the
    company's name, and what its menu calls it), so it is an announcement to remember."""
    rng = np.random.default_rng(3)
    mem = AnnouncementMemory()
    mem.remember(rng.integers(0, 1 << 16, 200, dtype=np.uint16),
                 "Thank you for calling Globex. For billing, press 1.")  # fmt: skip
    for text in ("Hello, this is Globex. Our offices will be closed on Monday.",
                 "This is Acme, where your call matters.",
                 "Thank you for holding, this is Dana, how can I help you?"):  # fmt: skip
        mem.remember(rng.integers(0, 1 << 16, 200, dtype=np.uint16), text)
    memory_store.save("Acme Bank", mem, root=tmp_path)
    kept = [e["text"] for e in memory_store.load("Acme Bank", root=tmp_path).export()]
    assert len(kept) == 3 and not any("Dana" in t for t in kept), kept


def test_a_damaged_file_starts_an_empty_memory(tmp_path):
    (tmp_path / "airline.json").write_text("{not json")
    assert len(memory_store.load("Airline", root=tmp_path)) == 0
    assert memory_store.save("", AnnouncementMemory(), root=tmp_path) is None


def test_a_file_from_an_older_version_has_its_words_renewed(tmp_path):
    """Older files kept a recording's first 5 s and no length, and could hold the words of a
    longer turn. Such words are never taken as a replay's; the first call that hears the
    recording again renews them, with its length, in the company's file."""
    fp = np.random.default_rng(2).integers(0, 1 << 16, 400, dtype=np.uint16)
    old = AnnouncementMemory()
    old.remember(fp[:250], "Thank you for calling. Press 1 to change. Please hold while we")
    memory_store.save("Airline", old, root=tmp_path)
    assert "frames" not in memory_store.load("Airline", root=tmp_path).export()[0]

    this_call = memory_store.load("Airline", root=tmp_path)
    this_call.remember(fp, "Thank you for calling Skyward Air.", frames=400)
    memory_store.save("Airline", this_call, root=tmp_path)
    [entry] = memory_store.load("Airline", root=tmp_path).export()
    assert entry["frames"] == 400 and entry["text"] == "Thank you for calling Skyward Air."
