-- wrk script for the sagemcp benchmark: POST one prepared MCP request, check every answer,
-- and print the results as one JSON line.
--
--   wrk -t1 -c32 -d10s -s benchmarks/wrk/mcp.lua http://127.0.0.1:PORT/PATH -- SPEC_FILE EXPECT
--
-- SPEC_FILE holds the request as `benchmarks.mcp_requests.HttpRequest.spec()` writes it:
-- one "Name: value" header per line, a blank line, then the body (sent as is). A line
-- ":path: /other/path" overrides the URL's path. Several requests may follow each other,
-- separated by a line "\x1e" (ASCII record separator); they are then sent round-robin.
-- A line ":unique-ids: 1" makes every request carry its own JSON-RPC id (the body's
-- `"id":1` is replaced by a counter): requests in one MCP session must not share an id.
-- EXPECT is a substring every successful response body contains. A response counts as
-- bad when its status is not 200, it lacks EXPECT or a JSON-RPC "result" member, or it
-- carries "isError":true; the harness rejects a run with any bad response.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id_base", #threads * 1000000000)
end

local function prepare(text)
  local split = string.find(text, "\n\n", 1, true)
  local head, body = string.sub(text, 1, split - 1), string.sub(text, split + 2)
  local headers, path, unique = {}, nil, false
  for line in string.gmatch(head, "[^\n]+") do
    local p = string.match(line, "^:path:%s*(.*)$")
    if p then
      path = p
    elseif string.match(line, "^:unique%-ids:") then
      unique = true
    else
      local name, value = string.match(line, "^([^:]+):%s*(.*)$")
      headers[name] = value
    end
  end
  if not unique then
    return wrk.format("POST", path, headers, body)
  end
  local at = assert(string.find(body, '"id":1,', 1, true), "no \"id\":1, in the body")
  return {path = path, headers = headers, before = string.sub(body, 1, at + 4), after = string.sub(body, at + 6)}
end

function init(args)
  local f = assert(io.open(args[1], "rb"))
  local text = f:read("*a")
  f:close()
  prepared = {}
  local start = 1
  while true do
    local at = string.find(text, "\n\30\n", start, true)
    if not at then
      table.insert(prepared, prepare(string.sub(text, start)))
      break
    end
    table.insert(prepared, prepare(string.sub(text, start, at - 1)))
    start = at + 3
  end
  expect = args[2] or ""
  bad = 0
  sample = ""
  counter = 0
end

function request()
  counter = counter + 1
  local r = prepared[(counter % #prepared) + 1]
  if type(r) == "string" then
    return r
  end
  return wrk.format("POST", r.path, r.headers, r.before .. tostring(id_base + counter) .. r.after)
end

function response(status, headers, body)
  if status ~= 200
    or (expect ~= "" and not string.find(body, expect, 1, true))
    or not string.find(body, '"result":', 1, true)
    or string.find(body, '"isError":true', 1, true) then
    bad = bad + 1
    if sample == "" then
      sample = tostring(status) .. " " .. string.sub(body, 1, 200)
    end
  end
end

local function escape(s)
  return (string.gsub(s, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end))
end

function done(summary, latency, requests)
  local total_bad, first = 0, ""
  for _, thread in ipairs(threads) do
    total_bad = total_bad + (thread:get("bad") or 0)
    local s = thread:get("sample") or ""
    if first == "" then first = s end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"bad":%d,"bad_sample":"%s",' ..
    '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"stdev":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout, total_bad, escape(first),
    latency.min, latency.mean, latency.max, latency.stdev,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
