// Sleeping that a stop request ends early: the one way imgpipe's threads
// wait for time to pass (back-offs, probes, intervals, rate limits), so that
// shutdown never waits for a sleep to run out.
//
// Thread-safety: may be called from any thread.
#pragma once

#include <chrono>
#include <stop_token>

namespace imgpipe {

// Sleeps until `deadline` or until `stop` is requested; false when stopped.
bool sleep_until(std::chrono::steady_clock::time_point deadline, std::stop_token stop);

// Sleeps for `duration` or until `stop` is requested; false when stopped.
bool sleep_for(std::chrono::steady_clock::duration duration, std::stop_token stop);

}  // namespace imgpipe
