"""Email over SMTP: STARTTLS (587) or implicit TLS (465), with login, verified certificates
(a home server's own CA via ``ca_file``)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from engine.notify.channels.base import Channel, ChannelError, PermanentChannelError
from engine.notify.messages import Notification
from engine.notify.priority import Priority
from engine.notify.settings import EmailSettings


class EmailChannel(Channel):
    name = "email"
    settings: EmailSettings

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def send(self, notification: Notification, target: str) -> None:
        s = self.settings
        if not s.host or not s.to:
            raise PermanentChannelError("email host and recipients are needed")
        msg = EmailMessage()
        msg["Subject"] = f"[Hold Slayer] {notification.title}"
        msg["From"] = s.sender
        msg["To"] = ", ".join(s.to)
        msg["X-HoldSlayer-Priority"] = notification.priority.name
        if notification.priority >= Priority.HIGH:
            msg["Importance"] = "high"
        lines = [notification.body, ""]
        if notification.company or notification.number:
            lines.append(f"Company: {notification.company} {notification.number}".rstrip())
        lines.append(f"Call: {notification.call_id}")
        msg.set_content("\n".join(lines) + "\n")
        try:
            if s.ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout_s, context=self._tls()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
            with smtp:
                smtp.ehlo()
                if s.starttls and not s.ssl:
                    smtp.starttls(context=self._tls())
                    smtp.ehlo()
                if s.username and s.password is not None:
                    smtp.login(s.username, s.password.get_secret_value())
                smtp.send_message(msg)
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPRecipientsRefused,
                smtplib.SMTPSenderRefused, ssl.SSLCertVerificationError) as exc:
            raise PermanentChannelError(f"smtp refused: {type(exc).__name__}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"smtp failed: {type(exc).__name__}: {exc}"[:200]) from None
