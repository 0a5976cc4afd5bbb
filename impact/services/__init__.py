"""The only writers of impact state. Each service runs in one database transaction and
writes its signed ledger transaction on the city's chain beside the state it changes."""

from ._common import city_portfolio, portfolio_for
from .catalogue import impact_load_catalogue, methodology_publish
from .claims import (
    claim_batch_plan,
    claim_batch_submit,
    claim_create,
    claim_submit,
    evidence_add_dataset,
    evidence_add_file,
)
from .community import (
    merchant_offer_close,
    merchant_offer_create,
    merchant_offer_redeem,
    participation_call_close,
    participation_call_create,
    participation_register,
    participation_reward,
    project_close,
    project_contribute,
    project_create,
)
from .market import (
    forward_order_cancel,
    forward_order_create,
    forward_orders_fill,
    offer_buy,
    offer_create,
    offer_withdraw,
)
from .money import payable_settle, redemption_rate_set, token_redeem
from .rollup import rollup_rebuild
from .tokens import batch_issue, portfolio_forward_consent, token_retire, token_transfer
from .verification import claim_bounty_post, claim_verify, curator_grant, curator_revoke

__all__ = [
    "batch_issue",
    "city_portfolio",
    "claim_batch_plan",
    "claim_batch_submit",
    "claim_bounty_post",
    "claim_create",
    "claim_submit",
    "claim_verify",
    "curator_grant",
    "curator_revoke",
    "evidence_add_dataset",
    "evidence_add_file",
    "forward_order_cancel",
    "forward_order_create",
    "forward_orders_fill",
    "impact_load_catalogue",
    "merchant_offer_close",
    "merchant_offer_create",
    "merchant_offer_redeem",
    "methodology_publish",
    "offer_buy",
    "offer_create",
    "offer_withdraw",
    "participation_call_close",
    "participation_call_create",
    "participation_register",
    "participation_reward",
    "payable_settle",
    "portfolio_for",
    "portfolio_forward_consent",
    "project_close",
    "project_contribute",
    "project_create",
    "redemption_rate_set",
    "rollup_rebuild",
    "token_redeem",
    "token_retire",
    "token_transfer",
]
