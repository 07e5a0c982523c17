// jiwoo's live activity view: refreshes the recent-activity table from GET /api/logs/recent every
// few seconds while the tab is visible, pauses while it is hidden (or when the reader pauses it),
// marks new rows and filters by status class, method and event. Without JavaScript the page is
// the server's table. Rows are added and removed in place, so the page does not jump.
// No framework, no inline script (the CSP is script-src 'self').
(function () {
  "use strict";

  var TRACE_ID = /^[0-9a-f]{32}$/;
  var PLACEHOLDER = "__trace_id__"; // logs_app.templatetags.activity.TRACE_ID_PLACEHOLDER
  // The trace view's own requests keep no trace: their ids link nowhere in the app.
  var TRACE_VIEW_ROUTES = /^(logs|api):trace$/;
  var NEW_FOR_MS = 30000;
  var MAX_BACKOFF_MS = 60000;
  var lang = document.documentElement.lang || undefined;

  // Times are rendered in UTC by the server: show the reader's own time of day, the full date
  // in the tooltip.
  function localizeTime(element) {
    var date = new Date(element.getAttribute("datetime"));
    if (isNaN(date.getTime())) {
      return;
    }
    element.title = date.toLocaleString(lang);
    var mode = element.getAttribute("data-local");
    if (mode === "time") {
      element.textContent = date.toLocaleTimeString(lang);
    } else if (mode !== null) {
      element.textContent = date.toLocaleString(lang);
    }
  }
  document.querySelectorAll("time[datetime][data-local]").forEach(localizeTime);

  var root = document.querySelector("[data-activity]");
  if (!root || !window.fetch || !window.AbortController) {
    return;
  }
  var tbody = root.querySelector("tbody");
  var tableWrap = root.querySelector(".table-wrap");
  var empty = root.querySelector(".activity-empty");
  var filteredEmpty = root.querySelector(".activity-filtered-empty");
  var unavailable = root.querySelector(".activity-unavailable");
  var state = root.querySelector(".live-state");
  var stateText = root.querySelector(".live-text");
  var updated = root.querySelector(".live-updated");
  var toggle = root.querySelector(".live-toggle");
  var filters = root.querySelector(".activity-filters");
  var eventSelect = filters.elements.event;

  var source = root.getAttribute("data-source");
  var ownPath = new URL(source, window.location.href).pathname;
  var interval = parseInt(root.getAttribute("data-interval-ms"), 10) || 5000;
  var traceViewLink = root.getAttribute("data-trace-view-link") || "";
  var traceLink = root.getAttribute("data-trace-link") || "";
  var logsLink = root.getAttribute("data-logs-link") || "";

  var timer = null;
  var inFlight = null;
  var failures = 0;
  var userPaused = false;
  var signedOut = false;

  function text(name) {
    return root.getAttribute("data-text-" + name) || "";
  }

  function keyOf(entry) {
    return [entry.ts, entry.trace_id || "", entry.method, entry.path].join(" ");
  }

  // --- rows ------------------------------------------------------------------------------

  function cell(row, content, className) {
    var td = document.createElement("td");
    if (className) {
      td.className = className;
    }
    if (typeof content === "string") {
      td.textContent = content;
    } else {
      td.appendChild(content);
    }
    row.appendChild(td);
    return td;
  }

  function link(href, child, className, sameTab) {
    var a = document.createElement("a");
    a.href = href;
    if (!sameTab) {
      a.target = "_blank";
      a.rel = "noopener";
    }
    if (className) {
      a.className = className;
    }
    a.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    return a;
  }

  function traceCell(row, traceId, route) {
    var td = cell(row, "", "trace");
    if (!TRACE_ID.test(traceId || "")) {
      td.textContent = "—";
      return;
    }
    var code = document.createElement("code");
    code.className = "trace-id";
    code.textContent = traceId;
    // As the server draws it: the id opens the trace view when it runs, else Grafana's trace.
    if (traceViewLink && !TRACE_VIEW_ROUTES.test(route || "")) {
      td.appendChild(link(traceViewLink.split(PLACEHOLDER).join(traceId), code, "", true));
      if (traceLink) {
        td.appendChild(document.createTextNode(" "));
        td.appendChild(link(traceLink.split(PLACEHOLDER).join(traceId), text("tempo"), "small"));
      }
    } else if (traceLink) {
      td.appendChild(link(traceLink.split(PLACEHOLDER).join(traceId), code));
    } else {
      td.appendChild(code);
    }
    if (logsLink) {
      td.appendChild(document.createTextNode(" "));
      td.appendChild(link(logsLink.split(PLACEHOLDER).join(traceId), text("logs"), "small"));
    }
  }

  function buildRow(entry) {
    var row = document.createElement("tr");
    var status = Number(entry.status) || 0;
    row.className = status >= 500 ? "status-error" : status >= 400 ? "status-warn" : "";
    row.setAttribute("data-key", keyOf(entry));
    row.setAttribute("data-status", String(status));
    row.setAttribute("data-method", entry.method || "");
    row.setAttribute("data-event", entry.event || "");
    row.setAttribute("data-path", entry.path || "");
    var time = document.createElement("time");
    time.setAttribute("datetime", entry.ts || "");
    time.setAttribute("data-local", "time");
    time.textContent = String(entry.ts || "").slice(11, 19);
    localizeTime(time);
    var when = cell(row, time, "when");
    // Every row has the label, shown only on new rows, so no column changes width.
    var label = document.createElement("span");
    label.className = "new-label";
    label.textContent = text("new");
    when.appendChild(label);
    cell(row, entry.user || "—");
    cell(row, entry.method || "");
    cell(row, entry.path || "", "path");
    cell(row, entry.event || "");
    cell(row, String(status));
    cell(row, (Number(entry.duration_ms) || 0).toFixed(1) + " ms", "num");
    traceCell(row, entry.trace_id, entry.route);
    return row;
  }

  function markNew(row, now) {
    row.classList.add("is-new");
    row.setAttribute("data-arrived", String(now));
  }

  function unmarkOld(now) {
    tbody.querySelectorAll("tr.is-new").forEach(function (row) {
      if (now - Number(row.getAttribute("data-arrived")) > NEW_FOR_MS) {
        row.classList.remove("is-new");
      }
    });
  }

  // Puts the rows in the order of `entries` (newest first), reusing the rows already there:
  // usually a few rows go in at the top and as many leave at the bottom.
  function merge(entries) {
    var now = Date.now();
    var existing = new Map();
    Array.prototype.forEach.call(tbody.rows, function (row) {
      existing.set(row.getAttribute("data-key"), row);
    });
    var cursor = tbody.firstElementChild;
    var kept = new Set();
    entries.forEach(function (entry) {
      var key = keyOf(entry);
      if (kept.has(key)) {
        return;
      }
      kept.add(key);
      var row = existing.get(key);
      if (!row) {
        row = buildRow(entry);
        markNew(row, now);
      }
      if (row === cursor) {
        cursor = cursor.nextElementSibling;
      } else {
        tbody.insertBefore(row, cursor);
      }
      addEventOption(row.getAttribute("data-event"));
    });
    while (cursor) {
      var next = cursor.nextElementSibling;
      cursor.remove();
      cursor = next;
    }
    unmarkOld(now);
    applyFilters();
  }

  // --- filters ---------------------------------------------------------------------------

  function addEventOption(name) {
    if (!name) {
      return;
    }
    var options = Array.prototype.slice.call(eventSelect.options, 3);
    if (options.some(function (option) { return option.value === name; })) {
      return;
    }
    var option = new Option(name, name);
    var before = options.find(function (other) { return other.value > name; }) || null;
    eventSelect.add(option, before);
  }

  function matches(row, wanted) {
    var status = row.getAttribute("data-status");
    var event = row.getAttribute("data-event");
    if (wanted.status && status.charAt(0) !== wanted.status) {
      return false;
    }
    if (wanted.method && row.getAttribute("data-method") !== wanted.method) {
      return false;
    }
    if (wanted.event === "*" ? !event : wanted.event === "-" ? event : wanted.event && event !== wanted.event) {
      return false;
    }
    return !(wanted.hideOwn && row.getAttribute("data-path") === ownPath);
  }

  function applyFilters() {
    var wanted = {
      status: filters.elements.status.value,
      method: filters.elements.method.value,
      event: eventSelect.value,
      hideOwn: filters.elements.hide_own.checked,
    };
    var rows = tbody.rows.length;
    var shown = 0;
    Array.prototype.forEach.call(tbody.rows, function (row) {
      row.hidden = !matches(row, wanted);
      shown += row.hidden ? 0 : 1;
    });
    var isUnavailable = !unavailable.hidden;
    tableWrap.hidden = shown === 0;
    empty.hidden = rows > 0 || isUnavailable;
    filteredEmpty.hidden = rows === 0 || shown > 0;
  }

  // --- refreshing ------------------------------------------------------------------------

  function setState(name) {
    var label = {
      live: text("live"),
      paused: text("paused"),
      hidden: text("hidden"),
      retrying: text("retrying"),
      "signed-out": text("signed-out"),
    }[name];
    state.setAttribute("data-state", name);
    stateText.textContent = label;
    toggle.textContent = userPaused ? text("resume") : text("pause");
    toggle.setAttribute("aria-pressed", userPaused ? "true" : "false");
    toggle.disabled = signedOut;
  }

  function currentState() {
    if (signedOut) {
      return "signed-out";
    }
    if (userPaused) {
      return "paused";
    }
    return document.hidden ? "hidden" : failures ? "retrying" : "live";
  }

  function stop() {
    window.clearTimeout(timer);
    timer = null;
    if (inFlight) {
      inFlight.abort();
      inFlight = null;
    }
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = null;
    if (!signedOut && !userPaused && !document.hidden) {
      var delay = failures ? Math.min(interval * Math.pow(2, failures), MAX_BACKOFF_MS) : interval;
      timer = window.setTimeout(refresh, delay);
    }
    setState(currentState());
  }

  function showUpdated() {
    var now = new Date();
    updated.textContent = text("updated") + " " + now.toLocaleTimeString(lang);
  }

  function refresh() {
    stop();
    var controller = new AbortController();
    inFlight = controller;
    window
      .fetch(source, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" },
        signal: controller.signal,
      })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) {
          signedOut = true;
          return null;
        }
        if (response.status === 503) {
          unavailable.hidden = false;
          failures = 0;
          applyFilters();
          return null;
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        if (inFlight === controller) {
          inFlight = null;
        }
        if (data) {
          failures = 0;
          unavailable.hidden = true;
          merge(Array.isArray(data) ? data : data.results || []);
          showUpdated();
        }
        schedule();
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") {
          return;
        }
        if (inFlight === controller) {
          inFlight = null;
        }
        failures += 1;
        schedule();
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      stop();
      setState(currentState());
    } else if (!userPaused && !signedOut) {
      refresh();
    }
  });

  toggle.addEventListener("click", function () {
    userPaused = !userPaused;
    if (userPaused) {
      stop();
      setState(currentState());
    } else {
      refresh();
    }
  });

  filters.addEventListener("change", applyFilters);
  filters.addEventListener("submit", function (event) {
    event.preventDefault();
  });

  Array.prototype.forEach.call(tbody.rows, function (row) {
    addEventOption(row.getAttribute("data-event"));
  });
  root.querySelector(".activity-static").hidden = true;
  root.querySelector(".activity-controls").hidden = false;
  applyFilters();
  schedule();
})();
