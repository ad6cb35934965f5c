"""SIP status codes in words a user understands, with the code kept for the curious."""

from __future__ import annotations

_CALL = {
    400: "the call was refused as malformed",
    401: "the provider wants authentication: check the SIP username and password",
    403: "the provider refused the call (forbidden)",
    404: "that number or address does not exist",
    407: "the proxy wants authentication: check the SIP username and password",
    408: "nobody answered in time (the host may be unreachable)",
    410: "that number is no longer in service",
    480: "temporarily unavailable",
    484: "the number is incomplete",
    486: "busy",
    487: "the call was cancelled",
    488: "the far end cannot handle our audio codecs",
    500: "the far end had an internal error",
    502: "the provider could not reach the destination (bad gateway)",
    503: "the destination or trunk is unreachable (service unavailable)",
    504: "the provider timed out reaching the destination",
    600: "busy everywhere",
    603: "the call was declined",
    604: "that number does not exist anywhere",
}


def describe_sip_status(code: int, reason: str, answered: bool) -> str:
    """Why a call ended. After an answer a 200 on BYE is just a normal hang-up."""
    if answered and code in (0, 200):
        return "the far end hung up"
    if answered and code == 487:
        return "hung up"
    text = _CALL.get(code)
    if text is None:
        text = reason or "call failed"
    return f"{text} ({code} {reason})" if code else text


def describe_reg_failure(code: int, reason: str, registrar: str) -> str:
    if code in (401, 407):
        return (f"registration to {registrar} failed: wrong username or password "
                f"({code} {reason})")
    if code == 403:
        return f"registration to {registrar} was refused for this account ({code} {reason})"
    if code in (408, 503, 502, 504):
        return f"registrar {registrar} did not answer or is unreachable ({code} {reason})"
    if 200 <= code < 300:
        return f"unregistered from {registrar}"
    return f"registration to {registrar} failed ({code} {reason})"


def describe_secure_failure(code: int, reason: str, *, tls: bool, srtp: str,
                            answered: bool) -> str | None:
    """Why a TLS or SRTP call failed, when that is the likely cause; else None.

    pjsip reports a failed TLS connection as a local 503 whose reason names the SSL error
    (or PJ_ETIMEDOUT when the handshake never completes), and a far end that insists on SRTP
    (or refuses it) answers 488 Not Acceptable Here."""
    if answered:
        return None
    low = reason.lower()
    if tls and ("certif" in low or "ecert" in low):
        return ("the far end's TLS certificate was not accepted: check [sip] tls_ca_file, "
                f"or set tls_verify_server = false ({code} {reason})")
    if tls and ("ssl" in low or "tls" in low or "handshake" in low):
        return f"the TLS connection to the far end failed ({code} {reason})"
    if tls and code in (408, 503) and "timed out" in low:
        return ("the TLS connection to the far end timed out: is it listening for TLS on "
                f"that port? ({code} {reason})")
    if code == 488 and srtp == "off":
        return ("the far end refused our audio: it requires encrypted audio (SRTP), so set "
                '[sip] srtp = "optional" or "mandatory", or it cannot handle our audio codecs '
                f"({code} {reason})")
    if code == 488 and srtp == "mandatory":
        return ("the far end refused our audio: it may not support encrypted audio (SRTP), "
                f'which [sip] srtp = "mandatory" requires; try "optional" ({code} {reason})')
    return None
