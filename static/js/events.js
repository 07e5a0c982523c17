// jiwoo browser events: the page-load timing, and clicks on elements marked data-track="<name>",
// sent to POST /api/events with the trace id of the page, so the browser's records and the
// server's share one trace in Grafana. No framework, no third party, no inline script.
(function () {
  "use strict";

  function meta(name) {
    var element = document.querySelector('meta[name="' + name + '"]');
    return element ? element.getAttribute("content") : "";
  }

  var traceId = meta("trace-id");
  var csrfToken = meta("csrf-token");
  var path = window.location.pathname.slice(0, 200);

  function send(events) {
    if (!csrfToken || !window.fetch) {
      return;
    }
    var body = JSON.stringify({ trace_id: traceId || undefined, events: events });
    window.fetch("/api/events", {
      method: "POST",
      credentials: "same-origin",
      keepalive: true,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
      body: body,
    }).catch(function () {
      // Telemetry must never disturb the page.
    });
  }

  function pageLoadTiming() {
    var entries = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation") : [];
    var navigation = entries[0];
    if (!navigation) {
      return {};
    }
    var timing = {
      ttfb_ms: navigation.responseStart,
      dom_content_loaded_ms: navigation.domContentLoadedEventEnd,
      load_ms: navigation.loadEventEnd,
    };
    Object.keys(timing).forEach(function (key) {
      var value = timing[key];
      if (typeof value !== "number" || value <= 0 || value > 600000) {
        delete timing[key];
      } else {
        timing[key] = Math.round(value * 10) / 10;
      }
    });
    return timing;
  }

  window.addEventListener("load", function () {
    // loadEventEnd is only known once the load handlers have run.
    window.setTimeout(function () {
      send([{ name: "page.load", path: path, timing: pageLoadTiming() }]);
    }, 0);
  });

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("[data-track]") : null;
    if (target) {
      send([{ name: "click", path: path, target: target.getAttribute("data-track") }]);
    }
  });

  // Show times in the reader's own time zone; the server renders them in UTC.
  // data-local="time" shows the local time of day, the full date staying in the tooltip.
  var lang = document.documentElement.lang || undefined;
  document.querySelectorAll("time[datetime]").forEach(function (element) {
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
  });
})();
