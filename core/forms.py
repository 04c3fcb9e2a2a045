"""Edit forms over a provider's own data: a value the operator did not change is never refused.

A provider's records hold values today's rules refuse (logins imported before E.164, e-mails of
another era, times with seconds the form does not show). Refusing them on a field nobody touched
would make every save of such a record fail, so on an edit form each field the operator left as
the page showed it keeps its stored value, unvalidated; a changed value is validated as usual,
and the service then sees (and records) exactly the fields that changed.
"""


class UnchangedValuesKeptMixin:
    """For a ModelForm editing a stored row (`instance.pk`): the fields left as rendered keep
    the stored value, and neither the form's nor the model's validation refuses them.

    `depends_on` names the fields read by another field (a login and an ITN by the country):
    such a field counts as changed when what it depends on changed, and is validated again."""

    depends_on: dict[str, tuple[str, ...]] = {}

    def fields_left_alone(self) -> list[str]:
        if not self.is_bound or getattr(self.instance, "pk", None) is None:
            return []
        model_fields = {f.name for f in self.instance._meta.concrete_fields}
        alone = [n for n in self.fields if n in model_fields and self._left_as_rendered(n)]
        return [n for n in alone if all(d in alone for d in self.depends_on.get(n, ()))]

    def _left_as_rendered(self, name: str) -> bool:
        """Unchanged as Django compares values, or submitted exactly as the page showed it (a
        time shown to the minute, a login shown as imported)."""
        if name not in self.changed_data:
            return True
        field = self.fields[name]
        bound = self[name]
        shown = field.widget.format_value(field.prepare_value(bound.initial))
        submitted = field.widget.value_from_datadict(self.data, self.files, bound.html_name)
        return isinstance(shown, str) and isinstance(submitted, str) and shown == submitted

    def _keep_stored_values(self) -> None:
        for name in self.fields_left_alone():
            self._errors.pop(name, None)
            self.cleaned_data[name] = getattr(self.instance, name)

    def _clean_fields(self):
        super()._clean_fields()
        self._keep_stored_values()

    def _clean_form(self):
        super()._clean_form()
        self._keep_stored_values()  # clean() may have normalised or refused them

    def _get_validation_exclusions(self):
        exclusions = super()._get_validation_exclusions()
        exclusions.update(self.fields_left_alone())
        return exclusions
