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
