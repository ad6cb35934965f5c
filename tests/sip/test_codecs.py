"""Codec names as people write them ("PCMU", "gsm", "speex/8000") name the build's codecs."""

from __future__ import annotations

import pytest

from engine.sip.codecs import matches


@pytest.mark.parametrize(
    "codec_id, name, expected",
    [("PCMU/8000/1", "PCMU", True), ("PCMU/8000/1", "pcmu/8000", True),
     ("GSM/8000/1", "gsm", True), ("speex/16000/1", "speex", True),
     ("speex/16000/1", "speex/8000", False), ("PCMA/8000/1", "PCM", False),
     ("G722/16000/1", " G722 ", True)],
)  # fmt: skip
def test_a_codec_name_names_its_rates_and_nothing_else(codec_id: str, name: str,
                                                       expected: bool) -> None:  # fmt: skip
    assert matches(codec_id, name) is expected
