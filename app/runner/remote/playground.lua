#!lua name=playground
--[[
The run queue between app replicas and worker hosts, as one Redis function library (Redis 7).
Every change of a run's state happens here, atomically, so that across any number of replicas
and hosts a run ends with exactly one result, is never run twice, and none is lost.

A run's life:   queued --claim--> claimed --start--> running --finish--> done
                  ^                  |
                  +---- host lost ---+   (claimed, never started: queued again, same place)
A running run whose host is lost ends "crashed"; a result from a host that no longer holds the
run's lease (it was declared lost, or the run was stopped) is ignored.

Keys (standalone Redis; a DB number keeps deployments apart):
  pg:queue               ZSET  member "<seq:016>:<run id>", score = the start-time fair tag:
                               ZRANGE order is app/runner/supervisor/fairness.py's fair_order
  pg:seq                 the arrival counter (ties between equal tags: arrival order)
  pg:fair:virtual        the tag of the run started (claimed) last
  pg:fair:next           ZSET  limit key -> the tag its next run gets at least
  pg:run:<id>            HASH  state, owner (the replica's inbox), session (who may stop it),
                               key (whom it counts against: fair turns, the per-client rules),
                               reserved + hosted (its replica's kept-slots setting), jax (the
                               runtime id it needs; '' = any host's default), request,
                               member, tag, lease, host, cancel, *_us times
  pg:wake                LIST  one token per submitted run: idle hosts block on it
  pg:hosts               SET   host ids; pg:host:<h> (status JSON, expires: the heartbeat),
                               pg:host:<h>:runs (SET of run ids), pg:host:<h>:ctl (LIST)
  pg:slots               HASH  host id -> its slots (the cluster's total and free slots)
  pg:inbox:<replica>     LIST  JSON events for the runs a replica waits for
  pg:rate:<limit key>    ZSET  start times in the rate window
  pg:stats               HASH  counters
  pg:epoch               set once per Redis lifetime: a new value means the queue was lost
The Python side (app/runner/remote/keys.py) names the same keys.
]]

local VERSION = '@VERSION@' -- queue.py puts the hash of this file here
local P = 'pg:'
local QUEUE = P .. 'queue'
local SEQ = P .. 'seq'
local VIRTUAL = P .. 'fair:virtual'
local NEXT = P .. 'fair:next'
local WAKE = P .. 'wake'
local HOSTS = P .. 'hosts'
local SLOTS = P .. 'slots'
local STATS = P .. 'stats'
local EPOCH = P .. 'epoch'
local PAGE = 32 -- queued runs read at a time while looking for the next to start
local DONE_KEEP_MS = 60000 -- a finished run's marker: late results find "done"
local INBOX_KEEP_MS = 600000 -- an inbox nobody reads (its replica died) goes after this

local function run_key(id) return P .. 'run:' .. id end
local function host_key(h) return P .. 'host:' .. h end
local function host_runs(h) return P .. 'host:' .. h .. ':runs' end
local function host_ctl(h) return P .. 'host:' .. h .. ':ctl' end

-- Lua's tostring keeps 14 digits: microsecond clocks and tags are written out in full.
local function int(x) return string.format('%.0f', x) end
local function num(x) return string.format('%.17g', x) end

local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- Redis's lifetime, as the queue knows it: a replica that sees it change knows that the runs
-- it waits for were lost with a restarted (or flushed) server, even if its client reconnected
-- without an error.
local function epoch()
  local value = redis.call('GET', EPOCH)
  if not value then
    value = int(now_us())
    redis.call('SET', EPOCH, value)
  end
  return value
end

local function load_run(id)
  local flat = redis.call('HGETALL', run_key(id))
  if #flat == 0 then return nil end
  local run = {}
  for i = 1, #flat, 2 do run[flat[i]] = flat[i + 1] end
  return run
end

local function tell_owner(owner, message)
  redis.call('RPUSH', owner, message)
  redis.call('PEXPIRE', owner, INBOX_KEEP_MS)
end

local function tell_host(run, id)
  if run.host and run.host ~= '' then
    redis.call('RPUSH', host_ctl(run.host), cjson.encode({op = 'cancel', id = id}))
  end
end

-- The one way a run ends. result_json comes from the replica or host code (json.dumps of a
-- RunResult), never from the run itself, so it is spliced in as it is.
local function finish(id, run, result_json)
  local key = run_key(id)
  redis.call('HSET', key, 'state', 'done')
  redis.call('HDEL', key, 'request')
  redis.call('PEXPIRE', key, DONE_KEEP_MS)
  if run.member then redis.call('ZREM', QUEUE, run.member) end
  if run.host and run.host ~= '' then redis.call('SREM', host_runs(run.host), id) end
  tell_owner(run.owner, '{"event":"result","id":"' .. id .. '","result":' .. result_json .. '}')
  redis.call('HINCRBY', STATS, 'finished', 1)
end

-- Back to the queue at the place it had (its tag and arrival number are kept), for a run
-- claimed by a host that never started it.
local function requeue(id, run)
  redis.call('HSET', run_key(id), 'state', 'queued', 'host', '', 'lease', '')
  redis.call('ZADD', QUEUE, run.tag, run.member)
  redis.call('RPUSH', WAKE, '1')
  redis.call('HINCRBY', STATS, 'requeued', 1)
end

-- -> live hosts, runs all hosts hold (claimed or running), the live hosts' slots, and how many
-- of those are free
local function tally()
  local live, held, total, free = 0, 0, 0, 0
  for _, host in ipairs(redis.call('SMEMBERS', HOSTS)) do
    local runs = redis.call('SCARD', host_runs(host))
    held = held + runs
    if redis.call('EXISTS', host_key(host)) == 1 then
      local slots = tonumber(redis.call('HGET', SLOTS, host)) or 0
      live, total, free = live + 1, total + slots, free + math.max(0, slots - runs)
    end
  end
  return live, held, total, free
end

-- The per-client rules of app/runner/supervisor/client_limits.py, over the whole cluster.

-- queue_full: the runs of one limit key waiting (the queue is at most PLAYGROUND_QUEUE_SIZE)
local function queued_runs_of(key)
  local count = 0
  for _, member in ipairs(redis.call('ZRANGE', QUEUE, 0, -1)) do
    if redis.call('HGET', run_key(string.sub(member, 18)), 'key') == key then
      count = count + 1
    end
  end
  return count
end

-- running_by_client: limit key -> runs executing (claimed or running) on live hosts
local function executing_by_key()
  local counts = {}
  for _, host in ipairs(redis.call('SMEMBERS', HOSTS)) do
    if redis.call('EXISTS', host_key(host)) == 1 then
      for _, id in ipairs(redis.call('SMEMBERS', host_runs(host))) do
        local key = redis.call('HGET', run_key(id), 'key')
        if key and key ~= '' then counts[key] = (counts[key] or 0) + 1 end
      end
    end
  end
  return counts
end

-- reserved_slots: the setting, or when hosted a quarter of the slots (at least one when there
-- are two or more); never all of them
local function reserved_slots(wanted, hosted, total)
  if wanted == 0 and hosted and total > 1 then wanted = math.max(1, math.floor(total / 4)) end
  return math.max(0, math.min(wanted, total - 1))
end

-- fairness.FairShare.started: the clock moves to the started run's tag; sessions with nothing
-- due any more are forgotten; past max_sessions, sessions one step ahead go too.
local function fair_started(tag, max_sessions)
  local virtual = tonumber(redis.call('GET', VIRTUAL) or '0')
  if tag > virtual then
    virtual = tag
    redis.call('SET', VIRTUAL, num(virtual))
  end
  redis.call('ZREMRANGEBYSCORE', NEXT, '-inf', num(virtual))
  local excess = redis.call('ZCARD', NEXT) - max_sessions
  if excess > 0 then
    local ahead = redis.call('ZRANGEBYSCORE', NEXT, '-inf', num(virtual + 1), 'LIMIT', 0, excess)
    if #ahead > 0 then redis.call('ZREM', NEXT, unpack(ahead)) end
  end
end

-- fairness.FairShare.withdrawn: a queued run stopped before it started gives its client the
-- turn back if it was the client's latest, so stopping and running again does not push it behind.
local function fair_withdrawn(key, tag)
  if key ~= '' and tonumber(redis.call('ZSCORE', NEXT, key)) == tag + 1 then
    redis.call('ZADD', NEXT, num(tag), key)
  end
end

-- submit(id, owner, session, key, request_json, queue_size, fair, ttl_ms, stream,
--        queued_per_client, reserved, hosted, jax)
-- session: who may stop the run; key: whom it counts against (its fair turns, the per-client
-- rules), both hashed ids; stream: '1' when its owner wants the output as it comes;
-- queued_per_client: at most this many of key's runs wait (0: no cap); reserved, hosted: the
-- replica's kept-slots setting, applied when the run is claimed; jax: the JAX runtime id it needs
-- ('': the default of whichever host claims it)
-- -> {"queued", position, member, epoch} | {"busy", waiting, running} | {"full"} | {"exists"}
local function submit(_, args)
  local id, owner, session, key, request = args[1], args[2], args[3], args[4], args[5]
  local queue_size, fair, ttl_ms = tonumber(args[6]), args[7] == '1', tonumber(args[8])
  local stream, cap, reserved, hosted = args[9], tonumber(args[10]), args[11], args[12]
  local jax = args[13] or ''
  local run = load_run(id)
  if run then
    -- The same replica again (its call was retried after a lost reply): already taken.
    if run.owner == owner and run.state ~= 'done' then
      local rank = redis.call('ZRANK', QUEUE, run.member)
      return {'queued', rank and rank + 1 or 0, run.member, epoch()}
    end
    return {'exists'}
  end
  local waiting = redis.call('ZCARD', QUEUE)
  if waiting >= queue_size then
    redis.call('HINCRBY', STATS, 'busy', 1)
    local _, held = tally()
    return {'busy', waiting, held}
  end
  if key ~= '' and cap > 0 and queued_runs_of(key) >= cap then
    redis.call('HINCRBY', STATS, 'queue_full', 1)
    return {'full'}
  end
  local tag = tonumber(redis.call('GET', VIRTUAL) or '0')
  if fair and key ~= '' then -- fairness.FairShare.tag
    local due = tonumber(redis.call('ZSCORE', NEXT, key) or '0')
    if due > tag then tag = due end
    redis.call('ZADD', NEXT, num(tag + 1), key)
  end
  local member = string.format('%016d', redis.call('INCR', SEQ)) .. ':' .. id
  redis.call('HSET', run_key(id), 'state', 'queued', 'owner', owner, 'session', session,
    'key', key, 'reserved', reserved, 'hosted', hosted, 'jax', jax, 'stream', stream, 'request', request,
    'member', member, 'tag', num(tag), 'enqueued_us', int(now_us()))
  redis.call('PEXPIRE', run_key(id), ttl_ms)
  redis.call('ZADD', QUEUE, num(tag), member)
  redis.call('RPUSH', WAKE, '1')
  redis.call('LTRIM', WAKE, -(waiting + 1), -1) -- no more tokens than queued runs
  redis.call('HINCRBY', STATS, 'submitted', 1)
  return {'queued', redis.call('ZRANK', QUEUE, member) + 1, member, epoch()}
end

-- client_limits.next_to_start over the queue, read a page at a time: -> the member, tag and id
-- of the first run in fair order that may take a slot now (its client has none executing, or
-- more than the kept slots are free) and that the claiming host can run (it has the run's JAX
-- runtime: `has`, id -> true), or nil. Entries whose record expired are dropped. A run skipped
-- for its version keeps its place for a host that has it.
local function next_to_start(total, free, has)
  local executing -- limit key -> runs executing, counted once some run needs it
  local stale, found, rank = {}, nil, 0
  while not found do
    local page = redis.call('ZRANGE', QUEUE, rank, rank + PAGE - 1, 'WITHSCORES')
    if #page == 0 then break end
    for i = 1, #page, 2 do
      local id = string.sub(page[i], 18)
      local state, key, reserved, hosted, jax = unpack(redis.call('HMGET', run_key(id),
        'state', 'key', 'reserved', 'hosted', 'jax'))
      if state ~= 'queued' then
        table.insert(stale, page[i])
      elseif not jax or jax == '' or has[jax] then
        local kept = reserved_slots(tonumber(reserved) or 0, hosted == '1', total)
        local may = key == '' or free > kept
        if not may then
          executing = executing or executing_by_key()
          may = not executing[key]
        end
        if may then
          found = {page[i], tonumber(page[i + 1]), id}
          break
        end
      end
    end
    rank = rank + PAGE
  end
  for _, member in ipairs(stale) do redis.call('ZREM', QUEUE, member) end
  return found
end

-- claim(host, lease, max_sessions, runtime id...) -> {id, request_json, queued_us, stream} | nil
-- Only a live host claims, and it asks only when it has a free slot; it gets only runs whose
-- JAX runtime is among the ids it names (or that need none).
local function claim(_, args)
  local host, lease, max_sessions = args[1], args[2], tonumber(args[3])
  if redis.call('EXISTS', host_key(host)) == 0 then return false end
  local has = {}
  for i = 4, #args do has[args[i]] = true end
  local _, _, total, free = tally()
  -- At least this host's own slot is free, whatever Redis counted.
  local found = next_to_start(total, math.max(free, 1), has)
  if not found then return false end
  local member, tag, id = unpack(found)
  redis.call('ZREM', QUEUE, member)
  fair_started(tag, max_sessions)
  local now = now_us()
  local request, enqueued_us, stream = unpack(redis.call('HMGET', run_key(id),
    'request', 'enqueued_us', 'stream'))
  redis.call('HSET', run_key(id), 'state', 'claimed', 'host', host, 'lease', lease,
    'claimed_us', int(now))
  redis.call('SADD', host_runs(host), id)
  return {id, request, int(now - tonumber(enqueued_us)), stream or '0'}
end

-- start(id, lease, cancelled_json) -> 1: run it; 0: not yours any more (or stopped meanwhile)
local function start(_, args)
  local id, lease = args[1], args[2]
  local run = load_run(id)
  if not run or run.state ~= 'claimed' or run.lease ~= lease then return 0 end
  if run.cancel == '1' then
    finish(id, run, args[3])
    return 0
  end
  redis.call('HSET', run_key(id), 'state', 'running', 'started_us', int(now_us()))
  tell_owner(run.owner, '{"event":"running","id":"' .. id .. '"}')
  return 1
end

-- emit(id, lease, event_json...) -> 1 when the events went to the run's owner
local function emit(_, args)
  local id, lease = args[1], args[2]
  local run = load_run(id)
  if not run or run.state ~= 'running' or run.lease ~= lease then return 0 end
  for i = 3, #args do tell_owner(run.owner, args[i]) end
  return 1
end

-- finish(id, lease, result_json) -> 1: the run's result; 0: late (ignored)
local function host_finish(_, args)
  local id, lease = args[1], args[2]
  local run = load_run(id)
  if not run or run.state == 'done' or run.state == 'queued' or run.lease ~= lease then
    redis.call('HINCRBY', STATS, 'late_results', 1)
    return 0
  end
  finish(id, run, args[3])
  return 1
end

-- expire(id, result_json): a queued run's wait is over (the replica's clock) -> 1 if it was
local function expire(_, args)
  local run = load_run(args[1])
  if not run or run.state ~= 'queued' then return 0 end
  finish(args[1], run, args[2])
  return 1
end

-- cancel(id, session, cancelled_json) -> 1 when the run is found and being stopped
local function cancel(_, args)
  local id, session = args[1], args[2]
  local run = load_run(id)
  if not run or run.state == 'done' then return 0 end
  if session ~= '' and run.session ~= session then return 0 end -- only its own session
  if run.state == 'queued' then
    fair_withdrawn(run.key, tonumber(run.tag))
    finish(id, run, args[3])
    return 1
  end
  -- Claimed: start() sees the flag. Running: its host stops it; the result says "cancelled".
  redis.call('HSET', run_key(id), 'cancel', '1')
  tell_host(run, id)
  return 1
end

-- abandon(id, result_json): the replica ends a run itself (no answer in time, or it gave up
-- while Redis was away); a host still running it is told to stop. -> 1 if it was in flight
local function abandon(_, args)
  local id = args[1]
  local run = load_run(id)
  if not run or run.state == 'done' then return 0 end
  tell_host(run, id)
  finish(id, run, args[2])
  return 1
end

-- reap(crashed_json, cancelled_json) -> {requeued, crashed, live hosts, epoch}
-- A host whose heartbeat key expired is lost: what it claimed but never started is queued
-- again; what it was running ends crashed.
local function reap(_, args)
  local requeued, crashed, live = 0, 0, 0
  for _, host in ipairs(redis.call('SMEMBERS', HOSTS)) do
    if redis.call('EXISTS', host_key(host)) == 1 then
      live = live + 1
    else
      for _, id in ipairs(redis.call('SMEMBERS', host_runs(host))) do
        local run = load_run(id)
        if run and run.state == 'claimed' and run.cancel == '1' then
          finish(id, run, args[2])
        elseif run and run.state == 'claimed' then
          requeue(id, run)
          requeued = requeued + 1
        elseif run and run.state == 'running' then
          finish(id, run, args[1])
          crashed = crashed + 1
          redis.call('HINCRBY', STATS, 'host_lost_runs', 1)
        end
      end
      redis.call('DEL', host_runs(host), host_ctl(host))
      redis.call('HDEL', SLOTS, host)
      redis.call('SREM', HOSTS, host)
      redis.call('HINCRBY', STATS, 'hosts_lost', 1)
    end
  end
  return {requeued, crashed, live, epoch()}
end

-- heartbeat(host, slots, status_json, ttl_ms, stale_us, lost_json, [id, lease]...) -> ids lost
-- Renews the host's key (its liveness) and its slots (what claims count the cluster's free slots
-- by), reconciles what it holds with what Redis says: the ids it runs whose lease is gone
-- (declared lost meanwhile, or abandoned) come back, to be stopped; runs Redis gives it that it
-- does not know (a claim whose reply was lost) are queued again, or crashed if they had started.
local function heartbeat(_, args)
  local host, slots, status = args[1], args[2], args[3]
  local ttl_ms, stale_us, lost_json = tonumber(args[4]), tonumber(args[5]), args[6]
  redis.call('SET', host_key(host), status, 'PX', ttl_ms)
  redis.call('HSET', SLOTS, host, slots)
  redis.call('SADD', HOSTS, host)
  local known, lost = {}, {}
  for i = 7, #args, 2 do
    local id, lease = args[i], args[i + 1]
    known[id] = true
    local run = load_run(id)
    if not run or run.state == 'done' or run.lease ~= lease then table.insert(lost, id) end
  end
  local now = now_us()
  for _, id in ipairs(redis.call('SMEMBERS', host_runs(host))) do
    if not known[id] then
      local run = load_run(id)
      if not run or run.state == 'done' then
        redis.call('SREM', host_runs(host), id)
      elseif run.state == 'claimed' and now - tonumber(run.claimed_us) > stale_us then
        requeue(id, run)
        redis.call('SREM', host_runs(host), id)
      elseif run.state == 'running' and now - tonumber(run.started_us) > stale_us then
        finish(id, run, lost_json)
      end
    end
  end
  return lost
end

-- rate(key, per_window, window_us) -> "0": admitted now; else the microseconds to wait
-- A sliding window, as app/runner/admission.RateLimiter: at most N starts in any window.
local function rate(_, args)
  local key, per, window_us = P .. 'rate:' .. args[1], tonumber(args[2]), tonumber(args[3])
  local now = now_us()
  redis.call('ZREMRANGEBYSCORE', key, '-inf', int(now - window_us))
  local count = redis.call('ZCARD', key)
  if count >= per then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return int(tonumber(oldest[2]) + window_us - now)
  end
  redis.call('ZADD', key, int(now), int(now) .. ':' .. count)
  redis.call('PEXPIRE', key, math.ceil(window_us / 1000))
  return '0'
end

-- snapshot() -> {now_us, queued, live hosts, [host, status_json, pttl_ms, runs]...}
local function snapshot(_, _)
  local live = tally()
  local out = {int(now_us()), redis.call('ZCARD', QUEUE), live}
  for _, host in ipairs(redis.call('SMEMBERS', HOSTS)) do
    local status = redis.call('GET', host_key(host))
    if status then
      table.insert(out, host)
      table.insert(out, status)
      table.insert(out, redis.call('PTTL', host_key(host)))
      table.insert(out, redis.call('SCARD', host_runs(host)))
    end
  end
  return out
end

redis.register_function('pg_submit', submit)
redis.register_function('pg_claim', claim)
redis.register_function('pg_start', start)
redis.register_function('pg_emit', emit)
redis.register_function('pg_finish', host_finish)
redis.register_function('pg_expire', expire)
redis.register_function('pg_cancel', cancel)
redis.register_function('pg_abandon', abandon)
redis.register_function('pg_reap', reap)
redis.register_function('pg_heartbeat', heartbeat)
redis.register_function('pg_rate', rate)
redis.register_function{function_name = 'pg_snapshot', callback = snapshot,
  flags = {'no-writes'}}
redis.register_function{function_name = 'pg_version', callback = function() return VERSION end,
  flags = {'no-writes'}}
