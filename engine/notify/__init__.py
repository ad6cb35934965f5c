"""Telling the user, wherever they are, that a person answered (and what else happened)."""

from engine.notify.messages import Notification, message_for
from engine.notify.priority import Priority
from engine.notify.service import Notifier
from engine.notify.settings import NotifySettings

__all__ = ["Notification", "Notifier", "NotifySettings", "Priority", "message_for"]
