-- wrk script for jiwoo: a logged-in session (cookie + CSRF header) and one JSON summary at the end.
-- Environment: JIWOO_COOKIE, JIWOO_CSRF, JIWOO_METHOD, JIWOO_PATHS ("|"-separated, used in turn), JIWOO_BODY.
local cookie = os.getenv("JIWOO_COOKIE") or ""
local csrf = os.getenv("JIWOO_CSRF") or ""
local method = os.getenv("JIWOO_METHOD") or "GET"
local body = os.getenv("JIWOO_BODY")
local paths = {}
for path in string.gmatch(os.getenv("JIWOO_PATHS") or "/", "[^|]+") do
  table.insert(paths, path)
end
local counter = 0

request = function()
  counter = counter + 1
  local headers = { ["Cookie"] = cookie, ["X-CSRFToken"] = csrf }
  if body then
    headers["Content-Type"] = "application/json"
  end
  return wrk.format(method, paths[(counter % #paths) + 1], headers, body)
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"non_2xx_3xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
