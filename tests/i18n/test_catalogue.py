"""The Russian catalogues are complete and what the code marks, and their translations are sound.

(a) scripts/messages.sh changes nothing: it runs on a copy of the checkout (the tracked files and
the untracked ones git does not ignore, so that a developer's new file counts) and its .po files
must be the committed ones (but for their dates), and the committed .mo files what those .po
files compile to. (b) msgfmt counts no untranslated and no fuzzy entry. (c) Every plural entry
has Russian's three forms, in the right order (1, 2, 5, 11, 21 -> forms 0, 1, 2, 2, 0), and each
translation carries the placeholders and the markup of its English.

GNU gettext (msgfmt, msgmerge, xgettext) is needed: scripts/services.sh installs it.
"""

import gettext
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

from tests.helpers import RUSSIAN_PLURAL_FORMS

ROOT = Path(settings.BASE_DIR)
MESSAGES = Path("locale/ru/LC_MESSAGES")
DOMAINS = ("django", "djangojs")
RUSSIAN_PLURALS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
    "(n%100<10 || n%100>=20) ? 1 : 2);"
)
DATES = ("POT-Creation-Date", "PO-Revision-Date")
RUN = "run scripts/messages.sh, translate what it adds and commit locale/ru/"

# %(name)s, %s, %d, %.2f ... (not %%); {name}, {0}, {} (not {{ }}).
PERCENT = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]")
BRACE = re.compile(r"(?<!\{)\{(\w*)(?:[!:][^{}]*)?\}(?!\})")
TAG = re.compile(r"</?([A-Za-z][\w-]*)")


def catalogue(domain: str, root: Path = ROOT) -> Path:
    return root / MESSAGES / f"{domain}.po"


def entries(po: polib.POFile) -> dict:
    return {(e.msgctxt, e.msgid, e.msgid_plural): e for e in po if not e.obsolete}


def msgid_text(key) -> str:
    context, msgid, plural = key
    return (f"[{context}] " if context else "") + repr(msgid) + (f" / {plural!r}" if plural else "")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    """A copy of the checkout after scripts/messages.sh (about five seconds)."""
    copy = tmp_path_factory.mktemp("checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if not source.is_file() or source.is_symlink():
            continue  # a file deleted but not yet staged; .venv and other links
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, copy / name)
    (copy / ".venv").symlink_to((ROOT / ".venv").resolve())
    done = subprocess.run(
        ["bash", "scripts/messages.sh"], cwd=copy, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"scripts/messages.sh failed:\n{done.stdout}\n{done.stderr}"
    return copy


def without_dates(path: Path) -> str:
    return "".join(
        line
        for line in path.read_text().splitlines(keepends=True)
        if not line.startswith(tuple(f'"{d}:' for d in DATES))
    )


@pytest.mark.parametrize("domain", DOMAINS)
def test_makemessages_leaves_the_catalogue_unchanged(domain, regenerated):
    committed, fresh = catalogue(domain), catalogue(domain, regenerated)
    if without_dates(committed) == without_dates(fresh):
        return
    old, new = entries(polib.pofile(str(committed))), entries(polib.pofile(str(fresh)))
    missing = [msgid_text(k) for k in new if k not in old]
    stale = [msgid_text(k) for k in old if k not in new]
    changed = [msgid_text(k) for k in new if k in old and str(new[k]) != str(old[k])]
    pytest.fail(
        f"{committed.relative_to(ROOT)} is not what the code marks: {RUN}.\n"
        f"Missing ({len(missing)}): {missing[:30]}\n"
        f"Stale ({len(stale)}): {stale[:30]}\n"
        f"Changed by msgmerge (fuzzy, flags, header) ({len(changed)}): {changed[:30]}",
        pytrace=False,
    )


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_committed_mo_is_what_the_po_compiles_to(domain, tmp_path):
    po = catalogue(domain)
    compiled = tmp_path / f"{domain}.mo"
    done = subprocess.run(
        ["msgfmt", "--check-format", "-o", compiled, po], capture_output=True, text=True
    )
    assert done.returncode == 0, f"{po.relative_to(ROOT)} does not compile:\n{done.stderr}"
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo.relative_to(ROOT)} is missing: {RUN}"
    assert mo.read_bytes() == compiled.read_bytes(), f"{mo.relative_to(ROOT)} is stale: {RUN}"


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_entry_is_translated_and_none_is_fuzzy(domain):
    po = catalogue(domain)
    done = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", po],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    statistics = done.stderr.strip()
    untranslated = re.search(r"(\d+) untranslated", statistics)
    fuzzy = re.search(r"(\d+) fuzzy", statistics)
    parsed = polib.pofile(str(po))
    names = [
        msgid_text((e.msgctxt, e.msgid, e.msgid_plural)) for e in parsed.untranslated_entries()
    ]
    names += [msgid_text((e.msgctxt, e.msgid, e.msgid_plural)) for e in parsed.fuzzy_entries()]
    assert not untranslated and not fuzzy, f"{statistics}: {names[:30]}"


@pytest.mark.parametrize("domain", DOMAINS)
def test_plural_entries_have_the_three_russian_forms_in_order(domain):
    po = polib.pofile(str(catalogue(domain)))
    assert po.metadata.get("Plural-Forms", "").replace(" ", "") == RUSSIAN_PLURALS.replace(" ", "")
    if domain == "django":  # Django's own machinery, with its own catalogues merged in
        ngettext, npgettext = translation.ngettext, translation.npgettext
    else:  # the JavaScript catalog's formula is the header's
        with catalogue(domain).with_suffix(".mo").open("rb") as mo:
            compiled = gettext.GNUTranslations(mo)
        ngettext, npgettext = compiled.ngettext, compiled.npgettext
    wrong = []
    with translation.override("ru"):
        for entry in po:
            if not entry.msgid_plural or entry.obsolete or "fuzzy" in entry.flags:
                continue
            forms = [entry.msgstr_plural.get(i, "") for i in range(3)]
            if len(entry.msgstr_plural) != 3 or not all(forms):
                wrong.append(f"{entry.msgid!r}: {len(entry.msgstr_plural)} forms {forms}")
                continue
            for n, form in RUSSIAN_PLURAL_FORMS:
                if entry.msgctxt:
                    chosen = npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                else:
                    chosen = ngettext(entry.msgid, entry.msgid_plural, n)
                if chosen != forms[form]:
                    wrong.append(f"{entry.msgid!r} at {n}: {chosen!r}, not form {form}")
    assert wrong == [], "\n".join(wrong[:30])


def placeholders(text: str, brace: bool) -> Counter:
    """Named placeholders once each (a translation may repeat one), positional ones counted."""
    found = Counter()
    for match in PERCENT.finditer(text):
        name, kind = match.group(1), match.group(0)[-1]
        if name:
            found[f"%({name}){kind}"] = 1
        else:
            found[f"%{kind}"] += 1
    if brace:
        for name in BRACE.findall(text):
            if name and not name.isdigit():
                found["{" + name + "}"] = 1
            else:
                found["{" + name + "}"] += 1
    return found


def tags(text: str) -> Counter:
    return Counter(name.lower() for name in TAG.findall(text))


@pytest.mark.parametrize("domain", DOMAINS)
def test_translations_keep_the_placeholders_and_markup_of_their_english(domain):
    wrong = []
    for entry in polib.pofile(str(catalogue(domain))):
        if entry.obsolete or not entry.translated():
            continue
        brace = "python-brace-format" in entry.flags
        percent = bool({"python-format", "javascript-format"} & set(entry.flags))
        if entry.msgid_plural:
            # Form 0 also serves 21, 31...: every form says what either English form says
            # ("One client" / "%(count)s clients": every Russian form has the count).
            russian = [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)]
            expected = placeholders(entry.msgid, brace) | placeholders(entry.msgid_plural, brace)
        else:
            english, russian = entry.msgid, [entry.msgstr]
            expected = placeholders(english, brace)
        if not (percent or brace):
            expected = Counter()
        for text in russian:
            have = placeholders(text, brace) if percent or brace else Counter()
            if have != expected:
                wrong.append(f"{entry.msgid!r} -> {text!r}: placeholders {dict(have)}")
            if tags(text) != tags(entry.msgid_plural or entry.msgid):
                wrong.append(f"{entry.msgid!r} -> {text!r}: markup differs")
    assert wrong == [], "\n".join(wrong[:30])
