"""A follow-up menu that reuses keys for new things is not "the same menu again"."""

from engine.ivr.menu_memory import same_menu
from engine.ivr.menu_parser import parse_menu

CARDS = ("Credit cards. To report a lost or stolen card, press 1. To dispute a charge, press 2. "
         "To activate a new card, press 3. To return to the main menu, press star.")


def test_follow_up_menu_with_fewer_keys_is_a_new_menu() -> None:
    follow_up = parse_menu("If your card was stolen, press 1. If it was lost, press 2.")
    assert not same_menu(parse_menu(CARDS), follow_up)


def test_the_start_of_the_same_menu_heard_again_is_a_repeat() -> None:
    again = parse_menu("Credit cards. To report a lost or stolen card, press 1. "
                       "To dispute a charge, press 2.")
    assert same_menu(parse_menu(CARDS), again)


def test_below_the_first_menu_its_topic_does_not_decide() -> None:
    from engine.ivr.navigator import MenuContext
    from engine.ivr.offline_navigator import OfflineNavigator

    nav = OfflineNavigator()
    follow_up = parse_menu("If your card was stolen, press 1. If it was lost, press 2.")
    ctx = MenuContext(follow_up, "I lost my credit card", "Acme Bank",
                      path=["credit cards", "report a lost or stolen card"])
    assert nav.decide(ctx).digits == "2"
