"use strict";
(function () {
  var bar = document.getElementById("filters");
  if (!bar) return;
  bar.hidden = false;
  var boxes = bar.querySelectorAll("input[type=checkbox]");
  var findings = document.querySelectorAll(".finding");
  function apply() {
    var on = { verdict: {}, family: {} };
    boxes.forEach(function (b) { if (b.checked) on[b.name][b.value] = true; });
    var shown = 0;
    findings.forEach(function (f) {
      var visible = !!(on.verdict[f.dataset.verdict] && on.family[f.dataset.family]);
      f.hidden = !visible;
      if (visible) shown++;
    });
    document.getElementById("shown").textContent = String(shown);
  }
  function setAll(name, value) {
    boxes.forEach(function (b) { if (b.name === name) b.checked = value; });
    apply();
  }
  boxes.forEach(function (b) { b.addEventListener("change", apply); });
  bar.querySelectorAll("button[data-all]").forEach(function (b) {
    b.addEventListener("click", function () { setAll(b.dataset.all, b.dataset.value === "on"); });
  });
  apply();
})();
