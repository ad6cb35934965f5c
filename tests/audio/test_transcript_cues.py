import pytest

from engine.audio import transcript_cues
from engine.audio.transcript_cues import parse_queue, score


@pytest.mark.parametrize(
    "text",
    [
        "Thank you for calling Acme, this is Dana, how can I help you?",
        "Hi, my name is Sam. Can I have your account number?",
        "Good afternoon, you're speaking with Lena. What can I do for you?",
        "Are you there?",  # the rest of "Hello? Are you there?", as a partial hears it
        "Hello? Hi, sorry about the wait.",  # before the "How can I help?"
        "Hello? Yes, hi, sorry to keep you waiting.",
        "Hello, you're through to Tom in billing.",  # British
        "Hi there, my name's Kofi, I'll be helping you today.",
        "Customer care, Linda here.",
        "Hello? Hi, are you still there?",
    ],
)
def test_a_persons_opening_scores_human(text):
    cues = score(text)
    assert cues.human >= 2.0 and cues.recorded < cues.human


@pytest.mark.parametrize(
    "text",
    [
        "Your call is important to us. Please stay on the line.",
        "All of our representatives are currently busy.",
        "I'm sorry, that is not a valid option. Please try again.",
        "This is a recorded message. For billing, press 1.",
        "Thank you for calling First Bank. You are caller number 7.",
        "As you can see, this is all as you can see.",  # Whisper's invention on hold music
        "Are you still there? To return to the main menu, press star.",  # an IVR timing out
        "Your call is now first in line.",
        "One moment please.",
        "Connecting you now.",  # short, then quiet until the agent: never a person
        "Hello. We're sorry for the wait. All of our agents are still busy.",
        "Hi! Sorry for the wait. Your call is important to us.",
        "We apologize for the wait. Please stay on the line.",
        "Hello! For answers to common questions, Click here on our website.",
        "Hi there. Help is here when you need it.",
    ],
)
def test_recordings_never_score_as_a_person(text):
    cues = score(text)
    assert cues.human < 2.0 or cues.recorded >= cues.human


@pytest.mark.parametrize(
    "text",
    [
        "Hi! Did you know that you can check your balance 24 hours a day?",
        "Hello. You can also manage your policy in our mobile app.",
        "Good evening. Our office is closed on public holidays.",
        "Hello, thanks for waiting. A representative will answer shortly.",
        "Our hours of operation are Monday to Friday, nine to five.",
        "Good afternoon. We value your business, and you, our valued customer.",
        "on pole, that's one now. You will not lose your place in line.",  # 10% packet loss
        "Hi, you'll keep your spot in the queue.",
        # a queue announcement's tail, split off its head by a voice check, as Whisper wrote
        # it for "...approximately 18 minutes." (test-1800004 with 3-4.5 s of quiet after)
        "approximately 80 minutes.",
        "About two or three minutes.",
    ],
)
def test_a_friendly_announcement_still_reads_as_a_recording(text):
    """Self-service plugs, opening hours, "someone will answer": a greeting and none of the
    busy-line words. At the end of a hold one is followed by quiet until the agent speaks,
    which must not read as a person waiting for an answer (that needs no recording's cue)."""
    assert score(text).recorded >= 1.0


def test_queue_position_and_wait_in_words_or_digits():
    q = parse_queue(
        "You are caller number seven. The estimated wait time is approximately 15 minutes."
    )
    assert q == {"position": 7, "wait_minutes": 15}
    assert parse_queue("There are 3 calls ahead of you.")["position"] == 3
    assert parse_queue("You are next.")["position"] == 1


def test_callback_offer_with_its_key():
    q = parse_queue("To receive a call back instead of waiting on hold, press 1 now.")
    assert q["callback_offer"] is True and q["callback_key"] == "1"
    assert parse_queue("Thank you for your patience.") == {}
    # speech-to-text ends the offer's sentence before its key; "call you back" is one too
    q = parse_queue("To be called back when an agent is available without losing your place "
                    "in line. Press one or stay on the line.")
    assert q["callback_key"] == "1"
    assert parse_queue("To have us call you back instead of waiting, press 1.")[
        "callback_key"] == "1"
    # a key for something else in the next sentence is not the callback's
    assert "callback_key" not in parse_queue("We will call you back. Press 2 for billing.")


@pytest.mark.parametrize(("text", "words"), [
    ("", False), ("Thank you.", False), ("you", False), ("Thanks for watching!", False),
    ("Hmm.", False), ("He was not an ill disposed young man.", True), ("Hello? Anyone?", True),
    # a burst of hold music, then quiet, came back as "Mm-hmm." and was taken for a person
    # who spoke and waited (bench_concurrent, test-0004 at 40.9 s of 117.6)
    ("Mm-hmm.", False), ("Uh-huh.", False), ("Hi, um, Dana here.", True),
])
def test_whisper_filler_is_not_words(text: str, words: bool) -> None:
    assert transcript_cues.says_something(text) is words


@pytest.mark.parametrize(("text", "call_out"), [
    ("Hello?", True), ("Hello. Hello?", True), ("Yes, hello?", True), ("Hi there.", True),
    ("Hello? Anyone there?", True), ("", False), ("Thank you.", False), ("Yes.", False),
    ("Hello, and thank you for holding.", False), ("Hi, this is Dana.", False),
])
def test_a_bare_hello_is_a_call_into_the_line(text: str, call_out: bool) -> None:
    assert transcript_cues.calls_out(text) is call_out


@pytest.mark.parametrize("text", [
    "Hi, I'm Emma, Acme Bank's virtual assistant. How can I help you today?",
    "Hello, this is Max, your automated assistant. What can I do for you?",
    "Hi! I'm Sam, a digital assistant for Contoso. How may I help you?",
])
def test_a_bot_that_introduces_itself_like_a_person_is_a_recording(text: str) -> None:
    cues = score(text)
    assert cues.recorded > cues.human, cues


LINE = transcript_cues.line_names("Thank you for calling Acme Bank. For billing, press 1.")
SAMSUNG = LINE | {"samsung"}


@pytest.mark.parametrize(("text", "person"), [
    ("Good afternoon, you're speaking with", True),
    ("Hello? Are you there?", True),
    ("Good morning, this is Jordan", True),
    ("Hi there, my name is Alex.", True),
    ("Hello, Acme Bank, Kevin speaking.", True),
    ("Hello?", False),
    ("Hello and thank you for", False),
    ("Hi there! While you wait,", False),
    ("Good afternoon. Our offices will be", False),
    # "this is" must name someone: announcements go on "...a reminder", "...Acme Bank"
    ("Hello, this is", False),
    ("Hi, this is my.", False),
    ("Hello, this is a courtesy reminder", False),
    ("Hello, this is Acme", False),
    ("This is Acne Bank.", False),  # as Whisper may spell the company's name
    ("Hi, this is Ag-", False),  # a partial that cut the name off
    ("Hi, this is Ac", False),
    ("Hi, this is Agua.", False),  # ...or garbled it into a name no one has
])
def test_a_persons_opening_asks_or_names_the_speaker(text, person):
    assert transcript_cues.opens_like_a_person(text, LINE) is person


def test_the_line_names_itself_in_its_recordings() -> None:
    assert LINE == {"acme", "bank"}
    assert transcript_cues.line_names("Welcome to Globex Energy's billing line.") == {
        "globex", "energy", "billing"}  # fmt: skip
    assert transcript_cues.line_names("You've reached the offices of Initech.") == set()
    assert transcript_cues.line_names("Thank you for calling, this is Dana.") == set()


@pytest.mark.parametrize(("text", "person"), [
    ("Hello, this is Acme Bank, thank you for holding.", False),
    ("This is Acne. Our offices will be closed on Monday.", False),
    ("Good morning, this is Jordan with Acme Bank.", True),
    ("Hello, Acme Bank, Jordan speaking.", True),
    ("Hi, this is Agua.", False),  # Whisper's "Acme": a name no one has needs one more cue
    ("Hi, this is Agua. How can I help you?", True),
    ("Thanks for holding, this is Priya.", True),  # names from every locale
    ("Hi, this is Sam with Samsung.", True),  # only a cut-off word may be the line's start
])
def test_a_recording_that_introduces_the_company_is_no_person(text, person) -> None:
    cues = score(text, SAMSUNG)
    assert (cues.human >= 2.0 and cues.recorded < 1.5) is person, cues
