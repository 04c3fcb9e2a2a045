"""makemessages that also extracts the stored messages (core/stored_text.py): the marker
functions are keywords to xgettext like their gettext namesakes, so a msgid written for an
event's description is in the catalogue although nothing translates it when it is written."""

from django.core.management.commands import makemessages

STORED_TEXT_KEYWORDS = [
    "--keyword=stored_gettext",
    "--keyword=stored_pgettext:1c,2",
    "--keyword=stored_ngettext:1,2",
]


class Command(makemessages.Command):
    xgettext_options = makemessages.Command.xgettext_options + STORED_TEXT_KEYWORDS
