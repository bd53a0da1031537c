// MonotonicTimer: a one-shot timer on CLOCK_MONOTONIC with an absolute deadline and nanosecond
// resolution (a timerfd watched on the Node event loop). setTimeout rounds to whole milliseconds
// and measures from libuv's cached loop time, so it fires 1-2 ms late on average; VRRP's Skew_Time
// and Master_Down_Interval need better than that.
//
// JS: new MonotonicTimer()
//     .start(onFire(), onError(error))  begin watching; keeps the process alive like a socket
//     .arm(deadlineMs)                  fire once at deadlineMs on the monotonicNowMs() clock
//                                       (a deadline in the past fires at once); re-arming replaces
//     .disarm()                         cancel; a pending expiry is not delivered
//     .stop() / .close() / .ref() / .unref() / .closed
//     monotonicNowMs()                  clock_gettime(CLOCK_MONOTONIC) in ms — process.hrtime's
//                                       clock; performance.now() and Date.now() are other clocks
#pragma once

#include "polled_socket.h"

namespace kubelvs {

class MonotonicTimer : public PolledSocket<MonotonicTimer> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit MonotonicTimer(const Napi::CallbackInfo& info);

  // Called by PolledSocket when the timerfd is readable: the deadline has passed.
  void OnReadable();

 private:
  Napi::Value Arm(const Napi::CallbackInfo& info);
  Napi::Value Disarm(const Napi::CallbackInfo& info);
};

// monotonicNowMs(): CLOCK_MONOTONIC in milliseconds (a double, sub-microsecond precision).
Napi::Value MonotonicNowMs(const Napi::CallbackInfo& info);

// CLOCK_MONOTONIC now, as a timespec and in milliseconds.
timespec MonotonicNow();
double ToMilliseconds(const timespec& time);

// Milliseconds (>= 0) to a timespec, rounded to the nearest nanosecond.
timespec FromMilliseconds(double milliseconds);

}  // namespace kubelvs
