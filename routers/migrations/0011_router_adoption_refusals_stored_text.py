"""An adoption's refused secrets keep why as a message (core/stored_text.py), read in each
reader's language. A reason written before is the sentence the adoption wrote in the language
of the operator who started it: forwards, a sentence that reads as one of the refusals below
in that language becomes the message with its parameters (the login, the client's number, the
key matched), so that it follows the reader too; any other sentence stays as it was, shown as
is. Backwards, each message is written out in the adoption's language again."""

import re

from django.conf import settings
from django.db import migrations
from django.utils import translation

from core.stored_text import StoredText

# The refusals as the adoption wrote them before they were stored as messages.
REFUSALS = (
    'Its service is %(service)s, not PPPoE.',
    '“%(name)s” is already the PPPoE account of client #%(number)s on %(router)s.',
    'Its name is longer than 64 characters.',
    'Its name cannot be kept: %(error)s',
    'Its profile is longer than 64 characters.',
    'Its profile cannot be kept: %(error)s',
    'Its %(key)s matches several clients (%(numbers)s).',
    'Client #%(number)s already has the PPPoE account “%(username)s”.',
    'Client #%(number)s is taken by the secret “%(secret)s”.',
    'No client could be made: %(error)s',
    'A PPPoE account was saved for its client or name meanwhile: review it again.',
)
MATCHED_BY_CONTEXT = 'adoption matched by'
MATCHED_BY = ('username', 'login', 'comment')
PLACEHOLDER = re.compile(r'%\((\w+)\)s')


def sentence_pattern(template: str) -> re.Pattern:
    """A translated refusal as a pattern whose groups are its parameters."""
    parts, last = [], 0
    for match in PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[last : match.start()]))
        parts.append(f'(?P<{match.group(1)}>.+?)')
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile(''.join(parts), re.DOTALL)


def recovered_param(name: str, value: str, language: str):
    """A parameter read back from its sentence: a client's number as a number, the key a
    secret matched by as its label's message; anything else as the words it was."""
    if name == 'number' and value.isdigit():
        return int(value)
    if name == 'key':
        with translation.override(language):
            for label in MATCHED_BY:
                if translation.pgettext(MATCHED_BY_CONTEXT, label) == value:
                    return {'msgid': label, 'context': MATCHED_BY_CONTEXT}
    return value


def message_of_sentence(sentence: str, language: str):
    """The stored form of a refusal written in `language`, or the sentence itself."""
    for msgid in REFUSALS:
        with translation.override(language):
            template = translation.gettext(msgid)
        match = sentence_pattern(template).fullmatch(sentence)
        if match is None:
            continue
        params = {
            name: recovered_param(name, value, language)
            for name, value in match.groupdict().items()
        }
        return {'msgid': msgid, 'params': params} if params else {'msgid': msgid}
    return sentence


def convert(apps, convert_reason):
    adoption_model = apps.get_model('routers', 'RouterAdoption')
    for job in adoption_model.objects.exclude(refused=[]).iterator(chunk_size=500):
        language = job.language or settings.LANGUAGE_CODE
        refused = [[name, convert_reason(reason, language)] for name, reason in job.refused]
        if refused != job.refused:
            adoption_model.objects.filter(pk=job.pk).update(refused=refused)


def forwards(apps, schema_editor):
    convert(
        apps,
        lambda reason, language: (
            message_of_sentence(reason, language) if isinstance(reason, str) else reason
        ),
    )


def backwards(apps, schema_editor):
    def sentence(reason, language):
        if isinstance(reason, str):
            return reason
        with translation.override(language):
            return StoredText.from_json(reason).render()

    convert(apps, sentence)


class Migration(migrations.Migration):
    dependencies = [
        ('routers', '0010_pppoe_account_sync_error_stored_text'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
