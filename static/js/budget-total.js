// The running total of a participatory budget ballot (governance/_budget_vote_form.html):
// the cost of the ticked projects, in red above the budget. The form works without it.
// The fragment comes again after each HTMX swap, with this script: bind each form once.
(function () {
  "use strict";
  var form = document.getElementById("budget-form");
  if (!form || form.dataset.totalBound) { return; }
  form.dataset.totalBound = "true";
  var total = document.getElementById("budget-total");
  var budget = Number(form.dataset.budget);
  function update() {
    var cents = 0;
    form.querySelectorAll("input[name=projects]:checked").forEach(function (box) { cents += Number(box.dataset.cost); });
    total.hidden = false;
    total.querySelector("output").textContent = (cents / 100).toFixed(2);
    total.classList.toggle("bad", cents > budget);
  }
  form.addEventListener("change", update);
  update();
})();
