-- hits.lua - wrk script for bench/tracking: requests the paths of a file in turn
--
-- Usage: wrk -tT ... -s hits.lua http://127.0.0.1:PORT -- PATHS_FILE T
--   PATHS_FILE holds one path a line (/o/TOKEN, /c/TOKEN), in the order to request them;
--   T is wrk's number of threads.
-- Each wrk thread builds every request once at start (a mail client's user agent, so crier
-- does not take the hits for prefetches) and then walks the list from its own starting point,
-- wrapping around; request() only returns a prebuilt string, so wrk spends little CPU on
-- Lua. done() prints one line, "bench-tracking {...}", with the counts the bench checks:
-- responses completed, responses with a status >= 400, socket errors, p99 latency.

local threads = 0

function setup(thread)
   thread:set("id", threads)
   threads = threads + 1
end

local reqs, n, i = {}, 0, 0

function init(args)
   local f = assert(io.open(args[1], "r"))
   local headers = {
      ["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
         .. "(KHTML, like Gecko) Thunderbird/115.0",
      ["Accept"] = "image/avif,image/webp,*/*",
   }
   for path in f:lines() do
      n = n + 1
      reqs[n] = wrk.format("GET", path, headers)
   end
   f:close()
   assert(n > 0, "no paths in " .. args[1])
   i = math.floor((id or 0) * n / (tonumber(args[2]) or 1)) -- threads start apart
end

function request()
   i = i + 1
   if i > n then
      i = 1
   end
   return reqs[i]
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'bench-tracking {"requests": %d, "duration_us": %d, "status_errors": %d, '
         .. '"connect": %d, "read": %d, "write": %d, "timeout": %d, '
         .. '"p50_us": %d, "p99_us": %d, "max_us": %d}\n',
      summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(99), latency.max))
end
