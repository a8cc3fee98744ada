"""The JSON body parser: DRF's, with every malformed body a 400.

DRF's ``JSONParser`` turns ``ValueError`` into ``ParseError`` but lets ``RecursionError``
through, so a body nested a few thousand levels deep (``[[[[…``) was a 500. Python's own
``json`` module does the parsing; only the error mapping is ours.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("JSON parse error - the body is nested too deeply.") from error
