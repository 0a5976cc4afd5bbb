"""The form municipality staff use to start witnessing a log."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ledger.models import Chain


class WitnessAddForm(forms.Form):
    """Either a chain of this deployment, or a chain of another SMART B deployment (its
    address, slug, checkpoint origin and validator DIDs)."""

    chain = forms.ChoiceField(label=_("A chain of this deployment"), required=False)
    base_url = forms.URLField(
        label=_("Or: address of another SMART B deployment"),
        required=False,
        max_length=300,
        assume_scheme="https",
    )
    log_slug = forms.SlugField(label=_("Its chain (slug)"), required=False, max_length=64)
    origin = forms.CharField(label=_("Its checkpoint origin line"), required=False, max_length=255)
    log_keys = forms.CharField(
        label=_("Validator DIDs of the log, one per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Left empty for a chain of this deployment: its validators are pinned."),
    )
    quorum = forms.IntegerField(label=_("Signatures required"), min_value=1, initial=1)

    def __init__(self, *args, city, **kwargs):
        super().__init__(*args, **kwargs)
        slugs = Chain.objects.exclude(pk=city.chain_id).order_by("slug")
        self.fields["chain"].choices = [("", "—")] + [(c.slug, c.slug) for c in slugs]

    def clean(self):
        data = super().clean()
        if not data.get("chain") and not data.get("base_url"):
            raise forms.ValidationError(_("Choose a chain, or give another deployment's address."))
        if data.get("chain") and data.get("base_url"):
            raise forms.ValidationError(_("Choose a chain or another deployment, not both."))
        data["log_keys"] = [line.strip() for line in (data.get("log_keys") or "").splitlines()]
        data["log_keys"] = [key for key in data["log_keys"] if key]
        return data
