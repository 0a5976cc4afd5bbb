"""Factories that build the world of a test: accounts and ledger chains.

Every `User` created gets a custodial DID through a post_save signal (see `identity.signals`),
so `UserFactory()` also registers a ledger actor and appends its `identity.did.register`
transaction to the network chain.
"""

from __future__ import annotations

import factory

from identity.models import User
from ledger.models import NETWORK_CHAIN_SLUG, Chain
from ledger.services import chain_create

PASSWORD = "Un-long-mot-de-passe-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"member{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password(PASSWORD)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # The network chain comes from a data migration; a transactional test flushes it.
        chain_create(slug=NETWORK_CHAIN_SLUG, name="SMART B network")
        return super()._create(model_class, *args, **kwargs)


class ChainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Chain
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"city-{n}")
    name = factory.Sequence(lambda n: f"City {n}")
