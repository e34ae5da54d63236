"""Request body parsers of the API."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """Parse JSON like DRF's parser, and reject nesting too deep for Python's decoder.

    The standard library raises RecursionError on arrays or objects nested some
    thousands of levels deep, which would otherwise reach the client as a server error.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
