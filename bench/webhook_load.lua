-- wrk script: POST pre-signed LINE webhook bodies, each one once per thread slice (unique webhookEventIds).
local bodies, signatures = {}, {}
local counter = 0
local offset = 0

function setup(thread)
  thread:set("offset", (thread.id or 0))
end

function init(args)
  local file = io.open(args[1], "r")
  for line in file:lines() do
    local tab = line:find("\t", 1, true)
    signatures[#signatures + 1] = line:sub(1, tab - 1)
    bodies[#bodies + 1] = line:sub(tab + 1)
  end
  file:close()
  offset = tonumber(offset) or 0
  counter = offset
end

function request()
  counter = counter + 1
  local i = (counter * 7919) % #bodies + 1
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["x-line-signature"] = signatures[i]
  return wrk.format(nil, "/callback", nil, bodies[i])
end
