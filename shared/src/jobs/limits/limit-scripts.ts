import { LuaScript } from '../../redis/lua-script.js';

/*
 * Lua scripts of the concurrency / rate limits (see limit-gate.ts for the design). Every key a
 * script touches is passed in KEYS and lives under the job's queue's keys, so on Redis Cluster
 * they share the queue's slot. Time is Redis' own clock (TIME), so every worker process measures
 * leases and rate windows on one clock.
 *
 * A limit *state* (one per handler, limit kind and key) is four keys: `run` (ZSET holder → lease
 * expiry), `starts` (ZSET start → instant, the sliding rate window), `parked` (LIST of held-back
 * job ids, oldest first) and `pause` (set by RateLimitedError, expires by itself). The queue's
 * `due` index (ZSET state → when to look at it again) lists the states that have parked jobs.
 */

const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Whether state (run, starts, pause, limit, max, dur) has room now: returns room (how many more
 * may start, capped at `want`) and, when 0, the instant it may have room again.
 */
const ROOM = `
local function room(run, starts, pause, limit, max, dur, now, want)
  local pttl = redis.call('PTTL', pause)
  if pttl > 0 then return 0, now + pttl end
  if limit > 0 then
    redis.call('ZREMRANGEBYSCORE', run, '-inf', now)
    local free = limit - redis.call('ZCARD', run)
    if free < want then want = free end
    if want <= 0 then
      local first = redis.call('ZRANGE', run, 0, 0, 'WITHSCORES')
      return 0, tonumber(first[2]) or (now + 1000)
    end
  end
  if max > 0 then
    redis.call('ZREMRANGEBYSCORE', starts, '-inf', now - dur)
    local free = max - redis.call('ZCARD', starts)
    if free < want then want = free end
    if want <= 0 then
      local first = redis.call('ZRANGE', starts, 0, 0, 'WITHSCORES')
      return 0, (tonumber(first[2]) or now) + dur
    end
  end
  return want, nil
end`;

/**
 * Wakes as many parked jobs of a state as it has room for: each still-delayed one gets a delayed
 * score in the past, and the queue's marker tells a blocked BullMQ worker to look, so BullMQ's own
 * moveToActive promotes them (ids of jobs removed meanwhile are dropped). A job parked by the gate
 * but not yet moved to delayed by its worker (still marked \`limited\`, one round trip) cannot be
 * woken yet: it stays at the head and the state is due again in 100 ms, so no wake-up is lost.
 * Leaves the state in the due index at the instant to look again, or takes it out when nothing
 * is parked. Returns ms until that instant, or -1.
 */
const WAKE = `
local function wake(idx, delayed, marker, run, starts, parked, pause, limit, max, dur, member, now, jobPrefix, field)
  local n = redis.call('LLEN', parked)
  if n == 0 then redis.call('ZREM', idx, member) return -1 end
  local want, due = room(run, starts, pause, limit, max, dur, now, math.min(n, 200))
  local woken = 0
  local aside = {}
  while woken < want do
    local id = redis.call('LPOP', parked)
    if not id then break end
    if redis.call('ZSCORE', delayed, id) then
      woken = woken + 1
      redis.call('ZADD', delayed, woken, id)
    elseif redis.call('HGET', jobPrefix .. id, field) == 'limited' then
      aside[#aside + 1] = id
    end
  end
  for i = #aside, 1, -1 do redis.call('LPUSH', parked, aside[i]) end
  if woken > 0 then redis.call('ZADD', marker, 0, '0') end
  if redis.call('LLEN', parked) == 0 then redis.call('ZREM', idx, member) return -1 end
  if #aside > 0 then due = now + 100
  -- Woken jobs may not all start (another job may take the room first): look again soon.
  elseif not due then due = now + 1000 end
  redis.call('ZADD', idx, due, member)
  return due - now
end`;

/**
 * GATE: may this run start? KEYS: jobHash, due index, then per state run, starts, parked, pause.
 * ARGV: holder, leaseTtlMs, mark field, mark value, state count, job id, then per state limit,
 * max, dur, index member. Checks every state first, then takes a slot (lease) and a start in each:
 * {0, 0}. Held back by state s: the job is parked on it (its id pushed onto the parked list, the
 * state due in the index by when it may have room, the job's put-back mark set, which also tells
 * WAKE that its worker is about to move it to delayed): {s, ms until it may have room}.
 */
export const gateScript = new LuaScript(`${NOW}
${ROOM}
local n = tonumber(ARGV[5])
for s = 1, n do
  local k = 2 + (s - 1) * 4
  local a = 6 + (s - 1) * 4
  local want, due = room(KEYS[k + 1], KEYS[k + 2], KEYS[k + 4], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), now, 1)
  if want < 1 then
    if redis.call('EXISTS', KEYS[1]) == 0 then return {s, due - now} end
    redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
    redis.call('RPUSH', KEYS[k + 3], ARGV[6])
    redis.call('ZADD', KEYS[2], 'LT', due, ARGV[a + 4])
    return {s, due - now}
  end
end
local ttl = tonumber(ARGV[2])
for s = 1, n do
  local k = 2 + (s - 1) * 4
  local a = 6 + (s - 1) * 4
  if tonumber(ARGV[a + 1]) > 0 then
    redis.call('ZADD', KEYS[k + 1], now + ttl, ARGV[1])
    redis.call('PEXPIRE', KEYS[k + 1], ttl * 2)
  end
  if tonumber(ARGV[a + 2]) > 0 then
    redis.call('ZADD', KEYS[k + 2], now, ARGV[1])
    redis.call('PEXPIRE', KEYS[k + 2], tonumber(ARGV[a + 3]) + 1000)
  end
end
return {0, 0}`);

/**
 * PARK: a job put back by RateLimitedError, already moved to delayed (far ahead), joins its
 * state's parked list; the state is woken at once in case room appeared meanwhile.
 * KEYS: idx, delayed, marker, run, starts, parked, pause. ARGV: jobId, limit, max, dur, member,
 * job key prefix, mark field.
 */
export const parkScript = new LuaScript(`${NOW}
${ROOM}
${WAKE}
redis.call('RPUSH', KEYS[6], ARGV[1])
return wake(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], now, ARGV[6], ARGV[7])`);

/**
 * RELEASE (holder given) or WAKE (holder ''): frees the holder's slot and wakes parked jobs.
 * KEYS as PARK. ARGV: holder, limit, max, dur, member, job key prefix, mark field.
 */
export const releaseScript = new LuaScript(`${NOW}
${ROOM}
${WAKE}
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[4], ARGV[1]) end
return wake(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], now, ARGV[6], ARGV[7])`);

/** RENEW: extends the holder's lease if it still holds it (1), else 0. KEYS: run. ARGV: holder, ttlMs. */
export const renewScript = new LuaScript(`${NOW}
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 1`);

/** PAUSE: holds the state's jobs back for ARGV[1] ms (never shortening a longer pause). KEYS: pause. */
export const pauseScript = new LuaScript(`
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then redis.call('SET', KEYS[1], '1', 'PX', ms) end
return 1`);

/** DUE: up to ARGV[1] states due now, and ms until the next one after them (-1: none). KEYS: idx. */
export const dueScript = new LuaScript(`${NOW}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local nxt = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
local inMs = -1
if nxt[2] then inMs = tonumber(nxt[2]) - now end
return {due, inMs}`);
