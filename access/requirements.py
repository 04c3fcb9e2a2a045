"""Who requires a person to use a second factor, asked without this app knowing them.

Apps above (tenancy: a tenant whose owner requires it) register a function that names, for a
person, what requires it of them; the second factor cannot be turned off while anything does."""

from collections.abc import Callable

_REQUIREMENTS: dict[str, Callable] = {}


def register_second_factor_requirement(name: str, reasons: Callable) -> None:
    """`reasons(user)` returns what requires a second factor of `user` (names shown to them),
    or nothing. A registration under the same name replaces the earlier one."""
    _REQUIREMENTS[name] = reasons


def second_factor_required_by(user) -> list[str]:
    found: list[str] = []
    for reasons in _REQUIREMENTS.values():
        found.extend(reasons(user))
    return found
