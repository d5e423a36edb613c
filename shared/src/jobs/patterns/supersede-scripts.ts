import { LuaScript } from '../../redis/lua-script.js';

// The "latest" pointer of a superseding key holds `<stamp> <jobId>`, or `<stamp> ` (empty id) for
// a while after that job finished or was cancelled. The stamp is the job's enqueue order stamp
// (INCR of the queue's sequence key, taken before `queue.add`). Every change to the pointer is one
// of these scripts, so it is compared and written in one step: the pointer only ever moves to a
// larger stamp, whatever order the enqueuers' calls reach Redis in.

/** Parses a pointer: stamp (-1 if none), stamp as written, job id ('' if none). */
const PARSE = `
local function parse(v)
  if not v then return -1, '', '' end
  local s, id = string.match(v, '^(%d+) (.*)$')
  if s then return tonumber(s), s, id end
  -- A pointer written before order stamps existed: a bare job id, older than any stamped job.
  return 0, '0', v
end
`;

/**
 * Hands the key over to a job just added. KEYS: pointer, the job's hash. ARGV: job id, the stamp
 * the enqueuer took, pointer TTL ms, tombstone TTL ms, BullMQ's job key prefix (`<prefix>:<queue>:`).
 * The stamp compared is the one stored in the job (not ARGV) whenever the job exists: with a
 * custom job id or a dedupe hit, `add` returns an existing job, which keeps its own stamp.
 * Returns {outcome, other id, state of the job to retire}: outcome 1 = this job is the latest, the
 * other (if any) is the one it replaces and is to be retired; 0 = a newer job (the other) already
 * holds the key: this one lost and is to be retired; 2 = the job carries no stamp (an older or
 * foreign job returned by a dedupe hit): nothing changed.
 * The state (`running`: holds its BullMQ lock; `pending`: exists, not finished, no lock; `finished`;
 * `gone`) is read here, in the same step, so the enqueuer can abort a running job at once instead
 * of asking BullMQ for its state first (one round trip less on the abort's path). Those two keys
 * are built in the script, as BullMQ's own scripts do; under a `{…}` prefix they share the slot.
 */
export const handOverScript = new LuaScript(`${PARSE}
local curStamp, curText, curId = parse(redis.call('GET', KEYS[1]))
local fields = redis.call('HMGET', KEYS[2], 'data', 'finishedOn')
local stampText = ARGV[2]
if fields[1] then
  stampText = string.match(fields[1], '^{"supersedeSeq":(%d+)')
  if not stampText then
    local ok, data = pcall(cjson.decode, fields[1])
    if ok and type(data) == 'table' and type(data.supersedeSeq) == 'number' then stampText = string.format('%d', data.supersedeSeq) end
  end
  if not stampText then return {2, '', 'gone'} end
end
local function stateOf(id)
  if id == '' then return 'gone' end
  if redis.call('EXISTS', ARGV[5] .. id .. ':lock') == 1 then return 'running' end
  local job = redis.call('HMGET', ARGV[5] .. id, 'timestamp', 'finishedOn')
  if not job[1] then return 'gone' end
  if job[2] then return 'finished' end
  return 'pending'
end
local stamp = tonumber(stampText)
if curStamp > stamp then return {0, curId, stateOf(ARGV[1])} end
if fields[1] and not fields[2] then
  redis.call('SET', KEYS[1], stampText .. ' ' .. ARGV[1], 'PX', ARGV[3])
else
  -- It already finished (or was removed) before this handover: keep only its stamp, so an older
  -- enqueue still on its way cannot take the key, and let no pointer name a finished job.
  redis.call('SET', KEYS[1], stampText .. ' ', 'PX', ARGV[4])
end
if curId == ARGV[1] then return {1, '', 'gone'} end
return {1, curId, stateOf(curId)}
`);

/**
 * Run start of a stamped job. KEYS: pointer. ARGV: job id, its stamp, pointer TTL ms.
 * Returns {0, newer id} if a job with a larger stamp holds the key (this one is superseded; the id
 * is '' when that newer job has already finished or was cancelled). Otherwise {1, ''}, and the
 * pointer's TTL restarts if it names this job, or the pointer is set to this job if it names none
 * (it lapsed, or only a finished job's stamp is left). A pointer to an older job is left alone:
 * this job's own handover has not run yet and will deal with that job.
 */
export const claimAtStartScript = new LuaScript(`${PARSE}
local curStamp, curText, curId = parse(redis.call('GET', KEYS[1]))
if curStamp > tonumber(ARGV[2]) then return {0, curId} end
if curId == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
elseif curId == '' then
  redis.call('SET', KEYS[1], ARGV[2] .. ' ' .. ARGV[1], 'PX', ARGV[3])
end
return {1, ''}
`);

/**
 * A job is done for good (finished, or cancelled before it started). KEYS: pointer. ARGV: job id,
 * tombstone TTL ms. If the pointer names this job, only its stamp is kept, for the tombstone TTL.
 * Returns 1 if the pointer named the job, else 0.
 */
export const releaseScript = new LuaScript(`${PARSE}
local curStamp, curText, curId = parse(redis.call('GET', KEYS[1]))
if curId ~= ARGV[1] or curId == '' then return 0 end
if curStamp > 0 then
  redis.call('SET', KEYS[1], curText .. ' ', 'PX', ARGV[2])
else
  redis.call('DEL', KEYS[1])
end
return 1
`);
