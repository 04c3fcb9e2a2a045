"""The API's field errors in the reader's language, in the words the portal's forms use.

The API validates its bodies and query strings with pydantic, whose messages are English only
("Input should be a valid integer"). A field error's pydantic `type` and `ctx` say what was
wrong; this module says it again with Django's form messages ("Enter a whole number.", "Ensure
this value has at most 100 characters (it has 120).") so that an integrator reads, in Russian or
English, what an operator reads next to the same field in the portal.
"""

from collections.abc import Callable

from django.utils.translation import gettext, ngettext


def _length(value) -> int:
    return len(value) if isinstance(value, str | list | tuple | dict) else 0


def _too_long(error: dict) -> str:
    limit = int(error.get("ctx", {}).get("max_length", 0))
    shown = _length(error.get("input"))
    if isinstance(error.get("input"), str):
        return ngettext(
            "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
            "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
            limit,
        ) % {"limit_value": limit, "show_value": shown}
    return ngettext(
        "Ensure this list has at most %(limit_value)d item (it has %(show_value)d).",
        "Ensure this list has at most %(limit_value)d items (it has %(show_value)d).",
        limit,
    ) % {"limit_value": limit, "show_value": shown}


def _too_short(error: dict) -> str:
    limit = int(error.get("ctx", {}).get("min_length", 0))
    shown = _length(error.get("input"))
    if isinstance(error.get("input"), str):
        return ngettext(
            "Ensure this value has at least %(limit_value)d character (it has %(show_value)d).",
            "Ensure this value has at least %(limit_value)d characters (it has %(show_value)d).",
            limit,
        ) % {"limit_value": limit, "show_value": shown}
    return ngettext(
        "Ensure this list has at least %(limit_value)d item (it has %(show_value)d).",
        "Ensure this list has at least %(limit_value)d items (it has %(show_value)d).",
        limit,
    ) % {"limit_value": limit, "show_value": shown}


def _limit(key: str, text: Callable[[], str]) -> Callable[[dict], str]:
    return lambda error: text() % {"limit_value": error.get("ctx", {}).get(key, "")}


def _digits(key: str, singular: str, plural: str) -> Callable[[dict], str]:
    def message(error: dict) -> str:
        count = int(error.get("ctx", {}).get(key, 0))
        return ngettext(singular, plural, count) % {"max": count}

    return message


def _choice(error: dict) -> str:
    return gettext("Select a valid choice. %(value)s is not one of the available choices.") % {
        "value": str(error.get("input", ""))[:100]
    }


def _own_words(error: dict) -> str:
    """A validator of ours raised it with a message already in the reader's language."""
    inner = error.get("ctx", {}).get("error")
    return str(inner) if inner is not None else gettext("Enter a valid value.")


def _fixed(text: Callable[[], str]) -> Callable[[dict], str]:
    return lambda error: text()


_REQUIRED = _fixed(lambda: gettext("This field is required."))
_WHOLE_NUMBER = _fixed(lambda: gettext("Enter a whole number."))
_NUMBER = _fixed(lambda: gettext("Enter a number."))
_TEXT = _fixed(lambda: gettext("Enter text."))
_DATE = _fixed(lambda: gettext("Enter a valid date."))
_DATETIME = _fixed(lambda: gettext("Enter a valid date/time."))
_LIST = _fixed(lambda: gettext("Enter a list of values."))
_OBJECT = _fixed(lambda: gettext("Enter an object of named values."))
_BOOLEAN = _fixed(lambda: gettext("Enter true or false."))

MESSAGES: dict[str, Callable[[dict], str]] = {
    "missing": _REQUIRED,
    "missing_argument": _REQUIRED,
    "missing_keyword_only_argument": _REQUIRED,
    "none_required": _fixed(lambda: gettext("Leave this field out.")),
    "extra_forbidden": _fixed(lambda: gettext("This field is not known here.")),
    "unexpected_keyword_argument": _fixed(lambda: gettext("This field is not known here.")),
    "json_invalid": _fixed(lambda: gettext("Enter a valid JSON.")),
    "json_type": _fixed(lambda: gettext("Enter a valid JSON.")),
    "int_type": _WHOLE_NUMBER,
    "int_parsing": _WHOLE_NUMBER,
    "int_parsing_size": _WHOLE_NUMBER,
    "int_from_float": _WHOLE_NUMBER,
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "decimal_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "finite_number": _fixed(lambda: gettext("Enter a finite number.")),
    "greater_than": _limit(
        "gt", lambda: gettext("Ensure this value is greater than %(limit_value)s.")
    ),
    "greater_than_equal": _limit(
        "ge", lambda: gettext("Ensure this value is greater than or equal to %(limit_value)s.")
    ),
    "less_than": _limit("lt", lambda: gettext("Ensure this value is less than %(limit_value)s.")),
    "less_than_equal": _limit(
        "le", lambda: gettext("Ensure this value is less than or equal to %(limit_value)s.")
    ),
    "multiple_of": _limit(
        "multiple_of",
        lambda: gettext("Ensure this value is a multiple of step size %(limit_value)s."),
    ),
    "decimal_max_digits": _digits(
        "max_digits",
        "Ensure that there are no more than %(max)s digit in total.",
        "Ensure that there are no more than %(max)s digits in total.",
    ),
    "decimal_max_places": _digits(
        "decimal_places",
        "Ensure that there are no more than %(max)s decimal place.",
        "Ensure that there are no more than %(max)s decimal places.",
    ),
    "decimal_whole_digits": _digits(
        "whole_digits",
        "Ensure that there are no more than %(max)s digit before the decimal point.",
        "Ensure that there are no more than %(max)s digits before the decimal point.",
    ),
    "string_type": _TEXT,
    "string_unicode": _TEXT,
    "string_too_long": _too_long,
    "too_long": _too_long,
    "string_too_short": _too_short,
    "too_short": _too_short,
    "string_pattern_mismatch": _fixed(lambda: gettext("Enter a valid value.")),
    "bool_type": _BOOLEAN,
    "bool_parsing": _BOOLEAN,
    "enum": _choice,
    "literal_error": _choice,
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "datetime_object_invalid": _DATETIME,
    "time_type": _fixed(lambda: gettext("Enter a valid time.")),
    "time_parsing": _fixed(lambda: gettext("Enter a valid time.")),
    "list_type": _LIST,
    "tuple_type": _LIST,
    "set_type": _LIST,
    "iterable_type": _LIST,
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "dataclass_type": _OBJECT,
    "url_type": _fixed(lambda: gettext("Enter a valid URL.")),
    "url_parsing": _fixed(lambda: gettext("Enter a valid URL.")),
    "url_syntax_violation": _fixed(lambda: gettext("Enter a valid URL.")),
    "url_scheme": _fixed(lambda: gettext("Enter a valid URL.")),
    "url_too_long": _too_long,
    "uuid_type": _fixed(lambda: gettext("Enter a valid UUID.")),
    "uuid_parsing": _fixed(lambda: gettext("Enter a valid UUID.")),
    "uuid_version": _fixed(lambda: gettext("Enter a valid UUID.")),
    "value_error": _own_words,
    "assertion_error": _own_words,
}


def field_error_message(error: dict) -> str:
    """The message of one pydantic error, in the active language; a kind of error this module
    does not know still gets a message in that language, never pydantic's English."""
    message = MESSAGES.get(error.get("type", ""))
    return message(error) if message else gettext("Enter a valid value.")
