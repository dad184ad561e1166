"""Whether a phone number can exist in its country, by the `phonenumbers` data (a port of
Google's libphonenumber), not by a pattern of our own."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# phonenumbers is imported where it is used: it adds ~30 ms to every start otherwise.


# Validity is "the general pattern and some number type's pattern match" (the library's
# number type, not UNKNOWN); asking the common types first stops after one or two matches
# where the library tries up to ten.
_TYPES = ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "voip", "personal_number", "pager",
          "uan", "voicemail")


@cache
def _matcher() -> Any:
    """phonenumbers' private helper that matches a national number against a description
    (looked up once, not per number); None when this release lacks it."""
    try:
        from phonenumbers.phonenumberutil import _is_number_matching_desc
    except ImportError:  # a private helper; a release may rename it
        return None
    return _is_number_matching_desc


def _valid_in(national: str, metadata: Any) -> bool | None:
    """None when this version of phonenumbers lacks the helper: the library's own check decides."""
    matches = _matcher()
    if matches is None:
        return None
    if not matches(national, metadata.general_desc):
        return False
    return any(matches(national, getattr(metadata, kind)) for kind in _TYPES)


@cache
def is_valid(number: str) -> bool:
    """True when `number` (E.164 text, "+" and digits) is a valid number for its country.

    The same answer as phonenumbers.is_valid_number(phonenumbers.parse(number)) (a test
    compares them), at a fraction of the cost for a valid number: a plan of 10,000 workgroups
    checks every number. The country code is read off the E.164 digits, the country among
    those sharing the code is chosen as the library chooses it, and the number types are
    tried in the order above; a number found invalid that way is left to the library.
    """
    phonenumbers = _library()
    regions_by_code, metadata_for = phonenumbers.COUNTRY_CODE_TO_REGION_CODE, _metadata_for()
    digits = number[1:] if number.startswith("+") else number
    if not digits.isdigit():
        return False
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in regions_by_code:
            break
    else:
        return False
    national = digits[size:]
    if national and not national.startswith("0"):
        for region in regions_by_code[code]:
            metadata = metadata_for(code, region)
            if metadata is None:
                continue
            if metadata.leading_digits is not None:
                if re.match(metadata.leading_digits, national):
                    if _valid_in(national, metadata):  # the library settles on this country
                        return True
                    break
            else:
                valid = _valid_in(national, metadata)
                if valid is None:
                    break
                if valid:
                    return True
    # Not valid as written: the library's parse may still read it otherwise (leading zeros, a
    # national prefix it strips), so it decides. Real configurations rarely get here.
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(number, None)))
    except phonenumbers.NumberParseException:
        return False


@cache
def _library() -> Any:
    import phonenumbers

    return phonenumbers


@cache
def _metadata_for() -> Any:
    from phonenumbers import PhoneMetadata

    return PhoneMetadata.metadata_for_region_or_calling_code


def country_of(number: str) -> str:
    """The region code(s) its country calling code belongs to, for messages ("US", "GB")."""
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    digits = number.lstrip("+")
    for size in (1, 2, 3):
        regions = COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:size] or 0))
        if regions:
            return regions[0] if len(regions) == 1 else f"+{digits[:size]} ({', '.join(regions[:3])}, ...)"
    return "no country"
