-- Cycles through pre-built encrypted callbacks (bench/make_callbacks.py), one per line: "<path?query>\t<body>".
-- Each wrk thread takes every Nth line starting at its own offset, so MsgIds stay unique across threads.
-- Usage: CALLBACKS=/tmp/callbacks.tsv wrk -t2 -c16 -d10s --latency -s bench/wrk_callback.lua http://127.0.0.1:8000
local requests = {}
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  local path = os.getenv("CALLBACKS") or "/tmp/callbacks.tsv"
  local stride = tonumber(os.getenv("WRK_THREADS") or "2")
  local host = os.getenv("HOST_HEADER") or "127.0.0.1"
  local index = 0
  for line in io.lines(path) do
    if index % stride == id then
      local tab = line:find("\t", 1, true)
      local target = line:sub(1, tab - 1)
      local body = line:sub(tab + 1)
      requests[#requests + 1] = wrk.format("POST", target, {["Host"] = host, ["Content-Type"] = "text/xml"}, body)
    end
    index = index + 1
  end
  position = 0
end

function request()
  position = position + 1
  if position > #requests then position = 1 end
  return requests[position]
end
