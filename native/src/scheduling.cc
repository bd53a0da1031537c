#include "scheduling.h"

#include <errno.h>
#include <sched.h>

#include <string>

#include "system_error.h"

namespace kubelvs {

Napi::Value SetRealtimePriority(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* where = "setRealtimePriority(priority)";
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, std::string(where) + ": priority must be a number");
  const double requested = info[0].As<Napi::Number>().DoubleValue();
  const int minimum = sched_get_priority_min(SCHED_FIFO);
  const int maximum = sched_get_priority_max(SCHED_FIFO);
  if (requested != static_cast<int>(requested) || (requested != 0 && (requested < minimum || requested > maximum))) {
    throw Napi::RangeError::New(env, std::string(where) + ": priority must be 0 (ordinary scheduling) or an integer in " +
                                         std::to_string(minimum) + ".." + std::to_string(maximum));
  }
  const int priority = static_cast<int>(requested);
  sched_param param{};
  param.sched_priority = priority;
  const int policy = priority == 0 ? SCHED_OTHER : (SCHED_FIFO | SCHED_RESET_ON_FORK);
  // pid 0: the calling thread only (sched_setscheduler acts on one thread), i.e. the event loop's
  if (sched_setscheduler(0, policy, &param) < 0) {
    const std::string object = priority == 0 ? "SCHED_OTHER" : "SCHED_FIFO priority " + std::to_string(priority);
    throw SystemError(env, errno, "sched_setscheduler", object + " for the event-loop thread");
  }
  return env.Undefined();
}

}  // namespace kubelvs
