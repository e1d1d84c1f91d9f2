// The Lua scripts of the Redis quota store (see redisCommon.ts for the keys and conventions).
import { COMMON } from './redisCommon.js';

export { ABANDON, ACQUIRE } from './redisAcquire.js';

/**
 * ARGV: nRates, leaseId, channel, then per rate (alg, limit, windowMs, capacity, reserved,
 * actual or '' for unchanged). Rewrites the lease's entries with the real amounts, ends a
 * hold (the entry then counts from now), refunds or charges buckets, and wakes waiters.
 */
export const SETTLE = `${COMMON}
local n = num(1)
local id = ARGV[2]
local rates = {}
local p = 4
for i = 1, n do
  rates[i] = { alg = ARGV[p], limit = num(p + 1), window = num(p + 2), cap = num(p + 3),
    reserved = num(p + 4), actual = tonumber(ARGV[p + 5]), key = KEYS[1 + 2 * i], tkey = KEYS[2 + 2 * i] }
  p = p + 6
end
local now = now_ms()
for i, r in ipairs(rates) do
  local reserved = r.reserved
  local actual = r.actual
  if r.alg == 's' then
    local amount = actual or reserved
    local member = id .. '|' .. reserved .. '|' .. i
    local score = false
    if reserved > 0 then score = redis.call('ZSCORE', r.key, member) end
    if score then
      score = tonumber(score)
      if score > now then score = now end
      redis.call('ZREM', r.key, member)
      if amount > 0 then redis.call('ZADD', r.key, score, id .. '|' .. amount .. '|' .. i) end
      redis.call('INCRBYFLOAT', r.tkey, amount - reserved)
      -- removing the only entry deletes the key, and the new entry would have no TTL
      if amount > 0 then keep_ttl(r.key, r.window + 1000) end
      keep_ttl(r.tkey, r.window + 1000)
    elseif reserved == 0 and amount > 0 then
      redis.call('ZADD', r.key, now, id .. '|' .. amount .. '|' .. i)
      redis.call('INCRBYFLOAT', r.tkey, amount)
      extend_ttl(r.key, r.window + 1000)
      extend_ttl(r.tkey, r.window + 1000)
    end
  elseif actual then
    local level = bucket_level(r.key, now, r.limit, r.window, r.cap) - (actual - reserved)
    if level > r.cap then level = r.cap end
    redis.call('HSET', r.key, 'level', exact(level), 'ts', now)
    redis.call('PEXPIRE', r.key, bucket_ttl(r, level))
  end
end
redis.call('PUBLISH', ARGV[3], 'settle')
return now
`;

/**
 * ARGV: nRates, leaseId, channel, slots, endHold 0|1, then per rate (alg, reserved), then
 * optionally agoMs and holdTtlMs. Frees the lease's slots; with endHold, its held
 * sliding-window entries count from now, or from agoMs before now, never from before
 * their start (a held entry's score is its start plus holdTtlMs).
 */
export const RELEASE = `${COMMON}
local n = num(1)
local id = ARGV[2]
local slots = num(4)
local reserved = {}
for i = 1, n do reserved[i] = num(5 + 2 * i) end
local ago = tonumber(ARGV[6 + 2 * n]) or 0
local hold = tonumber(ARGV[7 + 2 * n]) or 0
if not (ago > 0) then ago = 0 end
local now = now_ms()
for k = 1, slots do redis.call('ZREM', KEYS[2], id .. '#' .. k) end
if ARGV[5] == '1' then
  for i = 1, n do
    if ARGV[4 + 2 * i] == 's' and reserved[i] > 0 then
      local member = id .. '|' .. reserved[i] .. '|' .. i
      local score = tonumber(redis.call('ZSCORE', KEYS[1 + 2 * i], member))
      if score and score > now then
        local at = math.max(now - ago, score - hold)
        if at > now then at = now end
        redis.call('ZADD', KEYS[1 + 2 * i], 'XX', at, member)
      end
    end
  end
end
redis.call('PUBLISH', ARGV[3], 'release')
return now
`;

/** ARGV: slotTtlMs, then slot members. Pushes their expiry to now + TTL (only if still held). */
export const RENEW = `${COMMON}
local slot_ttl = num(1)
local now = now_ms()
for k = 2, #ARGV do
  -- only a slot still alive: one past its TTL may already be counted free by another process
  local expires = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[k]))
  if expires and expires > now then redis.call('ZADD', KEYS[2], 'XX', now + slot_ttl, ARGV[k]) end
end
if #ARGV > 1 then redis.call('PEXPIRE', KEYS[2], ttl(slot_ttl * 2 + 1000)) end
return now
`;

/** ARGV: ms. Extends (never shortens) the cooldown; returns its end. */
export const COOLDOWN = `${COMMON}
local ms = num(1)
local now = now_ms()
local current = cooldown_until(now)
if now + ms > current then
  redis.call('SET', KEYS[1], now + ms, 'PX', ttl(ms))
  return math.ceil(now + ms)
end
return math.ceil(current)
`;

/** ARGV: nRates, index, amount, nonce, then per rate (alg, limit, windowMs, capacity). Takes unconditionally. */
export const TAKE = `${COMMON}
local n = num(1)
local index = num(2)
local amount = num(3)
local rates = read_rates(5, n)
local r = rates[index]
local now = now_ms()
if r.alg == 's' then
  expire(r.key, r.tkey, now, r.window)
  redis.call('ZADD', r.key, now, 'fill-' .. ARGV[4] .. '|' .. amount .. '|' .. index)
  redis.call('INCRBYFLOAT', r.tkey, amount)
  extend_ttl(r.key, r.window + 1000)
  extend_ttl(r.tkey, r.window + 1000)
else
  local level = bucket_level(r.key, now, r.limit, r.window, r.cap) - amount
  redis.call('HSET', r.key, 'level', exact(level), 'ts', now)
  redis.call('PEXPIRE', r.key, bucket_ttl(r, level))
end
return now
`;

/** ARGV: nRates, maxSlots, then per rate (alg, limit, windowMs, capacity). Returns { now, slotsUsed, cooldownUntil, remaining... }. */
export const STATUS = `${COMMON}
local n = num(1)
local max_slots = num(2)
local rates = read_rates(3, n)
local now = now_ms()
local avail = available(rates, now)
local slots_used = 0
if max_slots >= 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  slots_used = redis.call('ZCARD', KEYS[2])
end
local out = { now, slots_used, math.ceil(cooldown_until(now)) }
for i = 1, n do out[#out + 1] = exact(avail[i]) end
return out
`;
