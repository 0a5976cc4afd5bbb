"""Every account gets a DID when it is created, whatever creates it (sign-up, admin, seed)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import User


@receiver(post_save, sender=User, dispatch_uid="identity_did_on_create")
def give_new_account_a_did(sender, instance: User, created: bool, raw: bool = False, **kwargs):
    if created and not raw:
        from .services import identity_create_custodial

        identity_create_custodial(user=instance, primary=True)
