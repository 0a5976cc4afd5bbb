"""Accounts, their DIDs and keys, and the credentials issued to them."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from ledger.didkey import public_key_from_did, verification_method

from .errors import NoCustodialKey


def new_public_id() -> str:
    """Random identifier shown to users and put on the ledger (never the database key)."""
    return secrets.token_urlsafe(12)


class NotificationMode(models.TextChoices):
    IMMEDIATE = "immediate", _("one e-mail per event")
    DAILY_DIGEST = "daily_digest", _("one daily digest")
    NONE = "none", _("no e-mail")


class User(AbstractUser):
    """An account. Logs in with its e-mail address (django-allauth)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    notification_mode = models.CharField(
        _("e-mail notifications"),
        max_length=16,
        choices=NotificationMode.choices,
        default=NotificationMode.IMMEDIATE,
    )

    def __str__(self) -> str:
        return self.email or self.username

    def save(self, *args, **kwargs):
        # The post_save signal gives a new account its DID: an account that could not get
        # one must not be created.
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)

    @property
    def primary_identity(self) -> Identity | None:
        identities = [i for i in self.identities.all() if i.revoked_at is None]
        primary = [i for i in identities if i.is_primary]
        return (primary or identities or [None])[0]


class Custody(models.TextChoices):
    CUSTODIAL = "custodial", _("held by the platform, encrypted")
    SELF = "self", _("self-custody: the platform never sees the private key")


class Identity(models.Model):
    """One DID (`did:key`, Ed25519) of an account. An account may hold several.

    A custodial identity keeps its private key sealed with AES-256-GCM under the
    key-encryption key from the environment, the DID as associated data.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="identities"
    )
    did = models.CharField(max_length=200, unique=True)
    custody = models.CharField(max_length=16, choices=Custody.choices)
    label = models.CharField(_("label"), max_length=100, blank=True)
    is_primary = models.BooleanField(default=False)
    sealed_private_key = models.BinaryField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "identities"
        ordering = ["-is_primary", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(is_primary=True), name="one_primary_did"
            ),
            models.CheckConstraint(
                condition=models.Q(custody="custodial", sealed_private_key__isnull=False)
                | models.Q(custody="self", sealed_private_key__isnull=True),
                name="custodial_iff_sealed_key",
            ),
        ]

    def __str__(self) -> str:
        return self.did

    @property
    def public_key(self) -> bytes:
        return public_key_from_did(self.did)

    @property
    def verification_method(self) -> str:
        return verification_method(self.did)

    def private_key(self):
        """The decrypted private key of a custodial identity (kept in memory only)."""
        from .crypto import kek_from_setting, open_private_key, private_key_from_raw

        if self.custody != Custody.CUSTODIAL or self.sealed_private_key is None:
            raise NoCustodialKey()
        raw = open_private_key(
            bytes(self.sealed_private_key),
            kek=kek_from_setting(settings.SMARTB_KEY_ENCRYPTION_KEY),
            context=self.did.encode(),
        )
        return private_key_from_raw(raw)

    def sign(self, message: bytes) -> bytes:
        """Sign as this DID: the `ledger.signing.Signer` protocol, custodial identities only."""
        return self.private_key().sign(message)


class Credential(models.Model):
    """A W3C Verifiable Credential (eddsa-jcs-2022) issued on this platform.

    The document is kept whole so its holder can fetch it again; the ledger holds its digest.
    """

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    issuer = models.ForeignKey(Identity, on_delete=models.PROTECT, related_name="issued")
    subject_did = models.CharField(max_length=200, db_index=True)
    kind = models.CharField(max_length=100)
    document = models.JSONField()
    digest = models.CharField(max_length=64, unique=True)
    issued_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.public_id}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class Attestation(models.Model):
    """A document digest an identity attested, through a signed ledger transaction."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    identity = models.ForeignKey(Identity, on_delete=models.PROTECT, related_name="attestations")
    digest = models.CharField(max_length=64)
    entry = models.OneToOneField("ledger.Transaction", on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["identity", "digest"], name="attest_once"),
        ]

    def __str__(self) -> str:
        return f"{self.identity_id}:{self.digest[:12]}"


class Notification(models.Model):
    """An e-mail notice owed to an account, once per event (`key`, e.g.
    "vote-opened:<proposal public_id>"): a retried task finds the row and never sends twice.

    `digest_pending` rows wait for the daily digest; `sent_at` is set once the e-mail left.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    key = models.CharField(max_length=100)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    digest_pending = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notify_once_per_event"),
        ]
        indexes = [
            models.Index(
                fields=["user"], condition=models.Q(digest_pending=True), name="digest_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
