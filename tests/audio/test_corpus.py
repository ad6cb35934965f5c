"""The benchmark corpus must be reproducible and its ground truth right."""

import hashlib

from engine.audio.corpus import SPLITS, ClipCache, build_call


def test_same_seed_builds_the_same_call(tmp_path):
    cache = ClipCache(tmp_path)
    a = build_call(3, "tune", (20, 30), cache)
    b = build_call(3, "tune", (20, 30), ClipCache(tmp_path))
    assert hashlib.sha1(a.audio.tobytes()).digest() == hashlib.sha1(b.audio.tobytes()).digest()
    assert a.human_onset == b.human_onset


def test_ground_truth_onset_lies_in_the_persons_span_after_hold(tmp_path):
    call = build_call(5, "test", (20, 30), ClipCache(tmp_path))
    human = [s for s in call.spans if s.cls == "human"]
    assert len(human) == 1
    assert human[0].start <= call.human_onset < human[0].end
    if call.hold_end is not None:
        assert call.hold_end <= call.human_onset
        assert 20 <= call.hold_s <= 31 + 15  # the last announcement may run past the range
    assert abs(len(call.audio) / 16000 - call.spans[-1].end) < 0.01


def test_splits_share_no_music_voices_or_read_speakers():
    tune, test = SPLITS["tune"], SPLITS["test"]
    for key in ("music", "songs", "voices", "read", "names", "extra"):
        assert not set(tune[key]) & set(test[key]), key


def test_a_hold_variant_plays_its_own_announcements_with_its_own_gaps(tmp_path):
    """``bench_detection --announcements``: the calls' hold plays only the given texts, each
    followed by the given quiet, and the rest of the call is drawn as before."""
    from engine.audio.corpus import ANNOUNCEMENTS, HoldVariant

    texts = ("Remember to floss, {co} cares.", "Our lobby has new chairs.", "Spring is here.")
    variant = HoldVariant(texts, (1.5, 1.6))
    for seed in range(40):
        call = build_call(seed, "test", (50, 60), ClipCache(tmp_path), variant=variant)
        said = [s for s in call.spans
                if s.cls == "recorded" and s.what not in ("menu", "transfer")]  # fmt: skip
        gaps = [after.end - after.start for s, after in zip(call.spans, call.spans[1:],
                strict=False) if s in said and after.cls == "silence"]  # fmt: skip
        if call.meta["company_voice"] != "allison" and gaps:
            break  # a synthesised line that stops its music for announcements
    mine = {t.format(co=call.meta["company"]) for t in texts}
    assert all(s.what in mine or s.what.startswith("You are caller") for s in said)
    assert not {s.what for s in said} & set(ANNOUNCEMENTS)
    assert all(1.5 <= g <= 1.61 for g in gaps)
    plain = build_call(seed, "test", (50, 60), ClipCache(tmp_path))
    assert call.meta == plain.meta  # same company, voices and person
