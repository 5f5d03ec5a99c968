"""JSON log lines: one object per line, UTC timestamps, for log shippers and security review."""

import datetime as dt
import json
import logging
import re
import sys

# Attributes every LogRecord has; anything else was passed in ``extra=`` and goes into the line.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({key: value for key, value in vars(record).items() if key not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class StdoutHandler(logging.StreamHandler):
    """A stream handler writing to whatever ``sys.stdout`` is when a record is emitted.

    ``ext://sys.stdout`` in LOGGING binds the stream once, when logging is configured. Anything that
    swaps stdout afterwards (pytest's output capture, which closes its stream at the end of each
    test) leaves such a handler writing to a closed file, from any thread that logs later (the live
    test server's): "--- Logging error --- ValueError: I/O operation on closed file".
    """

    def __init__(self):
        super().__init__(stream=sys.stdout)

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value):  # StreamHandler.__init__ and setStream assign it; the property ignores them
        pass


# Paths whose last segment is a secret: password-reset, portal invitation and pulse links. The
# id before it stays (it helps to follow a problem), the token becomes "[redacted]". Django's
# own reset form swaps its token for "set-password", which is no secret.
_TOKEN_PATH = re.compile(
    r"(/(?:accounts/password/reset|portal/invitation|portal/pulse)/[^/\s?#'\"]+/)(?!set-password/)[^/\s?#'\"]+")


def redact_tokens(text: str) -> str:
    """``text`` with the token of any password-reset, invitation or pulse link replaced."""
    return _TOKEN_PATH.sub(r"\1[redacted]", text)


class RedactTokensFilter(logging.Filter):
    """Keep link tokens out of log lines: the message, and any extra field (a path, a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact_tokens(message)
        if clean != message:
            record.msg, record.args = clean, ()
        for key, value in list(vars(record).items()):
            if key in _STANDARD or value is None or isinstance(value, int | float | bool):
                continue
            text = value if isinstance(value, str) else str(value)
            clean = redact_tokens(text)
            if clean != text:
                setattr(record, key, clean)
        return True
