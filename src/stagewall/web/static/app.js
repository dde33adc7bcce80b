// stagewall web UI: progressive enhancement only. Every page works without this file.
"use strict";
(function () {
  // A form is sent once: a second click while the first is on its way would burn a
  // second one-time code or file a duplicate request.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.sent === "yes") { event.preventDefault(); return; }
    form.dataset.sent = "yes";
    window.setTimeout(function () { form.dataset.sent = ""; }, 5000);
  });
})();
