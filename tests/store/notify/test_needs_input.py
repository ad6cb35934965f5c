"""A menu asking for data we do not have is urgent: the user must type it before it times out."""

from engine.events import Event, EventType
from engine.notify.messages import message_for
from engine.notify.priority import Priority


def test_a_menu_needing_the_users_account_number_is_high_priority() -> None:
    ev = Event(EventType.IVR_STEP, "c1", {"needs_input": "account_number", "chosen": "",
                                         "reason": "type it now"})
    note = message_for(ev, {"company": "Acme Bank"})
    assert note is not None and note.priority is Priority.HIGH
    assert "account number" in note.title


def test_an_ordinary_menu_step_stays_low() -> None:
    ev = Event(EventType.IVR_STEP, "c1", {"chosen": "2", "transcript": "press 2 for cards"})
    note = message_for(ev, {"company": "Acme Bank"})
    assert note is not None and note.priority is Priority.LOW
