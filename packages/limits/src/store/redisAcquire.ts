// The Redis scripts that admit: ACQUIRE serves a batch of requests, ABANDON undoes one given up on.
import { COMMON } from './redisCommon.js';

/** Arguments shared by ACQUIRE and ABANDON (see ACQUIRE). */
const ACQUIRE_ARGS = `
local n = num(1)
local max_slots = num(2)
local slot_ttl = num(3)
local hold_ttl = num(4)
local nreq = num(5)
local recovery_hold = num(6)
local defer = num(7)
local rates, p = read_rates(8, n)
local requests = read_requests(p, nreq, n)
local epoch_key = KEYS[3 + 2 * n]
local attempt_key = KEYS[4 + 2 * n]
local keep = lifetime(rates, slot_ttl, hold_ttl + defer, recovery_hold)
`;

/**
 * KEYS: as above, with the attempt key. ARGV: nRates, maxSlots (-1: none), slotTtlMs,
 * holdTtlMs, nRequests, recoveryHoldMs, deferMs, then per rate (alg s|b, limit, windowMs,
 * capacity), then per request (leaseId, slots, held 0|1, amount per rate). Serves requests
 * in order until one does not fit; one that only sliding windows keep out, for at most
 * deferMs, is granted to start when they let it in, its entries scored from then. Returns
 * { now, granted, waitMs, blockedBy, slotsUsed, cooldownUntil, remaining..., then each
 * granted request's start in ms from now, when any is deferred }. An attempt already abandoned grants nothing
 * (blockedBy `abandoned`); one that charged a token bucket records how many it granted,
 * for ABANDON to refund.
 */
export const ACQUIRE = `${COMMON}${ACQUIRE_ARGS}
local now = now_ms()
if redis.call('EXISTS', attempt_key) == 1 then
  return { now, 0, 0, 'abandoned', 0, 0 }
end
local avail = available(rates, now)
if recovery_hold > 0 and redis.call('EXISTS', epoch_key) == 0 then
  -- A fresh store does not know what was admitted before it: hold everyone one window.
  redis.call('SET', KEYS[1], now + recovery_hold, 'PX', ttl(recovery_hold))
end
if recovery_hold > 0 then redis.call('SET', epoch_key, now, 'PX', keep) end
local cooldown = cooldown_until(now)
local slots_used = 0
if max_slots >= 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  slots_used = redis.call('ZCARD', KEYS[2])
end
local granted = 0
local wait = 0
local blocked = ''
local adds = {}
local added = {}
for i = 1, n do adds[i] = {}; added[i] = 0 end
local slot_adds = {}
local charged_bucket = false
local starts = {}
local deferred = false
for _, req in ipairs(requests) do
  local id = req.id
  local slots = req.slots
  local amounts = req.amounts
  if cooldown > now then
    wait = cooldown - now
    blocked = 'cooldown'
    break
  end
  if max_slots >= 0 and slots > 0 and slots_used + slots > max_slots then
    -- The earliest expiry among the holders: a dead holder's slot is free exactly then.
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    wait = first[2] and (tonumber(first[2]) - now) or slot_ttl
    blocked = 'slots'
    break
  end
  local longest = 0
  local by = 0
  local deferrable = true
  for i, r in ipairs(rates) do
    local a = amounts[i]
    if a > 0 and not fits(a, avail[i], r.cap) then
      local w = r.window
      if r.alg == 's' then
        w = sliding_wait(r.key, now, r.window, avail[i], a, r.limit, adds[i])
      elseif a <= r.cap + EPSILON then
        w = (a - avail[i]) / (r.limit / r.window)
      end
      w = math.ceil(w)
      -- only a sliding window's exact wait, shorter than the window, can be waited out ahead
      if r.alg ~= 's' or w >= r.window then deferrable = false end
      if w > longest then longest = w; by = i end
    end
  end
  local start = 0
  if by > 0 and deferrable and longest <= defer then
    start = longest
    deferred = true
  elseif by > 0 then
    wait = longest
    blocked = 'r' .. by
    break
  end
  starts[#starts + 1] = start
  -- Reserve: entries are written once for the whole batch, below.
  for i, r in ipairs(rates) do
    local a = amounts[i]
    if a > 0 then
      if r.alg == 's' then
        local score = now + start
        if req.held then score = score + hold_ttl end
        local add = adds[i]
        add[#add + 1] = score
        add[#add + 1] = id .. '|' .. a .. '|' .. i
        added[i] = added[i] + a
      else
        charged_bucket = true
      end
      avail[i] = avail[i] - a
    end
  end
  if slots > 0 and max_slots >= 0 then
    for k = 1, slots do
      slot_adds[#slot_adds + 1] = now + slot_ttl
      slot_adds[#slot_adds + 1] = id .. '#' .. k
    end
    slots_used = slots_used + slots
  end
  granted = granted + 1
end
for i, r in ipairs(rates) do
  if #adds[i] > 0 then
    redis.call('ZADD', r.key, unpack(adds[i]))
    redis.call('INCRBYFLOAT', r.tkey, added[i])
    redis.call('PEXPIRE', r.key, ttl(r.window + hold_ttl + defer + 1000))
    redis.call('PEXPIRE', r.tkey, ttl(r.window + hold_ttl + defer + 1000))
  end
end
if #slot_adds > 0 then
  redis.call('ZADD', KEYS[2], unpack(slot_adds))
  redis.call('PEXPIRE', KEYS[2], ttl(slot_ttl * 2 + 1000))
end
save_buckets(rates, avail, now)
if charged_bucket then
  -- A refund matters only until the buckets have refilled.
  local refill = 1
  for i, r in ipairs(rates) do
    if r.alg == 'b' then refill = math.max(refill, bucket_ttl(r, avail[i])) end
  end
  redis.call('SET', attempt_key, granted, 'PX', refill)
end
if wait > 0 then wait = math.max(1, math.ceil(wait)) end
local out = { now, granted, wait, blocked, slots_used, math.ceil(cooldown) }
for i = 1, n do out[#out + 1] = exact(avail[i]) end
if deferred then
  for _, start in ipairs(starts) do out[#out + 1] = start end
end
return out
`;

/**
 * KEYS and ARGV: those of the ACQUIRE call given up on, then the channel. Undoes what that
 * call granted, if it ran: its slots and window entries (by lease id) and, as it recorded,
 * its token-bucket charges. Marks it abandoned so it grants nothing should it run later.
 * Running it twice changes nothing more.
 */
export const ABANDON = `${COMMON}${ACQUIRE_ARGS}
local channel = ARGV[#ARGV]
local done = redis.call('GET', attempt_key)
if done == 'abandoned' then return 0 end
redis.call('SET', attempt_key, 'abandoned', 'PX', keep)
local refunds = tonumber(done) or 0
local now = now_ms()
for j, req in ipairs(requests) do
  if max_slots >= 0 then
    for k = 1, req.slots do redis.call('ZREM', KEYS[2], req.id .. '#' .. k) end
  end
  for i, r in ipairs(rates) do
    local a = req.amounts[i]
    if a > 0 and r.alg == 's' then
      if redis.call('ZREM', r.key, req.id .. '|' .. a .. '|' .. i) == 1 then
        redis.call('INCRBYFLOAT', r.tkey, -a)
      end
    elseif a > 0 and j <= refunds then
      local level = math.min(r.cap, bucket_level(r.key, now, r.limit, r.window, r.cap) + a)
      redis.call('HSET', r.key, 'level', exact(level), 'ts', now)
      redis.call('PEXPIRE', r.key, bucket_ttl(r, level))
    end
  end
end
redis.call('PUBLISH', channel, 'abandon')
return 1
`;
