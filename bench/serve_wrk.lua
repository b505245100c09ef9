-- wrk script of bench/bench_serve.sh: look-ups of random customers of the served run.
--   SERVE_IDS    a Lua file setting id_lo, id_hi (the run's ids are id_lo..id_hi) or id_list (a sample)
--   SERVE_TOKEN  a read token
--   SERVE_BATCH  0 (default): GET /v1/customers/{id}, a new random id each request;
--                N > 0: POST /v1/customers:batch with N random ids (64 bodies made once per thread,
--                taken in turn, so wrk spends its time sending rather than building JSON)
--   SERVE_FIELDS empty (default): the whole customer object; else a comma-separated list of fields
--                (docs/api.md, "Fields"): ?fields=... on the GET, "fields": [...] in the batch body
dofile(os.getenv("SERVE_IDS"))
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SERVE_TOKEN")
local batch = tonumber(os.getenv("SERVE_BATCH") or "0")
local fields = os.getenv("SERVE_FIELDS") or ""
local bodies, turn = {}, 0
local query, batch_fields = "", ""
if fields ~= "" then
  query = "?fields=" .. fields
  batch_fields = ',"fields":["' .. fields:gsub(",", '","') .. '"]'
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

local function draw()
  if id_list then
    return id_list[math.random(#id_list)]
  end
  return math.random(id_lo, id_hi)
end

function init(args)
  math.randomseed(os.time() * 1000 + (thread_no or 0))
  if batch > 0 then
    wrk.headers["Content-Type"] = "application/json"
    for b = 1, 64 do
      local t = {}
      for i = 1, batch do
        t[i] = string.format("%d", draw())
      end
      bodies[b] = '{"ids":[' .. table.concat(t, ",") .. ']' .. batch_fields .. '}'
    end
  end
end

function request()
  if batch > 0 then
    turn = turn % #bodies + 1
    return wrk.format("POST", "/v1/customers:batch", nil, bodies[turn])
  end
  return wrk.format("GET", string.format("/v1/customers/%d", draw()) .. query)
end
