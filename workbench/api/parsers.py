"""The API's JSON parser: DRF's rules, and a 400 for two bodies that would otherwise be a 500.

* nesting deeper than the decoder's recursion limit (``RecursionError`` is not a ``ValueError``);
* an unpaired UTF-16 surrogate written as ``\\ud800``: valid JSON text, but no database
  driver can encode the resulting string, so it would fail only when saved.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant


class SafeJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
            data = json.loads(text, parse_constant=strict_constant if self.strict else None)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        # Only an escape can smuggle a surrogate in (raw UTF-8 cannot encode one), so the full
        # check runs only for bodies that contain such an escape.
        if "\\ud" in text.lower():
            try:
                json.dumps(data, ensure_ascii=False).encode("utf-8")
            except (UnicodeEncodeError, RecursionError):
                raise ParseError("JSON parse error - unpaired surrogate in a string.") from None
        return data
