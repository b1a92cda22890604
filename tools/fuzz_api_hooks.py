"""Schemathesis hooks for tools/fuzz_api.sh (loaded through SCHEMATHESIS_HOOKS=fuzz_api_hooks).

Check `refusals_match_the_contract`: negative_data_rejection catches a server that accepts what
the contract forbids; this catches the mirror image, a 400 naming a parameter whose value the
contract allows (`wait` a number from 0 to 10 in any JSON number form, `label` at most 100
scalars after NFC without control or format characters, `id` 32 lowercase hex digits). A
parameter given more than once is not judged (the contract asks for each at most once).

Upload bodies: random bytes almost never start with FF D8 FF, so without this nearly every
generated upload would stop at 415 and the fuzzer would never reach what happens to a photo
(label, store, queue, wait for the answer). Bodies are drawn from real JPEGs (made here with
Pillow: tiny, odd sizes, grayscale, progressive, with EXIF), JPEGs cut short or with garbage
after the marker (the extractor dead-letters them: `failed` answers), and non-JPEG bytes (415).
"""
import io
import json
import math
import re
import unicodedata
from urllib.parse import parse_qs, unquote, urlsplit

import schemathesis
from hypothesis import strategies as st
from PIL import Image


def _jpeg(size, mode="RGB", seed=0, **save) -> bytes:
    width, height = size
    channels = {"RGB": 3, "L": 1, "CMYK": 4}[mode]
    pixels = bytes((seed * 31 + i * 7 + (i // 97) * 13) % 256 for i in range(width * height * channels))
    out = io.BytesIO()
    Image.frombytes(mode, size, pixels).save(out, "JPEG", **save)
    return out.getvalue()


_exif = Image.Exif()
_exif[0x0112] = 6  # orientation: rotated
_exif[0x010F] = "fuzz \u2603 camera"

JPEGS = [
    _jpeg((1, 1)),
    _jpeg((8, 8), seed=1, quality=95),
    _jpeg((37, 23), seed=2, quality=10),
    _jpeg((64, 48), "L", seed=3),
    _jpeg((48, 64), seed=4, progressive=True),
    _jpeg((32, 32), "CMYK", seed=5),
    _jpeg((40, 30), seed=6, exif=_exif.tobytes()),
    _jpeg((320, 240), seed=7, quality=80),
]


@st.composite
def _cut_short(draw) -> bytes:
    photo = draw(st.sampled_from(JPEGS))
    return photo[: draw(st.integers(min_value=3, max_value=len(photo) - 1))]


_not_quite = st.binary(max_size=512).map(lambda tail: b"\xff\xd8\xff" + tail)
_not_jpeg = st.binary(max_size=256)

UPLOAD_BODIES = st.one_of(st.sampled_from(JPEGS), _cut_short(), _not_quite, _not_jpeg)

schemathesis.openapi.media_type("image/jpeg", UPLOAD_BODIES)
schemathesis.openapi.media_type("application/octet-stream", UPLOAD_BODIES)


_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_IMAGE_ID = re.compile(r"[0-9a-f]{32}")


def _wait_allowed(text: str) -> bool:
    if not _JSON_NUMBER.fullmatch(text):
        return False
    value = float(text)
    return math.isfinite(value) and 0 <= value <= 10


def _label_allowed(text: str) -> bool | None:
    """True/False per the contract; None when this Python's Unicode data cannot judge (an
    unassigned code point here may be assigned in the server's newer Unicode)."""
    label = unicodedata.normalize("NFC", text).strip()
    categories = {unicodedata.category(c) for c in label}
    if "Cn" in categories or "Cs" in categories:
        return None
    noncharacter = any(0xFDD0 <= ord(c) <= 0xFDEF or ord(c) & 0xFFFE == 0xFFFE for c in label)
    return (len(label) <= 100 and not categories & {"Cc", "Cf", "Zl", "Zp", "Co"}
            and "/" not in label and "\\" not in label and not noncharacter)


@schemathesis.hook
def filter_query(ctx, query):
    """JSON Schema's maxLength counts a label as sent; the contract counts it after NFC and
    trimming. The rare label on which the two disagree (over 100 scalars as sent, at most 100
    after) is left out: negative_data_rejection would misjudge the server for accepting it."""
    label = (query or {}).get("label")
    if isinstance(label, str) and len(label) > 100:
        return len(unicodedata.normalize("NFC", label).strip()) > 100
    return True


@schemathesis.check
def refusals_match_the_contract(ctx, response, case):
    """A 400 that names a parameter is for a value the contract refuses."""
    if response.status_code != 400:
        return None
    try:
        parameter = json.loads(response.content).get("parameter")
    except (ValueError, AttributeError):
        return None
    url = urlsplit(response.request.url)
    query = parse_qs(url.query, keep_blank_values=True)
    values = query.get(parameter, [])
    if parameter in ("wait", "label") and len(values) == 1:
        value = values[0]
        allowed = _wait_allowed(value) if parameter == "wait" else _label_allowed(value)
        if allowed:
            raise AssertionError(
                f"400 for {parameter}={value!r}, which the contract allows "
                f"({'a number from 0 to 10' if parameter == 'wait' else 'at most 100 scalars after NFC, no control, format, separator, private-use or path characters'}): "
                f"{response.content[:200]!r}")
    if parameter == "id" and url.path.startswith("/v1/images/"):
        value = unquote(url.path.removeprefix("/v1/images/"))
        if _IMAGE_ID.fullmatch(value):
            raise AssertionError(f"400 for the id {value!r}, which the contract allows (32 lowercase hex digits): {response.content[:200]!r}")
    return None
