"""axe-core in the browser tests: run the vendored engine on a page, keep what matters.

The engine's source is evaluated in the page by Playwright (`page.evaluate`), which goes
through the DevTools protocol, not a <script> element: the page's strict
Content-Security-Policy stays as the server sent it (no `bypass_csp`), and axe itself needs
no eval. See tests/e2e/vendor/axe-core/VENDORED.md.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

AXE_SOURCE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA: what French public services must meet (RGAA 4 follows
# WCAG 2.1 AA).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")

RUN = """async (tags) => {
  const results = await window.axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


@cache
def axe_source() -> str:
    return AXE_SOURCE.read_text(encoding="utf-8")


def axe_violations(page) -> list[dict]:
    """The serious and critical WCAG 2.1 A/AA violations of the page as it stands."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    found = page.evaluate(RUN, TAGS)
    return [v for v in found if v["impact"] in BLOCKING]


def describe(url: str, violations: list[dict]) -> str:
    """One line per violation: the page, the rule, its impact and the elements at fault."""
    return "\n".join(
        f"{url}: {v['id']} ({v['impact']}: {v['help']}) at {', '.join(v['targets'][:5])}"
        + (f" and {len(v['targets']) - 5} more" if len(v["targets"]) > 5 else "")
        for v in violations
    )


def assert_accessible(page) -> None:
    """Fail with the rule ids, the elements' selectors and the page's URL."""
    violations = axe_violations(page)
    assert not violations, "axe-core (WCAG 2.1 AA), serious or critical:\n" + describe(
        page.url, violations
    )
