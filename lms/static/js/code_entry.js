/* Code-entry boxes: as the student types, each code is checked against its code set (the
 * server's /codes/check-box: ICD-10-CM against the tabular list, CPT, HCPCS and ICD-10-PCS by
 * form) and the verdicts are listed under the box, with the pairs an Excludes1 note forbids.
 * Progressive enhancement: without this script the boxes are plain text areas and grading
 * checks every code on the server anyway. The navigator counts a box with text as answered.
 */
(function () {
  "use strict";

  var WAIT_MS = 400;

  function show(list, data) {
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    function line(text, ok) {
      var item = document.createElement("li");
      item.className = ok ? "check-ok" : "check-problem";
      item.textContent = (ok ? "✓ " : "✗ ") + text;
      list.appendChild(item);
    }
    (data.checks || []).forEach(function (check) {
      line(check.message, check.ok);
    });
    (data.excludes1 || []).forEach(function (pair) {
      line(pair.message, false);
    });
  }

  function setup(form) {
    var url = form.getAttribute("data-code-check-url");
    if (!url || !window.fetch) {
      return;
    }
    Array.prototype.forEach.call(form.querySelectorAll("textarea.code-entry"), function (box) {
      var list = document.getElementById(box.id + "-checks");
      var timer = null;
      var asked = 0;
      function check() {
        var text = box.value.trim();
        var mine = ++asked;
        if (!text) {
          show(list, {});
          return;
        }
        var query = "?set=" + encodeURIComponent(box.getAttribute("data-code-set")) +
          "&codes=" + encodeURIComponent(text);
        fetch(url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) {
            return response.json().then(function (body) {
              return { ok: response.ok, body: body };
            });
          })
          .then(function (result) {
            if (mine !== asked) {
              return; // a newer check is on its way
            }
            if (result.ok) {
              show(list, result.body);
            } else {
              var error = result.body.error || {};
              show(list, { checks: [{ ok: false, message: error.message || "Cannot check these codes." }] });
            }
          })
          .catch(function () {});
      }
      box.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(check, WAIT_MS);
      });
      if (box.value.trim()) {
        check();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-code-check-url]"), setup);
  });
})();
