"""Edit forms over a provider's own data: a value the operator did not change is never refused.

A provider's records hold values today's rules refuse (logins imported before E.164, e-mails of
another era, times with seconds the form does not show, router hosts or package rates typed
under older rules). Refusing them on a field nobody touched would make every save of such a
record fail, so on an edit form each field the operator left as the page showed it keeps its
stored value, unvalidated; a changed value is validated as usual, and the service then sees
(and records) exactly the fields that changed.

One piece for both kinds of edit form: a ModelForm bound to a stored row (the stored value is
the instance's), and a plain form the view fills from a stored row (`stored_fields`, whose
stored values are the form's initial values; the view passes them on POST too).
"""

from django.core.exceptions import ValidationError


class UnchangedValuesKeptMixin:
    """The fields left as rendered keep the stored value, and neither the form's nor the
    model's validation refuses them.

    `depends_on` names the fields read by another field (a login and an ITN by the country):
    such a field counts as changed when what it depends on changed, and is validated again.
    `stored_fields` (plain forms only) names the fields filled from the stored row; the form
    edits stored data when its initial values hold all of them."""

    depends_on: dict[str, tuple[str, ...]] = {}
    stored_fields: tuple[str, ...] = ()

    def _model_instance(self):
        """A ModelForm's instance (None on a plain form)."""
        instance = getattr(self, "instance", None)
        return instance if hasattr(instance, "_meta") else None

    def edits_stored_data(self) -> bool:
        instance = self._model_instance()
        if instance is not None:
            return instance.pk is not None
        return bool(self.stored_fields) and all(n in self.initial for n in self.stored_fields)

    def kept_field_names(self) -> set[str]:
        """The fields that hold a stored value: a ModelForm's model fields, else
        `stored_fields`."""
        instance = self._model_instance()
        if instance is not None:
            return {f.name for f in instance._meta.concrete_fields}
        return set(self.stored_fields)

    def fields_left_alone(self) -> list[str]:
        if not self.is_bound or not self.edits_stored_data():
            return []
        kept = self.kept_field_names()
        alone = [n for n in self.fields if n in kept and self._left_as_rendered(n)]
        return [n for n in alone if all(d in alone for d in self.depends_on.get(n, ()))]

    def stored_value(self, name: str):
        """The stored value of field `name`, as the form's cleaned data carries it."""
        instance = self._model_instance()
        if instance is not None:
            return getattr(instance, name)
        value = self.initial[name]
        try:  # a primary key becomes its object, a stored string stays as it is
            return self.fields[name].to_python(value)
        except ValidationError:
            return value

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
            self.cleaned_data[name] = self.stored_value(name)

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
