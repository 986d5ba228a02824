-- wrk script: POST pre-signed LINE webhook bodies, every body at most once in the whole run.
-- wrk gives a thread no id of its own, so setup() (run once per thread, in the main Lua state) numbers
-- them through thread:set, which sets a global in that thread's state. With the file and the thread count
-- given after `--`, thread n sends only lines n, n + threads, n + 2 * threads, ... (init() runs right
-- after each thread's setup, so the count cannot come from setup). Each wrk run (the warm-up, the measured
-- run) gets a file of its own, so no webhookEventId is ever sent twice. A thread that has sent its whole
-- share asks for /healthz instead and stops: the bench checks that no run came near that.
local created = 0
local bodies, signatures = {}, {}
local stride, sent = 1, 0

function setup(thread)
  thread:set("thread_index", created)
  created = created + 1
end

function init(args)
  local mine = tonumber(thread_index) or 0
  stride = tonumber(args[2]) or 1
  local n = 0
  for line in io.lines(args[1]) do
    if n % stride == mine then
      local tab = line:find("\t", 1, true)
      signatures[#signatures + 1] = line:sub(1, tab - 1)
      bodies[#bodies + 1] = line:sub(tab + 1)
    end
    n = n + 1
  end
end

function request()
  sent = sent + 1
  if sent > #bodies then
    wrk.thread:stop()
    return wrk.format("GET", "/healthz")
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["x-line-signature"] = signatures[sent]
  return wrk.format(nil, "/callback", nil, bodies[sent])
end
