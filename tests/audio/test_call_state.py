"""The promises a user relies on, on real recordings through a phone line: hold music and
its announcements never raise "a person is here"; a person after hold does, soon after their
first word; every decision says why."""

import sys
from pathlib import Path

import numpy as np
import pytest

from engine.audio.announcement_memory import AnnouncementMemory
from engine.audio.call_state import DetectorSettings
from engine.audio.corpus import voice_over
from engine.audio.replay import modelled, replay
from engine.speech.stt import SttError
from engine.speech.tts import synthesize

from .conftest import silence

NEW_VOICE = DetectorSettings().new_voice_sim


def _hold_loop(music, announcements, minutes: float, period_s: float = 30.0) -> np.ndarray:
    parts, pos, i = [], 0, 0
    while sum(len(p) for p in parts) < minutes * 60 * 16000:
        parts.append(music[pos : pos + int(period_s * 16000)])
        pos = (pos + int(period_s * 16000)) % (len(music) - int(period_s * 16000))
        parts += [silence(0.4), announcements[i % len(announcements)], silence(0.4)]
        i += 1
    return np.concatenate(parts)


def test_hold_with_repeating_announcements_never_alarms(music, prompts, line, whisper):
    anns = [prompts("queue-periodic-announce"), prompts("queue-thankyou")]
    audio = line(np.concatenate([prompts("pls-hold-while-try"), _hold_loop(music, anns, 3.0)]))
    res = replay(audio, modelled(whisper))
    assert res.first("human") is None
    hold = res.first("hold")
    assert hold is not None and hold.t < 8.0
    assert "cue" in hold.evidence


def test_person_after_hold_is_detected_by_their_words(music, prompts, line, whisper):
    hold = _hold_loop(music, [prompts("queue-periodic-announce")], 1.0)
    person = synthesize("Hi, this is Dana, how can I help you?")
    audio = line(np.concatenate([hold, silence(0.6), person, silence(4)]))
    onset = (len(hold) + 0.6 * 16000) / 16000
    res = replay(audio, modelled(whisper), voice_prints=False)  # the words alone
    human = res.first("human")
    assert human is not None, [d.evidence for d in res.decisions]
    assert onset <= human.t <= onset + 4.0
    assert human.evidence["rule"] == "words of a person"
    assert "this is" in human.evidence["text"].lower()


def test_a_new_voice_greeting_is_heard_before_its_words_give_it_away(
    music, prompts, line, whisper
):
    """"Good afternoon, you're speaking with Dana": the name, which decides by words, comes
    1.5 s in; a voice the line never played that speaks to us decides within the first second
    or so of speech."""
    hold = _hold_loop(music, [prompts("queue-periodic-announce")], 1.0)
    person = synthesize("Good afternoon, you're speaking with Dana. What can I do for you?")
    audio = line(np.concatenate([hold, silence(0.6), person, silence(4)]))
    onset = (len(hold) + 0.6 * 16000) / 16000
    fast = replay(audio, modelled(whisper)).first("human")
    slow = replay(audio, modelled(whisper), voice_prints=False).first("human")
    assert fast is not None and slow is not None
    assert fast.evidence["rule"] == "a voice the line never played speaks to us"
    assert 0 <= fast.evidence["voice_sim"] < NEW_VOICE
    assert onset <= fast.t <= onset + 1.8
    assert fast.t < slow.t - 0.3, (fast.t - onset, slow.t - onset)


def test_a_greeting_announcement_in_the_lines_own_voice_is_no_person(music, line, whisper):
    """A hold announcement that opens like a person ("Hi there!") in the voice of the menu
    is the company's voice, not a new one: no alarm, though its first words greet us."""
    menu = synthesize("Thank you for calling Acme Bank. For billing, press 1. For technical "
                      "support, press 2.")  # fmt: skip
    ann = synthesize("Hi there! While you wait, you can pay your bill any time in our app.")
    parts = [menu, silence(2.0)]
    for k in range(3):
        parts += [music[16000 * 25 * k : 16000 * 25 * (k + 1)], silence(0.4), ann, silence(0.4)]
    res = replay(line(np.concatenate([*parts, music[: 16000 * 10]])), modelled(whisper))
    assert res.first("hold") is not None
    assert res.first("human") is None, res.first("human").evidence
    heard = [ep for ep in res.episodes if ep.phase_at_start == "hold" and "wait" in ep.text.lower()]
    assert heard and heard[0].voice_sim is not None and heard[0].voice_sim >= NEW_VOICE


def test_an_announcement_in_a_new_voice_that_says_hello_is_no_person(music, prompts, line,
                                                                    whisper):
    """The new-voice cue's hard case: a hold announcement in a voice the menu did not use,
    opening like a person ("Hello, and thank you..."). A greeting alone is not enough."""
    from engine.speech.tts import FliteTTS

    menu = prompts("basic-pbx-ivr-main")
    ann = FliteTTS("rms").synthesize(
        "Hello, and thank you for continuing to hold. A member of our team will be with you "
        "soon.", 16000)  # fmt: skip
    audio = line(np.concatenate([menu, silence(2), music[: 16000 * 20], silence(0.4), ann,
                                 silence(0.4), music[16000 * 20 : 16000 * 35]]))  # fmt: skip
    res = replay(audio, modelled(whisper))
    assert res.first("hold") is not None
    assert res.first("human") is None, res.first("human").evidence
    heard = [ep for ep in res.episodes if "hold" in ep.text.lower() and ep.phase_at_start == "hold"]
    assert heard and 0 <= heard[0].voice_sim < NEW_VOICE  # it did sound new


def test_a_misheard_window_of_a_recording_in_its_own_voice_is_no_one_cutting_in(music, line):
    """Whisper can garble the last seconds of a long announcement into a person's words
    (heard on the benchmark: "Hey, I'm Deline and the next, so they look alike"); someone
    cutting in has a voice of their own, so the recording's voice going on, with no more of
    a person's words than that, is no person. (The transcriber garbles exactly the 3 s
    windows, into a name people have: "Deline" alone now needs one more cue of a person.)"""
    ann = synthesize("Your call is important to us. Please stay on the line, and the next "
                     "available agent will be with you shortly. We appreciate your patience "
                     "and look forward to serving you.")  # fmt: skip
    audio = line(np.concatenate([music[: 16000 * 20], silence(0.4), ann, silence(0.4),
                                 music[16000 * 20 : 16000 * 30]]))  # fmt: skip

    def garbling(pcm, final):
        return ("Hey, I'm Daniel and the next, so they look alike" if len(pcm) == 48000
                else "Your call is important to us."), 0.05  # fmt: skip

    assert replay(audio, garbling, voice_prints=False).first("human") is not None  # the trap
    res = replay(audio, garbling)
    assert res.first("human") is None, res.first("human").evidence


@pytest.mark.parametrize(
    "bed, bed_db", [("music", -12), ("music", -24), ("rock", -12), ("rock", -20)]
)
def test_a_voice_over_a_music_bed_that_introduces_itself_is_no_person(
    request, prompts, line, whisper, bed, bed_db
):
    """A hold channel's presenter, or a lyric ("My name is Luka..."), in a voice the line
    never played, with no recording's words: no one at a desk talks over music. The person
    who picks up after it, once the music has stopped, is still heard at once. Hold music
    holds its notes between the presenter's words; distorted rock holds none (as a busy room
    would not) but keeps the colour of the song heard just before, which a room does not."""
    music = request.getfixturevalue(bed)
    presenter = synthesize("Hi, this is Jamie. Stick around, we have a great song coming up "
                           "for you next.")  # fmt: skip
    person = synthesize("Hi, this is Dana, how can I help you?")
    before = [prompts("basic-pbx-ivr-main"), silence(2), music[: 16000 * 25],
              voice_over(presenter, music[16000 * 25 :], bed_db), music[16000 * 40 : 16000 * 55],
              silence(0.6)]  # fmt: skip
    onset = sum(len(p) for p in before) / 16000
    res = replay(line(np.concatenate([*before, person, silence(4)])), modelled(whisper))
    human = res.first("human")
    assert human is not None and human.t >= onset, human and human.evidence
    assert human.t <= onset + 3.0, human.evidence
    heard = [ep for ep in res.episodes if "jamie" in ep.text.lower()]
    assert heard and heard[0].voice_sim is not None and heard[0].voice_sim < NEW_VOICE
    ev, s = heard[0].evidence(), DetectorSettings()
    if bed == "music":
        assert ev["music_under"] >= s.music_under_held
    else:
        assert ev["music_under"] < s.music_under_held  # no notes held...
        assert ev["music_like_db"] <= s.music_colour_db  # ...but the song's colour


@pytest.mark.parametrize("bed_db", [-12, -20])
def test_a_lyric_over_held_notes_is_no_person_though_the_pauses_between_its_words_are_short(
    hold_track, prompts, line, whisper, bed_db
):
    """Between sung words the pauses are shorter than the 100 ms a note must be held to count,
    and 100 ms back the spectrum was the voice's: counted, those frames hid the notes (0 held
    per gap frame, where the song's longer pauses hold 2.8-4.6), and "My name is Luka..." over
    a soft tonal track raised HUMAN_DETECTED in 8 probes of 8. Only frames 100 ms into a pause
    count now."""
    from engine.speech.tts import PiperTTS

    music = hold_track("the_simplicity")
    lyric = PiperTTS(noise_scale=0.0, noise_w_scale=0.0).synthesize(
        "My name is Luka. I live on the second floor. I live upstairs from you.", 16000)
    audio = np.concatenate([prompts("basic-pbx-ivr-main"), silence(2), music[: 16000 * 25],
                            voice_over(lyric, music[16000 * 25 :], bed_db),
                            music[16000 * 45 : 16000 * 60]])  # fmt: skip
    res = replay(line(audio), modelled(whisper))
    assert res.first("hold") is not None
    assert res.first("human") is None, res.first("human").evidence
    sung = [ep for ep in res.episodes if "floor" in ep.text.lower()]
    assert sung and sung[0].evidence()["music_under"] >= DetectorSettings().music_under_held


@pytest.mark.parametrize("pause_s", [0.0, 0.1])
def test_a_lyric_straight_after_an_announcement_over_the_same_rock_is_no_person(
    rock, prompts, line, whisper, pause_s
):
    """On-hold messaging: an announcement over the song, and its lyric ("My name is Luka...")
    straight after it in another voice. The long turn's newest words, judged on their own,
    were a person's cutting in (HUMAN_DETECTED); over a music bed they must be a person's twice
    over, as for any turn."""
    from engine.speech.tts import FliteTTS, PiperTTS

    said = np.concatenate([
        FliteTTS("slt").synthesize("Thank you for holding. Your call is important to us.", 16000),
        silence(pause_s),
        PiperTTS(noise_scale=0.0, noise_w_scale=0.0).synthesize(
            "My name is Luka. I live on the second floor. I live upstairs from you.", 16000),
    ])  # fmt: skip
    audio = np.concatenate([prompts("basic-pbx-ivr-main"), silence(2), rock[: 16000 * 25],
                            voice_over(said, rock[16000 * 25 :], -12),
                            rock[16000 * 45 : 16000 * 60]])  # fmt: skip
    res = replay(line(audio), modelled(whisper))
    assert res.first("hold") is not None
    assert res.first("human") is None, res.first("human").evidence


@pytest.mark.parametrize("gap_s", [0.06, 0.12])
def test_a_person_who_speaks_the_instant_the_music_stops_is_heard_at_once(
    music, prompts, line, whisper, gap_s
):
    """An agent's line opens as the hold music stops and they are already talking, 0.06-0.12 s
    later (the demo telco's agent over SIP: 7 s late, because the music's last frames in the
    lead-in counted as a bed under a voice with too few pauses to tell). Music that stopped
    before the voice is no bed."""
    from engine.speech.tts import FliteTTS

    person = FliteTTS("rms").synthesize(
        "Thanks for calling Nimbus Mobile, my name is Marcus. Can I start with the phone "
        "number on your account?", 16000)  # fmt: skip
    person = person[int(np.argmax(np.abs(person) > 300)) :]  # from its first sound
    hold = [prompts("basic-pbx-ivr-main"), silence(2), music[: 16000 * 30], silence(gap_s)]
    onset = sum(len(p) for p in hold) / 16000
    audio = line(np.concatenate([*hold, person, silence(4)]))
    human = replay(audio, modelled(whisper)).first("human")
    assert human is not None and onset <= human.t <= onset + 3.0, human and (
        human.t - onset, human.evidence)
    assert human.evidence["music_lead"] < DetectorSettings().music_lead_held  # it stopped


def _room(read_speech, n: int, skip: int = -1) -> np.ndarray:
    """A call centre's floor: five other people reading at once, ``n`` samples of them."""
    room = np.zeros(n, np.float64)
    others = [clip for k, (clip, _) in enumerate(read_speech) if k != skip][:5]
    for k, clip in enumerate(others):
        room += np.roll(np.resize(clip.astype(np.float64), n), 7919 * k)
    return room


def _in_room(voice: np.ndarray, room: np.ndarray, room_db: float, before_s: float) -> np.ndarray:
    """``voice`` with ``room`` behind it, ``room_db`` under it, from ``before_s`` before it
    to the room's end."""
    def level(x: np.ndarray) -> float:
        return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-9))

    out = room * 10 ** ((level(voice) + room_db - level(room)) / 20)
    k = int(before_s * 16000)
    out[k : k + len(voice)] += voice
    return np.clip(out, -32768, 32767).astype(np.int16)


def test_a_person_in_a_busy_room_is_still_heard_at_once(music, prompts, line, read_speech,
                                                      whisper):
    """Other people talking behind the agent (a call centre's floor) is no music bed: the
    new voice that speaks to us is declared as soon as without them."""
    person = synthesize("Good afternoon, you're speaking with Dana. What can I do for you?")
    room = _room(read_speech, len(person) + 16000)
    hold = [prompts("basic-pbx-ivr-main"), silence(2), music[: 16000 * 30], silence(0.6)]
    onset = sum(len(p) for p in hold) / 16000
    times = []
    for room_db in (None, -25):
        said = person if room_db is None else voice_over(person, room.astype(np.int16), room_db)
        res = replay(line(np.concatenate([*hold, said, silence(4)])), modelled(whisper))
        human = res.first("human")
        assert human is not None and human.t >= onset, room_db
        times.append(human.t - (0 if room_db is None else 0.5))  # the room starts 0.5 s early
    assert times[1] <= times[0] + 0.5, times


def test_a_reader_in_a_busy_room_who_stops_to_wait_for_us_is_heard(music, line, read_speech,
                                                                  whisper):
    """A person with no greeting in their words is heard by stopping to wait for us. In a
    call centre the room goes on in that pause: silero hears its voices, webrtcvad calls
    them music, and "music came back after it" took the person for a recording, never
    heard. Sound as far under the voice as the room was under its words is that room."""
    reader, _ = read_speech[3]  # "had he married a more amiable woman...", 6 s
    onset = 40.8
    said = _in_room(reader, _room(read_speech, len(reader) + 16000 * 7, skip=3), -25, 0.8)
    audio = line(np.concatenate([music[: 16000 * 40], said]))
    human = replay(audio, modelled(whisper)).first("human")
    assert human is not None and onset < human.t <= onset + len(reader) / 16000 + 4.0, (
        human and human.evidence)
    assert human.evidence["rule"] == "spoke, then waited for an answer"
    assert human.evidence["room_s"] > 2.0
    deaf = replay(audio, modelled(whisper), DetectorSettings(room_voice_db=float("inf")))
    assert deaf.first("human") is None  # the trap is real


def test_an_announcement_from_a_busy_office_then_the_music_is_no_one_waiting(
    music, line, read_speech, whisper
):
    """A recording made in a noisy office, with no recording's words in it, then the hold
    music again: the music that comes back is the music's level, no room."""
    ann = synthesize("Good afternoon. Our offices will be closed on Monday for the holiday.")
    said = _in_room(ann, _room(read_speech, len(ann) + 16000), -25, 0.5)
    audio = line(np.concatenate([music[: 16000 * 40], said, music[16000 * 40 : 16000 * 70]]))
    res = replay(audio, modelled(whisper))
    assert res.first("hold") is not None
    assert res.first("human") is None, res.first("human").evidence


def test_quiet_after_an_announcement_in_the_lines_voice_is_no_one_waiting(
    music, line, read_speech, whisper
):
    """The hold can end on an announcement ("...exciting news about our rewards program", no
    recording's words in it), then 2 s of quiet until the agent speaks. In the voice of the
    menu that quiet is no one waiting for us; the reader after it is the person."""
    menu = synthesize("Thank you for calling Acme Bank. For billing, press 1. For technical "
                      "support, press 2. For everything else, press 3.")  # fmt: skip
    ann = synthesize("Good afternoon. We have exciting news about our new rewards program.")
    reader, _ = read_speech[1]
    before = [menu, silence(2), music[: 16000 * 25], silence(0.4), ann, silence(2.2)]
    onset = sum(len(p) for p in before) / 16000
    audio = line(np.concatenate([*before, reader, silence(5)]))
    human = replay(audio, modelled(whisper)).first("human")
    assert human is not None and human.t > onset, human.evidence if human else None
    wait = DetectorSettings().turn_wait_s  # every voice and every turn waits the usual 1.2 s
    hasty = DetectorSettings(line_voice_sim=2.0, weak_turn_wait_s=wait)
    early = replay(audio, modelled(whisper), hasty).first("human")
    assert early is not None and early.t < onset  # the trap is real


def test_the_cut_off_tail_of_a_replayed_announcement_is_no_one_waiting(whisper, tmp_path):
    """A replay of a known announcement can part from its recording just before its end
    (here after a short music gap behind another announcement); its last words ("with our
    customers.") then stand alone, with no word of a person in them, and the queue ending
    there leaves 1.6 s of quiet before the agent. That tail waits as long as a lone "Hello?"
    must. The benchmark's call test-900006 (seed 9, flite kal16, a LibriVox reader)."""
    from engine.audio.corpus import ClipCache, build_call

    call = build_call(900006, "test", (60.0, 240.0), ClipCache(tmp_path))
    onset = call.human_onset
    assert onset is not None
    human = replay(call.audio, modelled(whisper)).first("human")
    assert human is not None and human.t > onset, human and human.evidence
    wait = DetectorSettings().turn_wait_s
    # two guards hold here: the tail waits as long as a lone "Hello?", and it is judged
    # with the words of the sentence it was cut from (test-2000003 needs the second)
    hasty = DetectorSettings(call_out_wait_s=wait, weak_turn_wait_s=wait, split_tail_alone_s=0)
    early = replay(call.audio, modelled(whisper), hasty).first("human")
    assert early is not None and early.t < onset  # the trap is real
    assert early.evidence["voice_took_over"] is True


def test_an_announcement_the_cue_words_miss_then_a_pause_in_the_music_is_no_one_waiting(
    whisper, tmp_path
):
    """A queue can say anything: "Hey there! Quick tip: most billing questions are answered
    on our website." has no word the cues know, comes in a voice only somewhat like the
    menu's (0.75), and its music comes back 2.2 s later, from a quiet passage. Words that
    offer or ask the caller nothing must be followed by a longer quiet than a question.
    The benchmark's call test-1400000 with ``--announcements bench/unseen/announcements.txt``."""
    from engine.audio.corpus import ClipCache, HoldVariant, build_call

    bench = Path(__file__).resolve().parents[2] / "bench"
    sys.path.insert(0, str(bench))
    from bench_detection import read_announcements

    texts = read_announcements(bench / "unseen" / "announcements.txt")
    call = build_call(1400000, "test", (60.0, 240.0), ClipCache(tmp_path),
                      variant=HoldVariant(texts))  # fmt: skip
    onset = call.human_onset
    assert onset is not None
    human = replay(call.audio, modelled(whisper)).first("human")
    assert human is not None and human.t > onset, human and human.evidence
    hasty = DetectorSettings(weak_turn_wait_s=DetectorSettings().turn_wait_s)
    early = replay(call.audio, modelled(whisper), hasty).first("human")
    assert early is not None and early.t < onset  # the trap is real
    assert "website" in early.evidence["text"]


def test_a_queue_announcement_split_mid_sentence_then_a_long_pause_is_no_one_waiting(
    whisper, tmp_path
):
    """A voice check split "You are caller number 4. The estimated wait time is approximately
    | 8 minutes." in two, as if another voice had taken over, and the hold music came back
    only 4 s later. The tail ("with the eight minutes.", as Whisper heard it: no cue word)
    is too short a voice to prove anyone else, and was cut from a sentence: it is judged
    with its head's words. The benchmark's call test-2000003 (seed 20) with
    ``--announcement-gap 3 4.5``."""
    from engine.audio.corpus import ClipCache, HoldVariant, build_call

    call = build_call(2000003, "test", (60.0, 240.0), ClipCache(tmp_path),
                      variant=HoldVariant((), (3.0, 4.5)))  # fmt: skip
    onset = call.human_onset
    assert onset is not None
    human = replay(call.audio, modelled(whisper)).first("human")
    assert human is not None and human.t > onset, human and human.evidence
    alone = DetectorSettings(split_tail_alone_s=0.0)
    early = replay(call.audio, modelled(whisper), alone).first("human")
    assert early is not None and early.t < onset  # the trap is real
    assert early.evidence["voice_took_over"] is True


def test_someone_who_picks_up_as_an_announcement_ends_is_a_turn_of_their_own(
    music, prompts, line, read_speech, whisper
):
    """An agent who starts reading half a second after "thank you for your patience" (no
    music between) is not part of the recording: the voice that took over is judged alone."""
    audio_read, _ = read_speech[1]
    audio = line(np.concatenate([music[: 16000 * 30], silence(0.4), prompts("queue-thankyou"),
                                 silence(0.5), audio_read, silence(5)]))  # fmt: skip
    onset = 30.4 + len(prompts("queue-thankyou")) / 16000 + 0.5
    res = replay(audio, modelled(whisper))
    human = res.first("human")
    assert human is not None and human.t > onset, [d.evidence for d in res.decisions]
    assert human.evidence["voice_took_over"] is True
    assert "patience" not in human.evidence["text"].lower()


def test_an_agent_who_cuts_an_announcement_off_is_heard(music, line, read_speech, whisper):
    """Queue systems stop the announcement the moment an agent picks up: no pause between
    the recording's words and the person's. The voice that took over is judged alone."""
    ann = synthesize("Your call is important to us. All of our representatives are still "
                     "assisting other customers. Please stay on the line.")  # fmt: skip
    reader, _ = read_speech[1]
    cut = ann[: int(4.2 * 16000)]  # cut off mid-sentence
    audio = line(np.concatenate([music[: 16000 * 20], silence(0.4), cut, reader, silence(5)]))
    onset = 20.4 + len(cut) / 16000
    res = replay(audio, modelled(whisper))
    human = res.first("human")
    assert human is not None and human.t > onset, [e.text for e in res.episodes]
    assert human.evidence["voice_took_over"] is True
    assert "important" not in human.evidence["text"].lower()


def test_a_cut_off_announcement_is_split_even_when_its_words_come_in_late(
    music, line, read_speech, whisper
):
    """With an STT too slow for partials (a loaded machine, a far server) the words that
    prove the announcement a recording come after the agent who cut it off has finished:
    the takeover is still found where the voice changed, and the agent heard on their own."""
    ann = synthesize("Your call is important to us. All of our representatives are still "
                     "assisting other customers. Please stay on the line.")  # fmt: skip
    reader, _ = read_speech[1]
    cut = ann[: int(4.2 * 16000)]
    audio = line(np.concatenate([music[: 16000 * 20], silence(0.4), cut, reader, silence(8)]))
    onset = 20.4 + len(cut) / 16000
    run = modelled(whisper)

    def slow_partials(pcm: np.ndarray, final: bool = True) -> tuple[str, float]:
        text, took = run(pcm, final)
        return text, took if final else 6.0

    res = replay(audio, slow_partials)
    human = res.first("human")
    assert human is not None and human.t > onset, [e.text for e in res.episodes]
    assert human.evidence["voice_took_over"] is True
    assert "important" not in human.evidence["text"].lower()


def _known_offer(music, line, whisper) -> tuple[np.ndarray, AnnouncementMemory]:
    """A callback offer, and the memory of a first call that heard it in full."""
    offer = synthesize("We are experiencing higher than normal call volumes. To be called "
                       "back when an agent is available, without losing your place in line, "
                       "press 1.")  # fmt: skip
    first = AnnouncementMemory()
    replay(line(np.concatenate([music[: 16000 * 15], silence(0.4), offer, silence(0.4),
                                music[16000 * 15 : 16000 * 25]]), 1), modelled(whisper),
           memory=first)  # fmt: skip
    return offer, AnnouncementMemory(known=first.export())


def test_an_agent_who_cuts_off_a_known_announcement_in_its_voice_is_heard(music, line, whisper):
    """The second call to a company knows its callback offer by the sound and vetoes it; the
    agent who cuts it off speaks in the IVR's own voice (no takeover by voice print). Where
    the replay stops sounding like the recording, the rest is a turn of its own."""
    offer, earlier = _known_offer(music, line, whisper)
    agent = synthesize("Skyward Air, this is Priya speaking. How can I help you today?")
    part = [music[16000 * 30 : 16000 * 45], silence(0.4), offer[: int(2.8 * 16000)]]
    onset = sum(len(p) for p in part) / 16000
    res = replay(line(np.concatenate([*part, agent, silence(5)]), 2), modelled(whisper),
                 memory=earlier)  # fmt: skip
    assert res.episodes[0].repeat is not None  # the offer was known...
    human = res.first("human")
    assert human is not None and human.t > onset, [e.text for e in res.episodes]
    assert "this is" in human.evidence["text"].lower()
    assert human.t - onset < 4.0


def test_the_turn_a_person_cut_into_is_not_kept_to_veto_them_next_time(music, line, whisper):
    """The agent cuts into a long announcement in the IVR's voice and is heard seconds into
    the turn; that turn (announcement and agent) is no recording to remember: the same
    audio on the next call (a demo company's agent is always the same) is heard again."""
    ann = synthesize("Good afternoon. We have exciting news about our new rewards program, "
                     "with points on every purchase you make.")  # fmt: skip
    agent = synthesize("Hi, this is Dana. How can I help you?")
    audio = line(np.concatenate([music[: 16000 * 20], silence(0.4), ann, agent, silence(5)]))
    memory = AnnouncementMemory()
    first = replay(audio, modelled(whisper), memory=memory).first("human")
    assert first is not None and first.t - first.evidence["episode_start"] > 5
    assert not any("dana" in e["text"].lower() for e in memory.export()), memory.export()
    again = replay(audio, modelled(whisper), memory=AnnouncementMemory(known=memory.export()))
    assert again.first("human") is not None


def test_a_replay_that_goes_on_otherwise_adds_no_voice_to_the_line(music, line, whisper):
    """"You are caller number nine" and then its words go on otherwise (a queue position's new
    number, another sentence): the fingerprint knows the opening, the rest is split off where
    the two part. That tail is the same voice; its voice print (short, noisy) is not kept, or
    a person could later sound like one of the line's voices."""
    nine = synthesize("You are caller number nine. The estimated wait time is approximately "
                      "eighteen minutes.")  # fmt: skip
    eight = synthesize("You are caller number nine. Calls will be answered in the order "
                       "they were received, by the next available representative.")  # fmt: skip
    bed = music[: 16000 * 15]
    memory = AnnouncementMemory()
    res = replay(line(np.concatenate([bed, silence(0.4), nine, silence(0.4), bed, silence(0.4),
                                      eight, silence(0.4), bed])), modelled(whisper),
                 memory=memory)  # fmt: skip
    tails = [e for e in res.episodes if e.replay_tail]
    assert tails, [(e.text, e.repeat is not None) for e in res.episodes]
    assert res.first("human") is None
    spoken = [e for e in res.episodes if e.speech_s >= 0.5 and not e.replay_tail]
    assert len(memory.voices()) == len({e.memory_index for e in spoken if e.memory_index >= 0})


def test_a_known_announcement_then_a_prompt_it_never_played_gets_its_own_words(
    music, line, whisper
):
    """The memory's words are the recording's: a prompt chained onto it is transcribed on
    its own, and a full replay takes its words from memory (no STT)."""
    offer, earlier = _known_offer(music, line, whisper)
    hours = synthesize("Please note our new business hours: eight to eight, Monday through "
                       "Saturday.")  # fmt: skip
    bed = music[16000 * 30 : 16000 * 45]
    res = replay(line(np.concatenate([bed, silence(0.4), offer, silence(0.2), hours,
                                      silence(0.4), bed]), 2), modelled(whisper),
                 memory=earlier)  # fmt: skip
    assert res.first("human") is None
    turns = [e for e in res.episodes if e.speech_s > 1]
    assert turns[0].repeat is not None and "business hours" not in turns[0].text.lower()
    assert "business hours" in turns[1].text.lower() and turns[1].split_from == turns[0].id
    again = replay(line(np.concatenate([bed, silence(0.4), offer, silence(0.4), bed]), 3),
                   modelled(whisper), memory=AnnouncementMemory(known=earlier.export()))
    words = [t for t in again.transcripts if t.final and "normal" in t.text.lower()]
    assert words and words[0].available_at <= words[0].end + 0.1  # from memory: at once


def test_a_new_voice_straight_after_the_menu_that_waits_is_a_person(
    prompts, line, read_speech, whisper
):
    """No hold at all: the menu, then someone reading (no greeting words) who waits."""
    audio_read, _ = read_speech[2]
    menu = prompts("basic-pbx-ivr-main")
    audio = line(np.concatenate([menu, silence(2.5), audio_read, silence(5)]))
    res = replay(audio, modelled(whisper))
    human = res.first("human")
    assert human is not None and human.t > (len(menu) / 16000 + 2.5)
    assert human.evidence["rule"] == "a new voice spoke, then waited"
    assert res.first("hold") is None


def test_a_prompt_in_a_new_voice_that_offers_nothing_then_a_pause_before_hold_is_no_person(
    prompts, music, line, read_speech, whisper
):
    """IVRs chain prompts in several voices: after the menu, "Great. Let me find the right
    team for you." in another voice, then 2 s of quiet before the hold music. Words that
    offer or ask the caller nothing wait as long before hold as on it; the reader after the
    hold is the person."""
    menu = prompts("basic-pbx-ivr-main")
    chain = synthesize("Great. Let me find the right team for you.")
    reader, _ = read_speech[2]
    before = [menu, silence(2), chain, silence(2.0), music[: 16000 * 20], silence(0.6)]
    onset = sum(len(p) for p in before) / 16000
    audio = line(np.concatenate([*before, reader, silence(5)]))
    res = replay(audio, modelled(whisper))
    human = res.first("human")
    assert human is not None and human.t > onset, human.evidence if human else None
    wait = DetectorSettings().turn_wait_s
    early = replay(audio, modelled(whisper), DetectorSettings(weak_turn_wait_s=wait))
    hasty = early.first("human")
    assert hasty is not None and hasty.t < onset  # the trap is real
    assert hasty.evidence["rule"] == "a new voice spoke, then waited"


def test_someone_after_the_menu_whose_voice_is_somewhat_like_it_is_heard(whisper, tmp_path):
    """No hold: flite's kal16 reads the menu, then a reader whose voice print is 0.62 like it
    (not "new", under 0.6, nor the menu's, 0.8 and up) reads a sentence with no greeting in
    it and waits. The benchmark's call test-1000019 (seed 10), missed before."""
    from engine.audio.corpus import ClipCache, build_call

    call = build_call(1000019, "test", (60.0, 240.0), ClipCache(tmp_path))
    onset = call.human_onset
    assert onset is not None and call.hold_start is None
    human = replay(call.audio, modelled(whisper)).first("human")
    assert human is not None and onset < human.t < onset + 6.5, human and human.evidence
    assert human.evidence["rule"] == "a voice unlike the menu's spoke, then waited"
    assert NEW_VOICE <= human.evidence["voice_sim"] < DetectorSettings().line_voice_sim
    narrow = DetectorSettings(line_voice_sim=NEW_VOICE)  # only a "new" voice may wait
    assert replay(call.audio, modelled(whisper), narrow).first("human") is None  # a miss


def test_a_speech_menu_in_a_new_voice_that_waits_is_no_person(prompts, line, whisper):
    """A speech menu after the keypad menu, in another voice, asks and waits like a person."""
    menu = prompts("basic-pbx-ivr-main")
    bot = synthesize("Please tell me briefly, in a few words, why you are calling today.")
    res = replay(line(np.concatenate([menu, silence(2), bot, silence(6)])), modelled(whisper))
    assert res.first("human") is None, res.first("human").evidence


def test_a_virtual_assistant_after_the_menu_is_no_person(prompts, line, whisper):
    """Bots introduce themselves with a name and offer help ("Hi, I'm Emma... how can I help
    you today?"), then wait for an answer. Before hold, a person is decided on the whole
    turn's words, where the bot gives itself away."""
    menu = prompts("basic-pbx-ivr-main")
    bot = synthesize("Hi, I'm Emma, Acme Bank's virtual assistant. How can I help you today?")
    audio = line(np.concatenate([menu, silence(2), bot, silence(5)]))  # 27 s into the call
    res = replay(audio, modelled(whisper))
    assert res.first("human") is None, res.first("human").evidence
    said = " ".join(t.text for t in res.transcripts if t.final).lower()
    assert "assistant" in said  # it was heard, and understood as a bot


SHORT_MENU = "Thank you for calling Acme Bank. For billing, press 1. Otherwise, stay on the line."


def test_someone_who_picks_up_straight_after_a_short_menu_is_heard_while_still_talking(
    line, whisper
):
    """No hold: a short menu, then a person in a voice the menu never used, 10 s into the
    call. They get partial transcripts as after hold, so they are heard while still talking,
    not on the final transcript after their turn."""
    from engine.speech.tts import FliteTTS

    menu = FliteTTS("awb").synthesize(SHORT_MENU)
    person = synthesize("Hi there, my name is Alex. Could I get your name please? "
                        "I can look up your account while you find your card.")  # fmt: skip
    lead = silence(0.5)
    audio = line(np.concatenate([lead, menu, silence(2), person, silence(5)]))
    start = (len(lead) + len(menu)) / 16000 + 2
    assert start + len(person) / 16000 < 20  # where menus get no partials
    res = replay(audio, modelled(whisper))
    human = res.first("human")
    assert human is not None, [t.text for t in res.transcripts]
    assert start < human.t < start + len(person) / 16000, human.evidence
    assert human.evidence["rule"] == "words of a person"
    assert human.evidence["voice_sim"] < NEW_VOICE


@pytest.mark.parametrize("announcement", [
    "Hello, this is Acme Bank. Our offices will be closed on Monday for the holiday.",
    "Hi, this is Acme Bank. Did you know you can pay your bill online?",
])
def test_an_announcement_that_introduces_the_company_is_no_person(
    music, line, whisper, announcement
):
    """"This is Acme Bank", in a voice the menu never used, opens like a person introducing
    themselves. The menu named the company, so those words are the line's; the person who
    then says "this is Jordan" is still heard at once."""
    from engine.speech.tts import FliteTTS

    menu = FliteTTS("awb").synthesize("Thank you for calling Acme Bank. For billing, press 1. "
                                      "Otherwise, please hold.")  # fmt: skip
    ann = FliteTTS("rms").synthesize(announcement)
    person = synthesize("Good morning, this is Jordan with Acme Bank. How can I help you?")
    hold = [music[: 16000 * 30], silence(0.4), ann, silence(0.4), music[16000 * 30 : 16000 * 45]]
    before = np.concatenate([menu, silence(2), *hold, silence(0.6)])
    res = replay(line(np.concatenate([before, person, silence(4)])), modelled(whisper))
    human = res.first("human")
    onset = len(before) / 16000
    assert human is not None and human.t >= onset, (human.evidence["text"], res.transcripts)
    assert human.t <= onset + 3.0, human.evidence
    assert "jordan" in human.evidence["text"].lower()


def test_the_company_named_by_the_caller_is_no_persons_name(music, line, whisper):
    """No menu named it, but the user said whom they were calling."""
    from engine.speech.tts import FliteTTS

    ann = FliteTTS("rms").synthesize("This is Contoso Insurance. Your call matters to us.")
    audio = line(np.concatenate([music[: 16000 * 30], silence(0.4), ann, silence(0.4),
                                 music[16000 * 30 : 16000 * 45]]))  # fmt: skip
    res = replay(audio, modelled(whisper), names=["Contoso Insurance"])
    assert res.first("hold") is not None
    assert res.first("human") is None, res.first("human").evidence


def test_real_person_reading_after_hold_is_detected_by_turn_taking(
    music, line, read_speech, whisper
):
    audio_read, _ = read_speech[1]  # "he was not an ill disposed young man": no greeting words
    hold = music[: 16000 * 40]
    audio = line(np.concatenate([hold, silence(0.8), audio_read, silence(5)]))
    onset = 40.8
    res = replay(audio, modelled(whisper))
    human = res.first("human")
    assert human is not None and human.t >= onset
    assert human.evidence["rule"].startswith("spoke, then waited")


def test_a_person_who_waits_is_heard_though_a_lossy_line_drops_out_in_the_pause(
    music, read_speech, whisper
):
    """A lossy line's jitter buffer fills a burst of lost packets with a guess that fades to
    digital silence. That hole, 0.1 s in the pause after a reader stops, must not hide the
    quiet that follows: the hiss after it is no voice, so the turn-taking wait still ends."""
    audio_read, _ = read_speech[1]
    rng = np.random.default_rng(5)
    times = []
    audio = np.concatenate([music[: 16000 * 40], silence(0.8), audio_read, silence(5)])
    hiss = rng.normal(0, 32768 * 10**(-52 / 20), audio.size)  # a noisy line, -52 dBFS
    stops = audio.size - 5 * 16000
    for hole in (False, True):
        line = np.clip(audio + hiss, -32768, 32767).astype(np.int16)
        if hole:
            line[stops + int(0.3 * 16000) : stops + int(0.4 * 16000)] = 0
        human = replay(line, modelled(whisper)).first("human")
        assert human is not None and human.t >= 40.8, hole
        assert human.evidence["rule"].startswith("spoke, then waited"), human.evidence
        times.append(human.t)
    assert times[1] <= times[0] + 0.3, times


def test_a_soft_spoken_person_on_a_quiet_line_is_heard(music, whisper):
    """A person far from their headset's microphone: speech 46 dB under full scale, its
    softer syllables under the -50 dBFS that means silence on a noisy line. On a quiet line
    (hiss at -80 dBFS) that is still 30 dB of voice; it must not break up into nothing."""
    from engine.audio.g711 import ulaw_roundtrip
    from engine.audio.resample import resample
    from engine.speech.tts import FliteTTS

    person = FliteTTS("kal16").synthesize("Hello? Are you there?", 16000).astype(np.float64)
    loud = person[np.abs(person) > 0.1 * np.abs(person).max()]
    person *= 32768 * 10 ** (-46 / 20) / np.sqrt(np.mean(loud**2))
    audio = np.concatenate([music[: 16000 * 40] * 0.5, silence(0.8), person, silence(5)])
    hiss = np.random.default_rng(3).normal(0, 32768 * 10 ** (-80 / 20), audio.size)
    pcm = np.clip(audio + hiss, -32768, 32767).astype(np.int16)
    line = resample(ulaw_roundtrip(resample(pcm, 16000, 8000)), 8000, 16000)
    human = replay(line, modelled(whisper)).first("human")
    assert human is not None and 40.8 <= human.t <= 40.8 + 3.0, human and human.evidence


@pytest.mark.parametrize("heard", ["", "Thank you.", "you"])
def test_a_sound_whisper_finds_no_words_in_is_no_person_waiting(music, line, read_speech,
                                                                heard):
    """A burst the voice detector takes for speech, then quiet: "spoke, then waited" only
    when the transcript holds words (Whisper writes "" or "Thank you." for music)."""
    audio_read, _ = read_speech[1]
    audio = line(np.concatenate([music[: 16000 * 40], silence(0.8), audio_read, silence(5)]))
    res = replay(audio, lambda pcm, final: (heard, 0.05))
    assert res.first("hold") is not None
    assert res.first("human") is None, res.first("human").evidence


@pytest.mark.parametrize("voice", ["piper", "flite"])
def test_someone_who_only_says_hello_and_waits_is_heard(music, prompts, line, whisper, voice):
    """Picking up to a silent caller, people say "Hello?" and wait: one word, 0.3 s of speech,
    under what turn-taking needs (0.4 s, two words). Missed, they hang up a few seconds on."""
    from engine.speech.tts import FliteTTS, PiperTTS

    tts = PiperTTS(noise_scale=0.0, noise_w_scale=0.0) if voice == "piper" else FliteTTS("awb")
    hello = tts.synthesize("Hello?", 16000)
    before = [prompts("basic-pbx-ivr-main"), silence(1), music[: 16000 * 40], silence(0.6)]
    onset = sum(len(p) for p in before) / 16000
    res = replay(line(np.concatenate([*before, hello, silence(5)])), modelled(whisper))
    human = res.first("human")  # after 2 s of quiet: a prompt may pause after its "Hello."
    assert human is not None and onset <= human.t <= onset + 3.5, human and human.evidence
    assert human.evidence["rule"] == "spoke, then waited for an answer"


@pytest.mark.parametrize("said", ["Hello?", "Yeah, hello?"])
def test_someone_who_answers_the_call_with_a_hello_is_heard(line, whisper, said):
    """A small firm answers the phone itself: the first voice on the line says "Hello?" and
    waits. No menu opens with one word and then waits for us."""
    from engine.audio.corpus import _ringback
    from engine.speech.tts import PiperTTS

    hello = PiperTTS(noise_scale=0.0, noise_w_scale=0.0).synthesize(said, 16000)
    before = [_ringback(2), silence(0.7)]
    onset = sum(len(p) for p in before) / 16000
    res = replay(line(np.concatenate([*before, hello, silence(6)])), modelled(whisper))
    human = res.first("human")
    assert human is not None and onset <= human.t <= onset + 3.5, human and human.evidence
    assert human.evidence["rule"] == "answered with a hello, then waited"


def test_a_menu_that_pauses_after_its_hello_is_no_person(prompts, line, whisper):
    """An IVR that opens "Hello." and pauses a second and a half before its menu."""
    from engine.speech.tts import PiperTTS

    hello = PiperTTS(noise_scale=0.0, noise_w_scale=0.0).synthesize("Hello.", 16000)
    audio = np.concatenate([silence(0.5), hello, silence(1.5), prompts("basic-pbx-ivr-main"),
                            silence(3)])  # fmt: skip
    res = replay(line(audio), modelled(whisper))
    assert res.first("human") is None, res.first("human").evidence


def test_announcement_heard_on_an_earlier_call_is_vetoed_by_fingerprint(music, prompts, line):
    ann = prompts("queue-periodic-announce")
    # without memory, acoustics alone (no STT) take an announcement followed by silence
    # for a person who waits: only the memory can stop that alarm
    first = replay(line(np.concatenate([music[: 16000 * 20], ann, silence(4)]), seed=1), None)
    assert first.first("human") is not None
    # an earlier call to the same company heard it (music came back after it)...
    earlier = AnnouncementMemory()
    replay(line(np.concatenate([music[: 16000 * 10], ann, music[: 16000 * 10]]), seed=2), None,
           memory=earlier)  # fmt: skip
    assert len(earlier) == 1
    # ... and its exported memory, loaded on the next call, vetoes the replay
    memory = AnnouncementMemory(known=earlier.export())
    second = replay(line(np.concatenate([music[: 16000 * 20], ann, silence(4)]), seed=3), None,
                    memory=memory)  # fmt: skip
    assert second.first("human") is None


def test_failing_stt_degrades_to_acoustics_and_still_hears_the_person(music, line, read_speech):
    def broken(_audio, _final=True):
        raise SttError("server down")

    audio_read, _ = read_speech[0]
    audio = line(np.concatenate([music[: 16000 * 30], silence(0.5), audio_read, silence(5)]))
    res = replay(audio, broken)
    human = res.first("human")
    assert human is not None and human.t > 30.5
    assert "STT down" in human.evidence["rule"]
    assert human.confidence < 0.8  # says it is less sure


@pytest.mark.parametrize("seed", [0])
def test_decisions_carry_their_evidence(music, prompts, line, whisper, seed):
    person = synthesize("Thanks for holding, my name is Sam. Can I have your account number?")
    audio = line(np.concatenate([music[: 16000 * 20], silence(0.5), person, silence(4)]), seed)
    res = replay(audio, modelled(whisper))
    human = res.first("human")
    assert human is not None
    for key in ("rule", "episode_start", "speech_s", "repeat_best_ber", "text", "cues",
                "hold_since", "music_before_s"):  # fmt: skip
        assert key in human.evidence
    assert human.evidence["hold_since"] is not None and human.evidence["music_before_s"] > 3


@pytest.mark.parametrize("cut_s", [2.0, 2.5, 3.2])
def test_a_known_menu_cut_short_by_our_key_keeps_its_words_whole(prompts, music, line, whisper,
                                                                 cut_s):
    """On the second call the learned key goes in while the menu is still talking: it stops
    mid-sentence and the queue's prompt starts. The menu's turn ends where it stopped, so
    its words so far and the prompt's first ones stay whole for the transcript. Cut a fixed
    second back, the menu's last words went to the prompt ('Press 1. Please hold...') or the
    prompt's words were lost ('Welcome to Nimbus Mobile.', then 'for billing it.')."""
    menu = synthesize("Welcome to Nimbus Mobile. For billing and payments, press 1. For "
                      "technical support, press 2.")  # fmt: skip
    hold, bed = prompts("pls-hold-while-try"), music[: 16000 * 8]
    first = AnnouncementMemory()
    replay(line(np.concatenate([silence(0.3), menu, silence(1.0), hold, silence(0.3), bed]), 1),
           modelled(whisper), memory=first)  # fmt: skip
    audio = np.concatenate([silence(0.3), menu[: int(cut_s * 16000)], hold, silence(0.3), bed])
    res = replay(line(audio, 2), modelled(whisper), memory=AnnouncementMemory(known=first.export()))
    said = [t.text for t in res.transcripts if t.final and t.text]
    assert len(said) >= 2 and "billing" in said[0].lower(), said
    assert said[1].lower().startswith("please hold while"), said
    assert res.episodes[0].repeat is not None and res.first("human") is None


@pytest.mark.parametrize("words, cut", [
    ("The estimated wait time is approximately", True),
    ("The estimated wait time is approximately.", True),  # Whisper's stop after a cut
    ("You are caller number.", True),
    ("Your call is important to us.", False),
    ("How can I help you?", False),
])
def test_a_recording_cut_off_on_a_word_no_sentence_ends_on_is_cut_mid_sentence(words, cut):
    from engine.audio.call_state import _cut_mid_sentence

    assert _cut_mid_sentence(words) is cut
