"""gunicorn settings shared by the compose file and the image: ``gunicorn -c config/gunicorn_conf.py``.

The access log's request line, path, query and Referer would otherwise carry the tokens of
password-reset, invitation and pulse links, and a logged link is a working one; the logger
below writes them redacted, like Django's own log lines (config.logging.RedactTokensFilter).
"""

from gunicorn import glogging

from config.logging import redact_tokens


class RedactingLogger(glogging.Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact_tokens(value) if isinstance(value, str) else value for key, value in atoms.items()}


logger_class = RedactingLogger
