// Bulk scheduling, enhanced: "Check every row" asks the server without leaving the page, so
// the files chosen stay in the form and "Save all" posts the very files that were checked.
// The server checks them again before saving either way; without this script the page works
// by full page loads (the officer chooses the files again to save).
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  if (!form || !window.fetch || !window.DOMParser || !window.FormData) {
    return;
  }
  function say(message) {
    document.getElementById("import-status").textContent = message;
  }

  function totalBytes() {
    var total = 0;
    form.querySelectorAll("input[type=file]").forEach(function (input) {
      for (var i = 0; i < input.files.length; i += 1) {
        total += input.files[i].size;
      }
    });
    return total;
  }

  function tooLarge() {
    var csv = document.getElementById("csv").files[0];
    var maxCsv = Number(form.dataset.maxCsvBytes);
    var maxBody = Number(form.dataset.maxBodyBytes);
    if (csv && csv.size > maxCsv) {
      return "The CSV file is larger than " + maxCsv.toLocaleString() + " bytes: split it.";
    }
    if (totalBytes() > maxBody) {
      return "The files together are larger than " + maxBody.toLocaleString() +
        " bytes: split the file, and choose only the images it names.";
    }
    return null;
  }

  function replaceFrom(fresh, id) {
    var incoming = fresh.getElementById(id);
    var current = document.getElementById(id);
    if (incoming && current) {
      current.replaceWith(document.importNode(incoming, true));
    }
  }

  function forget() {
    // A file chosen after the check is not what was checked: saving needs a new check.
    form.querySelector("input[name=checked]").value = "";
    form.querySelectorAll("button[name=action]").forEach(function (button) {
      if (button.value !== "check") {
        button.remove();
      }
    });
  }

  form.addEventListener("change", function (event) {
    if (event.target.type === "file") {
      forget();
    }
  });

  form.addEventListener("submit", function (event) {
    var problem = tooLarge();
    if (problem) {
      event.preventDefault();
      say(problem);
      return;
    }
    var button = event.submitter;
    if (!button || button.value !== "check") {
      return; // saving posts the form itself, files and all
    }
    event.preventDefault();
    var data = new FormData(form);
    data.set("action", "check");
    say("Checking every row…");
    // form.action would be the button named "action", not the attribute
    fetch(form.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) {
        return response.text().then(function (html) {
          return { status: response.status, html: html };
        });
      })
      .then(function (answer) {
        var fresh = new DOMParser().parseFromString(answer.html, "text/html");
        if (!fresh.getElementById("import-result")) {
          say("The check failed (" + answer.status + "). Reload the page and try again.");
          return;
        }
        replaceFrom(fresh, "import-actions");
        replaceFrom(fresh, "import-result");
        var again = document.getElementById("import-again");
        if (again) {
          again.remove(); // the files are still chosen here
        }
        form.querySelector("input[name=checked]").value =
          fresh.querySelector("#import-form input[name=checked]").value;
        var heading = document.getElementById("import-result-heading");
        if (heading) {
          heading.focus();
        }
      })
      .catch(function () {
        say("The check could not reach pressgate. Try again.");
      });
  });
})();
