"""The parser hears the choices a menu offers however it words them."""

from __future__ import annotations

import pytest

from engine.ivr.menu_parser import parse_menu


def options(text: str) -> dict[str, str]:
    return {o.key: o.label for o in parse_menu(text).options}


def kinds(text: str) -> dict[str, str]:
    return {o.key: o.kind for o in parse_menu(text).options}


@pytest.mark.parametrize("text,expected", [
    ("Press 1 for billing. Press 2 for technical support.",
     {"1": "billing", "2": "technical support"}),
    ("For billing, press 1. For technical support, press 2.",
     {"1": "billing", "2": "technical support"}),
    ("To hear your balance, press 2. If you are calling about a recent order, press 3.",
     {"2": "hear your balance", "3": "a recent order"}),
    ("press one for billing, two for sales, or three for support",
     {"1": "billing", "2": "sales", "3": "support"}),
    ("For billing press 1 for sales press 2 for support press 3",
     {"1": "billing", "2": "sales", "3": "support"}),
    ("Refills? Press 1. Store hours? Press 3.", {"1": "Refills", "3": "Store hours"}),
    ("Press 1 about an order you are expecting today, 2 about a past order, or 0 for "
     "customer care.", {"1": "an order you are expecting today", "2": "a past order",
                        "0": "customer care"}),
    ("Press one to track a package 2 to schedule a pickup or 3 for a damaged delivery.",
     {"1": "track a package", "2": "schedule a pickup", "3": "a damaged delivery"}),
    ("If you're calling about an existing claim press four. To file a new claim, dial five.",
     {"4": "an existing claim", "5": "file a new claim"}),
    ("Or press 0 for an operator.", {"0": "an operator"}),
    ("For the registrar, including transcripts, select 3.",
     {"3": "the registrar, including transcripts"}),
])
def test_options_whatever_the_phrasing(text, expected):
    assert options(text) == expected


def test_spoken_alternatives_and_agents():
    menu = parse_menu("You can say billing or press 1. To speak to a representative, say agent "
                      "or press 0.")
    assert {o.key: (o.label, o.kind) for o in menu.options} == {
        "1": ("billing", "option"), "0": ("speak to a representative", "agent")}
    assert menu.option("0").spoken == "agent"


def test_keys_a_navigator_must_not_pick_by_meaning():
    text = ("For English, press 1. Para español, oprima el dos. To hear these options again, "
            "press star. To return to the main menu, press 9. For all other questions, press 0.")
    assert kinds(text) == {"1": "language", "2": "language", "*": "repeat", "9": "back",
                           "0": "agent"}
    assert [o.key for o in parse_menu(text).choices] == ["1", "2", "0"]


def test_repeat_key_in_words():
    assert kinds("You can press nine at any time to repeat this menu.") == {"9": "repeat"}
    assert kinds("To hear this menu again, press the star key.") == {"*": "repeat"}


@pytest.mark.parametrize("text,field,digits,terminator", [
    ("Please enter your 10 digit account number followed by the pound key.",
     "account_number", 10, "#"),
    ("Please enter your ten digit account number, followed by the pound key.",
     "account_number", 10, "#"),
    ("Please enter the five digit zip code of the service address.", "zip_code", 5, ""),
    ("Now enter the ten digit phone number with the problem, followed by pound.",
     "phone_number", 10, "#"),
    ("Using your keypad, enter your date of birth as two digit month, day and year.",
     "date_of_birth", 2, ""),
])
def test_data_prompts(text, field, digits, terminator):
    data = parse_menu(text).data
    assert data is not None
    assert (data.field, data.digits, data.terminator) == (field, digits, terminator)


def test_an_option_about_a_pin_is_not_a_request_for_it():
    menu = parse_menu("To change your PIN, press 1. To enter a new address, press 2.")
    assert menu.data is None and menu.keys == ["1", "2"]


def test_data_prompt_with_an_escape_key():
    menu = parse_menu("Please enter your account number followed by pound. If you do not know "
                      "it, press star.")
    assert menu.data is not None and menu.data.field == "account_number"
    assert options(menu.text) == {"*": "do not know it"}


def test_invalid_entry_is_noticed():
    assert parse_menu("Sorry, that is not a valid option. Please try again.").invalid
    assert not parse_menu("For billing, press 1.").invalid


def test_a_greeting_has_no_options():
    menu = parse_menu("Thank you for calling Cascade Airlines. Please listen carefully, as our "
                      "options have changed.")
    assert menu.options == [] and menu.data is None


@pytest.mark.parametrize("heard,expected", [
    # what offline Whisper wrote for the simulator's Piper voice (bench_navigation, real SIP)
    ("Thank you for calling Cascade Airlines. Please listen carefully, as our options have "
     "changed to book a new flight. Press 1 to change where cancel an existing reservation. "
     "Press 2 for lost or delayed baggage. Press 3 for our frequent flyer program. Press 4.",
     {"1": "book a new flight", "2": "change where cancel an existing reservation",
      "3": "lost or delayed baggage", "4": "our frequent flyer program"}),
    ("I'm Clyde Insurance. If you're calling about an existing claim, press 1 to file a new "
     "claim. Press 2. For questions about your policy or coverage. Press 3. For a new quote, "
     "press 4.", {"1": "an existing claim", "2": "file a new claim",
                  "3": "questions about your policy or coverage", "4": "a new quote"}),
])
def test_periods_misplaced_by_speech_to_text(heard, expected):
    assert options(heard) == expected


def test_last_key_misheard_still_repairs_shifted_periods():
    heard = ("For billing, press 1 to report a water leak or a main brake. Press 2. For new "
             "service, press 3 to repeat this menu. Press DAR.")
    got = options(heard)
    assert (got["1"], got["2"], got["3"]) == ("billing", "report a water leak or a main brake",
                                              "new service")


def test_a_menu_without_keys_offers_phrases_to_say():
    menu = parse_menu("Sonic Cable. In a few words, tell me what you are calling about. You "
                      "can say billing, technical support, or new service.")
    assert [(o.label, o.spoken) for o in menu.options] == [
        ("billing", "billing"), ("technical support", "technical support"),
        ("new service", "new service")]
    assert all(o.key.startswith("say:") for o in menu.options)  # never pressed


@pytest.mark.parametrize("heard,expected", [
    # heard over SIP by Whisper: "for" on both sides of every key; the ends settle it
    ("Coastal car rental, press one for reservations, press two for roadside assistance, "
     "press three for questions about a rental you already return, such as charges or lost "
     "items.", {"1": "reservations", "2": "roadside assistance"}),
    # "two" heard as "to"
    ("Fresh grocer, press one about an order you're expecting today, to about a past order, "
     "three for your membership, or zero for customer care.",
     {"1": "an order you're expecting today", "2": "a past order", "3": "your membership",
      "0": "customer care"}),
])
def test_real_transcripts_of_keys_heard_oddly(heard, expected):
    got = options(heard)
    assert {k: got.get(k) for k in expected} == expected
