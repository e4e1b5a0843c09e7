/* Quiz player and time on task. Loaded with defer; no inline script anywhere.
 *
 * - Autosave: every change in a quiz form is posted to the server (the form still works
 *   without this script: "Save and continue later" and "Submit" are plain buttons).
 * - Navigator: a change of a choice or of "Flag for review" updates that question's entry
 *   (answered / not answered / flagged, in words) and the count; the question being worked
 *   on is marked aria-current. Without this script the server's entries show the last save.
 * - Timer: counts down the seconds the server computed; at zero it saves the form once more
 *   (the server, past the deadline, refuses the answers and grades the attempt at its
 *   deadline with those saved before it) and reloads the page to show the result.
 * - Heartbeat: while a lesson is open and the student has been active in the last few
 *   minutes, tell the server once a minute; an idle page stops counting.
 */
(function () {
  "use strict";

  var IDLE_AFTER_MS = 5 * 60 * 1000;
  var BEAT_EVERY_MS = 60 * 1000;

  function post(url, body, token) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, Accept: "application/json" },
      body: body
    });
  }

  function setupAutosave(form) {
    var url = form.getAttribute("data-autosave-url");
    var tokenField = form.querySelector("input[name=csrf_token]");
    var status = document.querySelector(".autosave-status");
    if (!url || !tokenField) {
      return;
    }
    var leaving = false; // once the form is sent, a late autosave answer must not reload
    form.addEventListener("submit", function () {
      leaving = true;
    });
    // One save at a time, each of the whole form as it is when sent: two saves in flight
    // could reach the server in either order, and the older one, written last, undid the
    // newer (a question flagged just after an answer was found unflagged). A change made
    // while a save is in flight is sent when it ends, and "All answers saved." waits for it.
    var inFlight = false;
    var changedSince = false;
    function show(text) {
      if (status) {
        status.textContent = text;
      }
    }
    function save() {
      if (inFlight) {
        changedSince = true;
        return;
      }
      inFlight = true;
      changedSince = false;
      show("Saving…");
      post(url, new FormData(form), tokenField.value)
        .then(function (response) {
          inFlight = false;
          if (leaving) {
            return;
          }
          if (response.status === 409) {
            window.location.reload(); // closed: the server shows the result
            return;
          }
          if (changedSince) {
            save();
            return;
          }
          show(response.ok ? "All answers saved." : "Not saved: check your connection.");
        })
        .catch(function () {
          inFlight = false;
          if (changedSince && !leaving) {
            save();
            return;
          }
          show("Not saved: check your connection.");
        });
    }
    form.addEventListener("change", save);
  }

  function setupNavigator(form, navigator) {
    var summary = navigator.querySelector(".navigator-summary");
    function entryFor(fieldset) {
      return navigator.querySelector('a[data-question="' + fieldset.id + '"]');
    }
    function recount() {
      var links = navigator.querySelectorAll("a.nav-question");
      var answered = navigator.querySelectorAll("a.nav-question.is-answered").length;
      var flagged = navigator.querySelectorAll("a.nav-question.is-flagged").length;
      if (summary) {
        summary.textContent = answered + " of " + links.length + " answered" +
          (flagged ? ", " + flagged + " flagged for review" : "") + ".";
      }
    }
    // "input" as well as "change": a code typed in a box counts as an answer at once, not
    // only when the student leaves the box (the autosave still waits for that).
    function follow(event) {
      var fieldset = event.target.closest && event.target.closest("fieldset.question");
      var link = fieldset && entryFor(fieldset);
      if (!link) {
        return;
      }
      var answered = fieldset.querySelector('input[name^="q-"]:checked') !== null ||
        Array.prototype.some.call(fieldset.querySelectorAll('textarea[name^="codes-"]'), function (box) {
          return box.value.trim() !== "";
        });
      var flagged = fieldset.querySelector('input[name="flag"]:checked') !== null;
      link.classList.toggle("is-answered", answered);
      link.classList.toggle("is-flagged", flagged);
      var state = link.querySelector(".nav-state");
      if (state) {
        state.textContent = (answered ? "answered" : "not answered") + (flagged ? ", flagged" : "");
      }
      recount();
    }
    form.addEventListener("change", follow);
    form.addEventListener("input", follow);
    form.addEventListener("focusin", function (event) {
      var fieldset = event.target.closest && event.target.closest("fieldset.question");
      var link = fieldset && entryFor(fieldset);
      if (!link) {
        return;
      }
      Array.prototype.forEach.call(navigator.querySelectorAll("a[aria-current]"), function (a) {
        a.removeAttribute("aria-current");
      });
      link.setAttribute("aria-current", "location");
    });
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function setupTimer(clock) {
    var left = parseInt(clock.getAttribute("data-seconds-left"), 10);
    if (isNaN(left)) {
      return;
    }
    var ends = Date.now() + left * 1000;
    var submitted = false;
    function tick() {
      var s = Math.max(0, Math.round((ends - Date.now()) / 1000));
      clock.textContent = Math.floor(s / 3600) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
      if (s === 0 && !submitted) {
        // Time is up: the answers are already saved. A page load only shows the grade; a
        // write records it, so save once more (refused after the deadline: the attempt is
        // graded at it), then show the result.
        submitted = true;
        window.setTimeout(function () {
          var form = document.querySelector("form.quiz[data-autosave-url]");
          var token = form && form.querySelector("input[name=csrf_token]");
          if (!token) {
            window.location.reload();
            return;
          }
          post(form.getAttribute("data-autosave-url"), new FormData(form), token.value)
            .catch(function () {})
            .then(function () { window.location.reload(); });
        }, 1500);
        return;
      }
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  function setupHeartbeat(lesson) {
    var url = lesson.getAttribute("data-heartbeat-url");
    var token = lesson.getAttribute("data-csrf-token");
    var lastActivity = Date.now();
    function active() {
      lastActivity = Date.now();
    }
    ["mousemove", "keydown", "scroll", "touchstart", "click"].forEach(function (name) {
      window.addEventListener(name, active, { passive: true });
    });
    function beat() {
      var idle = Date.now() - lastActivity > IDLE_AFTER_MS;
      if (!idle && document.visibilityState === "visible") {
        post(url, new FormData(), token).catch(function () {});
      }
    }
    beat();
    window.setInterval(beat, BEAT_EVERY_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.quiz[data-autosave-url]");
    if (form) {
      setupAutosave(form);
      var navigator = document.querySelector(".quiz-navigator");
      if (navigator) {
        setupNavigator(form, navigator);
      }
    }
    var clock = document.querySelector("[data-seconds-left]");
    if (clock) {
      setupTimer(clock);
    }
    var lesson = document.querySelector("[data-heartbeat-url]");
    if (lesson) {
      setupHeartbeat(lesson);
    }
  });
})();
