"""What people type becomes something dialable, or a message saying what is wrong."""

import re

import pytest

from engine.sip.targets import InvalidTarget, parse_target


@pytest.mark.parametrize(
    "typed, e164",
    [
        ("(800) 555-1234", "+18005551234"),
        ("+1 800 555 1234", "+18005551234"),
        ("1-800-555-1234", "+18005551234"),
        ("800.555.1234", "+18005551234"),
        ("1-800-FLOWERS", "+18003569377"),
        ("1-800-flowers", "+18003569377"),
        ("1-800-GOT-JUNK", "+18004685865"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
        ("tel:+18005551234", "+18005551234"),
    ],
)
def test_numbers_normalise_to_e164(typed: str, e164: str) -> None:
    t = parse_target(typed)
    assert (t.kind, t.value) == ("tel", e164)


def test_other_default_country_drops_trunk_zero() -> None:
    assert parse_target("020 7946 0958", default_country="44").value == "+442079460958"


@pytest.mark.parametrize(
    "typed, complaint",
    [
        ("", "nothing to dial"),
        ("555-1234", "North American numbers have 10"),
        ("12", "'12' has 2 digits"),  # not "1 digits": the 1 is no country code here
        ("1", "'1' has 1 digit;"),
        ("(800) 555-12345", "North American numbers have 10"),
        ("800 555 1234 ext!", "unexpected '!'"),
        ("+1 800 +555", "'+' may only lead"),
        ("sip:", "not a valid SIP URI"),
        ("+0 123 456 789", "never start with 0"),
    ],
)
def test_bad_numbers_say_what_is_wrong(typed: str, complaint: str) -> None:
    with pytest.raises(InvalidTarget, match=re.escape(complaint)):
        parse_target(typed)


def test_sip_uris_and_demo_companies() -> None:
    assert parse_target("sip:support@pbx.example.com:5080").kind == "sip"
    assert parse_target("support@pbx.example.com").value == "sip:support@pbx.example.com"
    t = parse_target("demo:acme_bank")
    assert (t.kind, t.value) == ("demo", "acme_bank")
