-- Argo CD health check for mapi-operator.io MapiServer, MailDomain and Mailbox.
-- Reads the kstatus-style conditions the operator writes:
--   Ready=True                        -> Healthy
--   Stalled=True or Degraded=True     -> Degraded    (needs a person: the message says what)
--   RolloutHeld=True                  -> Suspended   (the gate holds a new release on purpose)
--   anything else                     -> Progressing (including status not yet written for
--                                        this generation)
-- Degraded wins over Suspended: a held rollout that also cannot progress needs a person,
-- not patience. Written for Argo CD's Lua 5.1 (gopher-lua); tested with Debian's lua5.4.
local hs = {}

local function condition(conds, wanted)
  if conds == nil then return nil end
  for _, c in ipairs(conds) do
    if c.type == wanted then return c end
  end
  return nil
end

local function describe(c)
  if c == nil then return "" end
  local text = c.reason or ""
  if c.message ~= nil and c.message ~= "" then
    if text ~= "" then text = text .. ": " end
    text = text .. c.message
  end
  return text
end

local function isTrue(c)
  return c ~= nil and c.status == "True"
end

if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for mapi-operator to report status"
  return hs
end

local generation = obj.metadata and obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= nil and observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for mapi-operator to observe generation " .. tostring(generation)
  return hs
end

local conds = obj.status.conditions
local ready = condition(conds, "Ready")
local stalled = condition(conds, "Stalled")
local degraded = condition(conds, "Degraded")
local held = condition(conds, "RolloutHeld")

if isTrue(ready) then
  hs.status = "Healthy"
  hs.message = describe(ready)
elseif isTrue(stalled) then
  hs.status = "Degraded"
  hs.message = describe(stalled)
elseif isTrue(degraded) then
  hs.status = "Degraded"
  hs.message = describe(degraded)
elseif isTrue(held) then
  hs.status = "Suspended"
  hs.message = describe(held)
else
  hs.status = "Progressing"
  local reconciling = condition(conds, "Reconciling")
  if isTrue(reconciling) then
    hs.message = describe(reconciling)
  elseif ready ~= nil then
    hs.message = describe(ready)
  else
    hs.message = "Waiting for the Ready condition"
  end
end
return hs
