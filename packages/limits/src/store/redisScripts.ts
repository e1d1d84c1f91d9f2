/**
 * Lua scripts of the Redis quota store. Each runs atomically on the server and reads the
 * server's clock (TIME), never the callers'. Keys of one quota share a hash tag, so they
 * live on one Redis Cluster slot.
 *
 * KEYS[1] cooldown (string: store-clock ms until which nobody is admitted)
 * KEYS[2] slots (zset: slot member -> expiry ms)
 * KEYS[1 + 2i] rate i: sliding window (zset: "lease|amount|i" -> admitted-at ms, in the
 *   future while held) or token bucket (hash: level, ts)
 * KEYS[2 + 2i] rate i: running total of a sliding window (string)
 * KEYS[3 + 2n] epoch (string): set on first use; missing means a fresh or restarted Redis
 * KEYS[4 + 2n] attempt (acquire and abandon only): that one acquire call was abandoned, so
 *   it grants nothing should it run later; or, when it charged a token bucket, how many
 *   requests it granted (slots and window entries are found by their lease ids)
 *
 * Amounts travel as decimal strings and are rebuilt with tonumber() and `..` on both
 * sides, so a member written by acquire is found again by settle and release. Durations
 * may be fractional (a scaled window): every TTL handed to Redis goes through ttl(), a
 * whole number of ms. Scripts read and check all their arguments before their first
 * write, so bad input changes nothing.
 */

const COMMON = `
local function ttl(ms)
  -- whole ms, at least 1 and at most 1e13 (317 years): Lua prints larger numbers with an
  -- exponent, which PEXPIRE refuses, and limits of any size must not break a script
  return math.min(1e13, math.max(1, math.ceil(ms)))
end
local function keep_ttl(key, ms)
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ttl(ms)) end
end
local function num(i)
  local v = tonumber(ARGV[i])
  if v == nil or v ~= v then error({ err = 'ERR argument ' .. i .. ' is not a number: ' .. tostring(ARGV[i]) }) end
  return v
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function amount_of(member)
  return tonumber(string.match(member, '^[^|]*|([^|]*)|'))
end
local function expire(zkey, tkey, now, window)
  local cutoff = now - window
  local old = redis.call('ZRANGEBYSCORE', zkey, '-inf', cutoff)
  if #old > 0 then
    local freed = 0
    for _, m in ipairs(old) do freed = freed + amount_of(m) end
    redis.call('ZREMRANGEBYSCORE', zkey, '-inf', cutoff)
    if redis.call('ZCARD', zkey) == 0 then
      redis.call('DEL', tkey)
    else
      redis.call('INCRBYFLOAT', tkey, -freed)
    end
  end
  return tonumber(redis.call('GET', tkey) or '0')
end
local function bucket_ttl(r)
  return ttl(r.window * r.cap / r.limit + 1000)
end
local function bucket_level(bkey, now, limit, window, cap)
  local v = redis.call('HMGET', bkey, 'level', 'ts')
  local level = tonumber(v[1])
  if level == nil then return cap end
  level = level + (now - tonumber(v[2])) * limit / window
  if level > cap then level = cap end
  return level
end
local function read_rates(first, n)
  local rates = {}
  local p = first
  for i = 1, n do
    rates[i] = { alg = ARGV[p], limit = num(p + 1), window = num(p + 2), cap = num(p + 3),
      key = KEYS[1 + 2 * i], tkey = KEYS[2 + 2 * i] }
    p = p + 4
  end
  return rates, p
end
local function read_requests(p, nreq, n)
  local requests = {}
  for j = 1, nreq do
    local amounts = {}
    for i = 1, n do amounts[i] = num(p + 2 + i) end
    requests[j] = { id = ARGV[p], slots = num(p + 1), held = ARGV[p + 2] == '1', amounts = amounts }
    p = p + 3 + n
  end
  return requests
end
local function available(rates, now)
  local avail = {}
  for i, r in ipairs(rates) do
    if r.alg == 's' then
      avail[i] = r.limit - expire(r.key, r.tkey, now, r.window)
    else
      avail[i] = bucket_level(r.key, now, r.limit, r.window, r.cap)
    end
  end
  return avail
end
local function save_buckets(rates, avail, now)
  for i, r in ipairs(rates) do
    if r.alg == 'b' then
      redis.call('HSET', r.key, 'level', tostring(avail[i]), 'ts', now)
      redis.call('PEXPIRE', r.key, bucket_ttl(r))
    end
  end
end
local function sliding_wait(zkey, now, window, avail, need)
  local entries = redis.call('ZRANGE', zkey, 0, -1, 'WITHSCORES')
  local freed = 0
  for k = 1, #entries, 2 do
    freed = freed + amount_of(entries[k])
    if avail + freed >= need then return tonumber(entries[k + 1]) + window - now end
  end
  return window
end
-- How long anything of the quota may matter: the longest TTL any of its keys gets.
local function lifetime(rates, slot_ttl, hold_ttl, recovery_hold)
  local longest = math.max(slot_ttl * 2, recovery_hold)
  for _, r in ipairs(rates) do
    if r.alg == 's' then
      longest = math.max(longest, r.window + hold_ttl)
    else
      longest = math.max(longest, r.window * r.cap / r.limit)
    end
  end
  return ttl(longest + 1000)
end
`;

/** Arguments shared by ACQUIRE and ABANDON (see ACQUIRE). */
const ACQUIRE_ARGS = `
local n = num(1)
local max_slots = num(2)
local slot_ttl = num(3)
local hold_ttl = num(4)
local nreq = num(5)
local recovery_hold = num(6)
local rates, p = read_rates(7, n)
local requests = read_requests(p, nreq, n)
local epoch_key = KEYS[3 + 2 * n]
local attempt_key = KEYS[4 + 2 * n]
local keep = lifetime(rates, slot_ttl, hold_ttl, recovery_hold)
`;

/**
 * KEYS: as above, with the attempt key. ARGV: nRates, maxSlots (-1: none), slotTtlMs,
 * holdTtlMs, nRequests, recoveryHoldMs, then per rate (alg s|b, limit, windowMs, capacity),
 * then per request (leaseId, slots, held 0|1, amount per rate). Serves requests in order
 * until one does not fit. Returns { now, granted, waitMs, blockedBy, slotsUsed,
 * cooldownUntil, remaining... }. An attempt already abandoned grants nothing
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
local cooldown = tonumber(redis.call('GET', KEYS[1]) or '0')
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
  for i, r in ipairs(rates) do
    local a = amounts[i]
    if a > 0 and avail[i] < a then
      local w
      if r.alg == 's' then
        w = sliding_wait(r.key, now, r.window, avail[i], a)
      else
        w = (a - avail[i]) * r.window / r.limit
      end
      if w > longest then longest = w; by = i end
    end
  end
  if by > 0 then
    wait = longest
    blocked = 'r' .. by
    break
  end
  -- Reserve: entries are written once for the whole batch, below.
  for i, r in ipairs(rates) do
    local a = amounts[i]
    if a > 0 then
      if r.alg == 's' then
        local score = now
        if req.held then score = now + hold_ttl end
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
    redis.call('PEXPIRE', r.key, ttl(r.window + hold_ttl + 1000))
    redis.call('PEXPIRE', r.tkey, ttl(r.window + hold_ttl + 1000))
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
  for _, r in ipairs(rates) do
    if r.alg == 'b' then refill = math.max(refill, bucket_ttl(r)) end
  end
  redis.call('SET', attempt_key, granted, 'PX', refill)
end
if wait > 0 then wait = math.max(1, math.ceil(wait)) end
local out = { now, granted, wait, blocked, slots_used, math.ceil(cooldown) }
for i = 1, n do out[#out + 1] = tostring(avail[i]) end
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
      redis.call('HSET', r.key, 'level', tostring(level), 'ts', now)
      redis.call('PEXPIRE', r.key, bucket_ttl(r))
    end
  end
end
redis.call('PUBLISH', channel, 'abandon')
return 1
`;

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
      redis.call('PEXPIRE', r.key, ttl(r.window + 1000))
      redis.call('PEXPIRE', r.tkey, ttl(r.window + 1000))
    end
  elseif actual then
    local level = bucket_level(r.key, now, r.limit, r.window, r.cap) + reserved - actual
    if level > r.cap then level = r.cap end
    redis.call('HSET', r.key, 'level', tostring(level), 'ts', now)
    redis.call('PEXPIRE', r.key, bucket_ttl(r))
  end
end
redis.call('PUBLISH', ARGV[3], 'settle')
return now
`;

/**
 * ARGV: nRates, leaseId, channel, slots, endHold 0|1, then per rate (alg, reserved).
 * Frees the lease's slots; with endHold, its held sliding-window entries count from now.
 */
export const RELEASE = `${COMMON}
local n = num(1)
local id = ARGV[2]
local slots = num(4)
local reserved = {}
for i = 1, n do reserved[i] = num(5 + 2 * i) end
local now = now_ms()
for k = 1, slots do redis.call('ZREM', KEYS[2], id .. '#' .. k) end
if ARGV[5] == '1' then
  for i = 1, n do
    if ARGV[4 + 2 * i] == 's' and reserved[i] > 0 then
      local member = id .. '|' .. reserved[i] .. '|' .. i
      local score = redis.call('ZSCORE', KEYS[1 + 2 * i], member)
      if score and tonumber(score) > now then redis.call('ZADD', KEYS[1 + 2 * i], 'XX', now, member) end
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
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
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
  redis.call('PEXPIRE', r.key, ttl(r.window + 1000))
  redis.call('PEXPIRE', r.tkey, ttl(r.window + 1000))
else
  local level = bucket_level(r.key, now, r.limit, r.window, r.cap) - amount
  redis.call('HSET', r.key, 'level', tostring(level), 'ts', now)
  redis.call('PEXPIRE', r.key, bucket_ttl(r))
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
local out = { now, slots_used, math.ceil(tonumber(redis.call('GET', KEYS[1]) or '0')) }
for i = 1, n do out[#out + 1] = tostring(avail[i]) end
return out
`;
