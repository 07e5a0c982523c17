// jiwoo browser events: page-load timing and clicks on [data-track] elements, posted to /api/events.
// Filled in by the observability work; kept as a file so pages can load it without inline script.
