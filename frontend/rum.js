// jiwoo's browser telemetry (real-user monitoring), bundled into static/js/rum.min.js by build.mjs.
//
// The page's <meta name="traceparent"> carries the server span that rendered it; the browser's
// documentLoad span (and its resource fetches) become its children, clicks on data-track elements
// become spans, and same-origin fetch calls carry traceparent so the server span of an API call is
// the child of the browser's fetch span. Spans go as OTLP/JSON to the same-origin relay
// (POST /api/otlp/v1/traces), which validates them and exports them as <service>-frontend.
// Without the meta tag (the server exports no traces) nothing starts. docs/ARCHITECTURE.md.
import { SpanKind, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { DocumentLoadInstrumentation } from "@opentelemetry/instrumentation-document-load";
import { FetchInstrumentation } from "@opentelemetry/instrumentation-fetch";
import { BatchSpanProcessor, WebTracerProvider } from "@opentelemetry/sdk-trace-web";

const RELAY_PATH = "/api/otlp/v1/traces";
// The relay refuses more than 64 spans or 64 KiB a request, 32 attributes or events a span.
const MAX_BATCH_SPANS = 32;
const MAX_PER_SPAN = 32;
const SCOPE = "jiwoo.browser";
const TRACK_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function metaContent(name) {
  const element = document.querySelector(`meta[name="${name}"]`);
  return element ? element.getAttribute("content") || "" : "";
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : metaContent("csrf-token");
}

// Search words and other query values never leave the browser: a URL keeps its path only.
function withoutQuery(value) {
  if (typeof value !== "string" || !/^(?:[a-z][a-z0-9+.-]*:|\/)/i.test(value)) {
    return value;
  }
  const cut = value.search(/[?#]/);
  return cut === -1 ? value : value.slice(0, cut);
}

// A span processor that strips query strings from every URL attribute while the span can still
// change (onEnding runs just before the span ends).
class StripQueryProcessor {
  onStart() {}
  onEnding(span) {
    for (const [key, value] of Object.entries(span.attributes)) {
      const stripped = withoutQuery(value);
      if (stripped !== value) {
        span.setAttribute(key, stripped);
      }
    }
  }
  onEnd() {}
  forceFlush() {
    return Promise.resolve();
  }
  shutdown() {
    return Promise.resolve();
  }
}

function start() {
  if (!/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(metaContent("traceparent")) || !window.fetch) {
    return;
  }
  const exporter = new OTLPTraceExporter({
    url: new URL(RELAY_PATH, window.location.origin).href,
    headers: async () => ({ "X-CSRFToken": csrfToken() }),
  });
  const provider = new WebTracerProvider({
    spanLimits: { attributeCountLimit: MAX_PER_SPAN, eventCountLimit: MAX_PER_SPAN, linkCountLimit: 0 },
    spanProcessors: [
      new StripQueryProcessor(),
      new BatchSpanProcessor(exporter, { maxExportBatchSize: MAX_BATCH_SPANS, scheduledDelayMillis: 2000 }),
    ],
  });
  provider.register();

  const sameOrigin = new RegExp(`^${window.location.origin.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/`);
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new DocumentLoadInstrumentation({ ignorePerformancePaintEvents: false }),
      new FetchInstrumentation({
        propagateTraceHeaderCorsUrls: [sameOrigin],
        // The exporter's own posts use the unpatched fetch; this keeps any other relay call out.
        ignoreUrls: [new RegExp(`${RELAY_PATH}$`)],
        clearTimingResources: true,
      }),
    ],
  });

  // Clicks on elements marked data-track="<name>" become spans of the tracer (the user-interaction
  // instrumentation would wrap every listener and record clicks twice). The relay also writes one
  // log line per click for <service>-frontend.
  const tracer = trace.getTracer(SCOPE, "1");
  document.addEventListener(
    "click",
    (event) => {
      const target = event.target instanceof Element ? event.target.closest("[data-track]") : null;
      const name = target ? target.getAttribute("data-track") : "";
      if (!TRACK_NAME.test(name || "")) {
        return;
      }
      const span = tracer.startSpan(`click ${name}`, {
        kind: SpanKind.INTERNAL,
        attributes: {
          "jiwoo.track": name,
          "event_type": "click",
          "target_element": target.tagName,
          "url.path": window.location.pathname,
        },
      });
      span.end();
    },
    { capture: true },
  );
}

try {
  start();
} catch {
  // Telemetry must never break the page.
}
