"""JSON log lines: one object per line, UTC timestamps, for log shippers and security review."""

import datetime as dt
import json
import logging
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
