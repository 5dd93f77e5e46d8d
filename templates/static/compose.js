/* The compose page, enhanced: parts added and removed in place, the words checked as they
   are typed (POST /api/v1/check, 300 ms after the last keystroke), a template's words filled
   in without a reload, and the preview kept current. Without this script every button still
   works through the server. Nothing the person typed is ever put into the page as HTML:
   text goes in through textContent and attribute values only. */
(function () {
  "use strict";

  var form = document.getElementById("compose");
  if (!form) {
    return;
  }
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var maxLength = Number(form.getAttribute("data-max-length"));
  var maxParts = Number(form.getAttribute("data-max-parts"));
  var partsBox = document.getElementById("parts");
  var partTemplate = document.getElementById("part-template");
  var addButton = document.getElementById("add-part");
  var checkStatus = document.getElementById("check-status");
  var announcer = document.getElementById("compose-announce");
  var findingsList = document.getElementById("findings");
  var preview = document.getElementById("preview");
  var accountSelect = document.getElementById("account");
  var zone = document.getElementById("zone");
  var THUMBNAIL_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];
  var DEBOUNCE_MS = 300;
  var timer = null;
  var sequence = 0;
  var thumbnails = new WeakMap(); // file input -> data: URL of the chosen image

  function all(root, selector) {
    return Array.prototype.slice.call(root.querySelectorAll(selector));
  }

  function parts() {
    return all(partsBox, ".compose-part");
  }

  function nextNumber() {
    var used = parts().map(function (part) { return Number(part.id.slice("part-".length)); });
    return used.length ? Math.max.apply(null, used) + 1 : 0;
  }

  function say(message) {
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = message; }, 50);
  }

  /* --- the images of a part, as the check and the preview need them ------------------- */

  function imagesOf(part) {
    var found = [];
    all(part, ".image").forEach(function (block) {
      var remove = block.querySelector(".remove-image");
      if (remove && remove.checked) {
        return;
      }
      var data = block.querySelector('input[name$="-data"]');
      var type = block.querySelector('input[name$="-type"]');
      var url = null;
      if (data && type && THUMBNAIL_TYPES.indexOf(type.value) >= 0) {
        url = "data:" + type.value + ";base64," + data.value;
      }
      found.push({ alt: block.querySelector(".alt-text").value, url: url });
    });
    all(part, ".image-slot").forEach(function (slot) {
      var file = slot.querySelector(".image-file");
      if (file.files && file.files.length) {
        found.push({ alt: slot.querySelector(".alt-text").value, url: thumbnails.get(file) || null });
      }
    });
    return found;
  }

  function hasImages(part) {
    return part.querySelector(".image") !== null || all(part, ".image-file").some(function (f) {
      return f.files && f.files.length > 0;
    });
  }

  /* Show the slots in use and the first empty one; the rest wait until they are needed. */
  function tidySlots(part) {
    var shownEmpty = false;
    all(part, ".image-slot").forEach(function (slot) {
      var file = slot.querySelector(".image-file");
      var alt = slot.querySelector(".alt-text");
      var used = (file.files && file.files.length > 0) || alt.value !== "" ||
        slot.querySelector(".field-error") !== null;
      if (used) {
        slot.hidden = false;
      } else {
        slot.hidden = shownEmpty;
        shownEmpty = true;
      }
    });
  }

  /* --- parts ---------------------------------------------------------------------------- */

  function renumber() {
    var list = parts();
    list.forEach(function (part, index) {
      all(part, ".part-number").forEach(function (label) { label.textContent = String(index + 1); });
      part.querySelector(".remove-part").hidden = list.length < 2;
    });
    addButton.disabled = list.length >= maxParts;
  }

  function addPart() {
    if (parts().length >= maxParts) {
      return null;
    }
    var number = String(nextNumber());
    var copy = partTemplate.content.cloneNode(true);
    all(copy, "*").forEach(function (element) {
      Array.prototype.slice.call(element.attributes).forEach(function (attribute) {
        if (attribute.value.indexOf("__N__") >= 0) {
          element.setAttribute(attribute.name, attribute.value.split("__N__").join(number));
        }
      });
    });
    var part = copy.querySelector(".compose-part");
    partsBox.appendChild(copy);
    tidySlots(part);
    renumber();
    return part;
  }

  function removePart(part) {
    var list = parts();
    if (list.length < 2) {
      return;
    }
    var index = list.indexOf(part);
    part.remove();
    renumber();
    var rest = parts();
    rest[Math.max(0, index - 1)].querySelector(".part-text").focus();
    say("Part " + (index + 1) + " removed. The thread has " + rest.length +
      (rest.length === 1 ? " part." : " parts."));
    changed();
  }

  /* --- the live check ------------------------------------------------------------------- */

  function countText(length) {
    var text = length + " / " + maxLength;
    return length > maxLength ? text + " (over by " + (length - maxLength) + ")" : text;
  }

  function summary(findings) {
    if (!findings.length) {
      return "No findings.";
    }
    var blocking = findings.filter(function (f) { return f.severity === "block"; }).length;
    var text = findings.length + (findings.length === 1 ? " finding" : " findings");
    if (blocking) {
      text += ": " + blocking + (blocking === 1 ? " blocks" : " block") + " submitting";
    }
    return text + ".";
  }

  function setStatus(text) {
    if (checkStatus.textContent !== text) {
      checkStatus.textContent = text;
    }
  }

  function showFindings(findings, list) {
    findingsList.textContent = "";
    findings.forEach(function (finding) {
      var item = document.createElement("li");
      item.className = "finding-" + finding.severity;
      var part = list[finding.part];
      var link = document.createElement("a");
      link.href = "#" + (part ? part.querySelector(".part-text").id : "parts");
      link.textContent = "Part " + (finding.part + 1);
      item.appendChild(link);
      item.appendChild(document.createTextNode(": "));
      var word = document.createElement("strong");
      word.textContent = finding.severity === "block" ? "Blocks" : "Warning";
      item.appendChild(word);
      item.appendChild(document.createTextNode(" \u2013 " + finding.explanation + " "));
      if (finding.excerpt) {
        var quote = document.createElement("q");
        quote.textContent = finding.excerpt;
        item.appendChild(quote);
        item.appendChild(document.createTextNode(" "));
      }
      var rule = document.createElement("span");
      rule.className = "rule";
      rule.textContent = finding.rule;
      item.appendChild(rule);
      findingsList.appendChild(item);
    });
  }

  function check() {
    var list = parts();
    var body = list.map(function (part) {
      return {
        text: part.querySelector(".part-text").value,
        alt_texts: imagesOf(part).map(function (image) { return image.alt; })
      };
    });
    var words = body.some(function (p) { return p.text.trim() !== "" || p.alt_texts.length > 0; });
    if (!words) {
      list.forEach(function (part) {
        var count = part.querySelector(".count");
        count.textContent = countText(0);
        count.classList.remove("over");
      });
      findingsList.textContent = "";
      setStatus("Type the words to see their count and what the policy finds.");
      return;
    }
    var mine = ++sequence;
    fetch("/api/v1/check", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify({ parts: body })
    }).then(function (response) {
      if (!response.ok) {
        throw new Error(String(response.status));
      }
      return response.json();
    }).then(function (report) {
      if (mine !== sequence) {
        return; // a newer check is on its way; this answer is for words no longer there
      }
      maxLength = report.max_length;
      list.forEach(function (part, index) {
        var count = part.querySelector(".count");
        var length = report.lengths[index] || 0;
        count.textContent = countText(length);
        count.classList.toggle("over", length > maxLength);
      });
      showFindings(report.findings, list);
      setStatus(summary(report.findings));
    }).catch(function () {
      if (mine === sequence) {
        setStatus("The live check is unavailable just now; press Check to check on the server.");
      }
    });
  }

  /* --- the preview ---------------------------------------------------------------------- */

  function account() {
    if (accountSelect) {
      var option = accountSelect.options[accountSelect.selectedIndex];
      return option ? { handle: option.value, name: option.getAttribute("data-name") } : null;
    }
    var fixed = document.getElementById("account-handle");
    return { handle: fixed.textContent, name: fixed.getAttribute("data-name") };
  }

  function paragraph(className, text) {
    var p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    return p;
  }

  function renderPreview() {
    var who = account() || { handle: "", name: "" };
    preview.textContent = "";
    parts().forEach(function (part, index) {
      var card = document.createElement("article");
      card.className = index ? "tweet reply" : "tweet";
      var author = document.createElement("p");
      author.className = "author";
      var name = document.createElement("span");
      name.className = "handle";
      name.textContent = who.name;
      var handle = document.createElement("span");
      handle.className = "muted";
      handle.textContent = who.handle;
      author.appendChild(name);
      author.appendChild(document.createTextNode(" "));
      author.appendChild(handle);
      card.appendChild(author);
      if (index) {
        card.appendChild(paragraph("muted replying", "Replying to " + who.handle));
      }
      card.appendChild(paragraph("words", part.querySelector(".part-text").value));
      imagesOf(part).forEach(function (image) {
        var figure = document.createElement("figure");
        figure.className = "media";
        if (image.url) {
          var img = document.createElement("img");
          img.className = "thumb";
          img.src = image.url;
          img.alt = image.alt;
          figure.appendChild(img);
        }
        var caption = document.createElement("figcaption");
        caption.textContent = "Image description: " + (image.alt || "none yet (add alt text)");
        figure.appendChild(caption);
        card.appendChild(figure);
      });
      preview.appendChild(card);
    });
  }

  function changed() {
    renderPreview();
    window.clearTimeout(timer);
    timer = window.setTimeout(check, DEBOUNCE_MS);
  }

  /* --- templates ------------------------------------------------------------------------ */

  function fillFromTemplate(texts) {
    while (parts().length < texts.length) {
      addPart();
    }
    parts().forEach(function (part, index) {
      if (index < texts.length) {
        part.querySelector(".part-text").value = texts[index];
      } else if (hasImages(part)) {
        part.querySelector(".part-text").value = "";
      } else {
        part.remove();
      }
    });
    renumber();
  }

  function useTemplate(button) {
    var name = button.getAttribute("data-template");
    var box = button.closest("details");
    var error = document.getElementById("tplerr-" + name);
    var values = {};
    all(box, "input[data-variable]").forEach(function (input) {
      values[input.getAttribute("data-variable")] = input.value;
    });
    fetch("/api/v1/templates/" + encodeURIComponent(name) + "/render", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify({ values: values })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (!answer.ok) {
        error.textContent = answer.body.detail || "The template could not be used.";
        error.hidden = false;
        say(error.textContent);
        return;
      }
      if (answer.body.parts.length > maxParts) {
        error.textContent = "This template makes " + answer.body.parts.length +
          " parts; a thread may have at most " + maxParts + ".";
        error.hidden = false;
        say(error.textContent);
        return;
      }
      error.hidden = true;
      fillFromTemplate(answer.body.parts);
      say("Template " + name + " used: " + answer.body.parts.length +
        (answer.body.parts.length === 1 ? " part." : " parts."));
      parts()[0].querySelector(".part-text").focus();
      changed();
    }).catch(function () {
      error.textContent = "The template could not be fetched; try again.";
      error.hidden = false;
      say(error.textContent);
    });
  }

  /* --- wiring --------------------------------------------------------------------------- */

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button[name=action]");
    if (!button || !form.contains(button)) {
      return;
    }
    var action = button.value;
    if (action === "add_part") {
      event.preventDefault();
      var part = addPart();
      if (part) {
        part.querySelector(".part-text").focus();
        say("Part " + parts().length + " added.");
        changed();
      }
    } else if (action.indexOf("remove_part:") === 0) {
      event.preventDefault();
      removePart(button.closest(".compose-part"));
    } else if (action.indexOf("use_template:") === 0) {
      event.preventDefault();
      useTemplate(button);
    } else if (action === "check") {
      event.preventDefault();
      window.clearTimeout(timer);
      check();
    }
  });

  form.addEventListener("input", function (event) {
    if (event.target.matches(".part-text, .alt-text")) {
      changed();
    }
  });

  form.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches(".image-file")) {
      var file = target.files && target.files[0];
      thumbnails.delete(target);
      if (file && THUMBNAIL_TYPES.indexOf(file.type) >= 0) {
        var reader = new FileReader();
        reader.onload = function () {
          thumbnails.set(target, String(reader.result));
          renderPreview();
        };
        reader.readAsDataURL(file);
      }
      tidySlots(target.closest(".compose-part"));
      changed();
    } else if (target.matches(".remove-image")) {
      changed();
    } else if (target === accountSelect) {
      var option = accountSelect.options[accountSelect.selectedIndex];
      zone.textContent = option.getAttribute("data-timezone");
      renderPreview();
    }
  });

  /* A link to a field moves the focus there, not just the view. */
  function focusTarget(event) {
    var link = event.target.closest("a[href^='#']");
    var target = link && document.getElementById(link.getAttribute("href").slice(1));
    if (target) {
      event.preventDefault();
      if (target.tagName === "DETAILS") {
        target.open = true;
        target = target.querySelector("input") || target;
      }
      target.focus();
    }
  }

  findingsList.addEventListener("click", focusTarget);
  var problems = document.getElementById("problems");
  if (problems) {
    problems.addEventListener("click", focusTarget);
  }

  parts().forEach(tidySlots);
  renumber();
  if (problems) {
    problems.focus(); // a refused form: the reasons first, each linking to its field
  }
})();
