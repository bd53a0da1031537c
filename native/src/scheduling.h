// Real-time scheduling for the calling thread, like keepalived's vrrp_rt_priority: a VRRP Master at
// 10 ms adverts or a Backup's Skew_Time must not wait behind a busy node's ordinary processes.
#pragma once

#include <napi.h>

namespace kubelvs {

// setRealtimePriority(priority): SCHED_FIFO at 1..99 for the calling (main) thread, with
// SCHED_RESET_ON_FORK so that threads and processes it creates (libuv's pool, V8's helpers, notify
// scripts, health checks) run as ordinary tasks; 0 puts it back to SCHED_OTHER.
Napi::Value SetRealtimePriority(const Napi::CallbackInfo& info);

}  // namespace kubelvs
