// The Lua helpers every Redis quota store script starts with.
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

/** Helpers for every script: TTLs, argument checks, the server clock, and the rate maths of rates/. */
export const COMMON = `
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
-- A bucket's key lives until it has refilled (from any debt): expired, it reads full.
local function bucket_ttl(r, level)
  return ttl(r.window * (r.cap - math.min(level, r.cap)) / r.limit + 1000)
end
-- Never shortens a key's life: an entry held in it may count longer than this write's own.
local function extend_ttl(key, ms)
  if redis.call('PTTL', key) < ttl(ms) then redis.call('PEXPIRE', key, ttl(ms)) end
end
-- The cooldown's end, or 0 once it has passed (its key may outlive it by a millisecond).
local function cooldown_until(now)
  local until_ms = tonumber(redis.call('GET', KEYS[1]) or '0')
  if until_ms <= now then return 0 end
  return until_ms
end
-- Numbers written back whole: %.17g reads back as the same double (tostring keeps 14 digits).
local function exact(x)
  return string.format('%.17g', x)
end
-- What fits: the same slack for floating-point refill maths as rates/ (EPSILON there).
local EPSILON = 1e-9
local function fits(amount, avail, cap)
  return amount <= cap + EPSILON and amount - avail <= EPSILON * math.max(1, cap)
end
-- The bucket maths of rates/TokenBucket, operation for operation.
local function bucket_level(bkey, now, limit, window, cap)
  local v = redis.call('HMGET', bkey, 'level', 'ts')
  local level = tonumber(v[1])
  if level == nil then return cap end
  local ts = tonumber(v[2])
  if now > ts then level = level + (now - ts) * (limit / window) end
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
      redis.call('HSET', r.key, 'level', exact(avail[i]), 'ts', now)
      redis.call('PEXPIRE', r.key, bucket_ttl(r, avail[i]))
    end
  end
end
-- The window maths of rates/SlidingWindow: the oldest entries leave until enough has.
-- pending holds the entries this call has granted but not written yet (score, member).
local function sliding_wait(zkey, now, window, avail, need, limit, pending)
  local stored = redis.call('ZRANGE', zkey, 0, -1, 'WITHSCORES')
  local entries = {}
  for k = 1, #stored, 2 do entries[#entries + 1] = { tonumber(stored[k + 1]), amount_of(stored[k]) } end
  for k = 1, #pending, 2 do entries[#entries + 1] = { pending[k], amount_of(pending[k + 1]) } end
  table.sort(entries, function(x, y) return x[1] < y[1] end)
  local excess = need - avail
  for _, e in ipairs(entries) do
    excess = excess - e[2]
    if excess <= EPSILON * math.max(1, limit) then return math.max(1, e[1] + window - now) end
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
