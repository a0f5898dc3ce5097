"""Exceptions: one class per error code cscd sends in an `error` frame, plus
CscdUnavailable (the socket cannot be reached) and ProtocolError (the reply
was not what the protocol says)."""


class CscdError(Exception):
    """An `error` frame from cscd: code, message, and the JSON path when the
    problem is in the contract."""

    code = None

    def __init__(self, message, code=None, path=None):
        super().__init__("%s: %s%s" % (code or self.code, message, " (at %s)" % path if path else ""))
        self.code = code or self.code
        self.message = message
        self.path = path


class BadFrame(CscdError):
    code = "bad_frame"


class TooLarge(CscdError):
    code = "too_large"


class BadJson(CscdError):
    code = "bad_json"


class InvalidContract(CscdError):
    code = "invalid_contract"


class InvalidApproval(CscdError):
    code = "invalid_approval"


class Unauthorized(CscdError):
    code = "unauthorized"


class Busy(CscdError):
    code = "busy"


class Internal(CscdError):
    code = "internal"


_BY_CODE = {cls.code: cls for cls in (BadFrame, TooLarge, BadJson, InvalidContract, InvalidApproval,
                                      Unauthorized, Busy, Internal)}


def error_for(frame):
    """The exception for an `error` frame (CscdError for a code this version does not know)."""
    cls = _BY_CODE.get(frame.get("code"), CscdError)
    return cls(frame.get("message", ""), code=frame.get("code"), path=frame.get("path"))


class CscdUnavailable(OSError):
    """cscd's socket cannot be reached, or the connection ended early."""


class ProtocolError(Exception):
    """cscd answered something the protocol does not allow (a bug on one side)."""
