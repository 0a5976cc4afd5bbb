// Impact pages: small enhancements only (every page works without JavaScript).
// - a "Print" button on the retirement certificate (hidden until this script runs);
// - on the credential page, "Check with the API": the same check through the identity
//   endpoint (POST /api/v1/identity/credentials/verify), answered in the page.
(function () {
  "use strict";
  document.querySelectorAll("[data-impact-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });

  document.querySelectorAll("[data-impact-api-verify]").forEach(function (button) {
    const form = button.closest("form");
    const output = document.getElementById(button.dataset.impactApiVerify);
    const labels = JSON.parse(document.getElementById("impact-api-labels").textContent);
    button.hidden = false;
    button.addEventListener("click", async function () {
      let credential;
      try {
        credential = JSON.parse(form.elements.credential.value);
      } catch (error) {
        output.textContent = labels.invalid;
        return;
      }
      const response = await fetch(button.dataset.endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ credential: credential }),
      });
      const answer = await response.json().catch(function () { return {}; });
      output.className = answer.verified ? "notice ok" : "notice bad";
      output.textContent = (answer.verified ? labels.verified : labels.failed) +
        (answer.reason ? " (" + answer.reason + ")" : "");
    });
  });
})();
