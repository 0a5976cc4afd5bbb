"""The data marketplace (issue 5): catalogue, ontologies and curators, usage contracts,
consents and the personal-data wallet, metered billing. Its tables live in
`marketplace.data.models` and are registered through `marketplace.models`."""
