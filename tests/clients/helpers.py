"""Reading the client list's response."""

import re


def listed_numbers(response) -> list[int]:
    """The client numbers of the table's rows, in order."""
    return [int(n) for n in re.findall(rb'data-client="(\d+)"', response.content)]


def table_of(response):
    return response.context["table"]
