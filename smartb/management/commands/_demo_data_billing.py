"""Demo: montpellier's own bank account for its data invoices (the creditor of its SEPA
transfer files), set by its municipality staff and signed on its ledger.

The account is fictitious (its account number spells DEMO) but its IBAN checksum and French
RIB key are valid, so transfer files validate. Sète sets none: its staff's billing page shows
the fallback to the deployment's example account. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

from governance.models import City, CollegeKind
from marketplace.data.models import CreditorAccount
from marketplace.data.services.creditor import creditor_account_set

DEMO_CREDITOR = {
    "holder_name": "Ville de Montpellier (compte fictif de démonstration)",
    "iban": "FR18 3000 6000 01DE MO34 0000 144",
    # No BIC: the service takes the one of the IBAN's bank (bank code 30006).
}


def seed_data_billing(city: City) -> None:
    if CreditorAccount.objects.filter(city=city).exists():
        return
    staff = city.memberships.get(
        college__kind=CollegeKind.MUNICIPALITY, user__email="mairie@demo.smartb.fr"
    ).user
    creditor_account_set(city=city, by=staff, **DEMO_CREDITOR)
