-- One benchmark scenario for wrk, configured by the environment the harness sets:
--   BENCH_METHOD        GET or POST
--   BENCH_HEADERS       "Name: value" lines, newline-separated
--   BENCH_BODY          one static body for every request
--   BENCH_BODIES_FILE   one body per line, each sent once (per-request assertions);
--                       threads take alternate lines so no body is sent twice
--   BENCH_THREADS       wrk's -t, to split the bodies
-- done() prints one "BENCH_RESULT {json}" line that the harness parses.

wrk.method = os.getenv("BENCH_METHOD") or "GET"
for line in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^\n]+") do
  local name, value = string.match(line, "^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end
local static_body = os.getenv("BENCH_BODY")
if static_body and static_body ~= "" then wrk.body = static_body end

local bodies_file = os.getenv("BENCH_BODIES_FILE")
if bodies_file == "" then bodies_file = nil end

local threads = {}
local created = 0

function setup(thread)
  thread:set("thread_index", created)
  created = created + 1
  table.insert(threads, thread)
end

if bodies_file then
  local bodies = {}
  sent = 0
  available = 0

  function init(args)
    local stride = tonumber(os.getenv("BENCH_THREADS") or "1")
    local index = 0
    for line in io.lines(bodies_file) do
      if index % stride == thread_index then table.insert(bodies, line) end
      index = index + 1
    end
    available = #bodies
  end

  function request()
    sent = sent + 1
    -- Past the end we wrap around: those replays are refused and counted as errors.
    return wrk.format(nil, nil, nil, bodies[((sent - 1) % #bodies) + 1])
  end

  -- Keep the first refusal of each thread so the harness can say why a body failed.
  first_error = ""
  function response(status, headers, body)
    if status >= 300 and first_error == "" then
      first_error = status .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

function done(summary, latency, requests)
  local sent_total, available_total, first_error = 0, 0, ""
  for _, thread in ipairs(threads) do
    sent_total = sent_total + (tonumber(thread:get("sent")) or 0)
    available_total = available_total + (tonumber(thread:get("available")) or 0)
    if first_error == "" then first_error = thread:get("first_error") or "" end
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d, ' ..
    '"bodies_sent": %d, "bodies_available": %d}\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean, latency.max, sent_total, available_total))
  if first_error ~= "" then
    io.write("BENCH_FIRST_ERROR " .. string.gsub(first_error, "\n", " ") .. "\n")
  end
end
