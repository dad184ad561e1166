"""Whether a phone number can exist in its country, by the `phonenumbers` data (a port of
Google's libphonenumber), not by a pattern of our own."""

from __future__ import annotations

from functools import cache

# phonenumbers is imported where it is used: it adds ~30 ms to every start otherwise.


@cache
def is_valid(number: str) -> bool:
    """True when `number` (E.164 text, "+" and digits) is a valid number for its country.

    Same answer as phonenumbers.is_valid_number(phonenumbers.parse(number)), at a third of the
    cost (a plan of 10,000 workgroups checks every number): the country code is read off the
    E.164 digits directly, and a code shared by several countries (+1) tries its main one first.
    """
    import phonenumbers
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneNumber

    digits = number[1:] if number.startswith("+") else number
    if not digits.isdigit():
        return False
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return False
    national = digits[size:]
    if not national or national.startswith("0"):  # leading zeros: let the library parse it
        try:
            return bool(phonenumbers.is_valid_number(phonenumbers.parse(number, None)))
        except phonenumbers.NumberParseException:
            return False
    parsed = PhoneNumber(country_code=code, national_number=int(national))
    regions = COUNTRY_CODE_TO_REGION_CODE[code]
    if phonenumbers.is_valid_number_for_region(parsed, regions[0]):
        return True
    return len(regions) > 1 and bool(phonenumbers.is_valid_number(parsed))


def country_of(number: str) -> str:
    """The region code(s) its country calling code belongs to, for messages ("US", "GB")."""
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    digits = number.lstrip("+")
    for size in (1, 2, 3):
        regions = COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:size] or 0))
        if regions:
            return regions[0] if len(regions) == 1 else f"+{digits[:size]} ({', '.join(regions[:3])}, ...)"
    return "no country"
