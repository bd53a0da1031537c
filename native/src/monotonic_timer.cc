#include "monotonic_timer.h"

#include <errno.h>
#include <sys/timerfd.h>
#include <time.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "system_error.h"

namespace kubelvs {

namespace {

constexpr int64_t kNanosecondsPerSecond = 1'000'000'000;
constexpr double kMaxDeadlineMs = 9e12;

}  // namespace

timespec MonotonicNow() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);  // cannot fail for CLOCK_MONOTONIC with a valid pointer
  return now;
}

double ToMilliseconds(const timespec& time) {
  return static_cast<double>(time.tv_sec) * 1e3 + static_cast<double>(time.tv_nsec) / 1e6;
}

timespec FromMilliseconds(double milliseconds) {
  const auto nanoseconds = static_cast<int64_t>(std::llround(milliseconds * 1e6));
  timespec time{};
  time.tv_sec = static_cast<time_t>(nanoseconds / kNanosecondsPerSecond);
  time.tv_nsec = static_cast<long>(nanoseconds % kNanosecondsPerSecond);
  return time;
}

Napi::Value MonotonicNowMs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ToMilliseconds(MonotonicNow()));
}

Napi::Function MonotonicTimer::DefineClass(Napi::Env env) {
  std::vector<PropertyDescriptor> properties = {
      InstanceMethod("arm", &MonotonicTimer::Arm),
      InstanceMethod("disarm", &MonotonicTimer::Disarm),
  };
  AddCommonMethods(properties);
  return ObjectWrap<MonotonicTimer>::DefineClass(env, "MonotonicTimer", properties);
}

MonotonicTimer::MonotonicTimer(const Napi::CallbackInfo& info) : PolledSocket<MonotonicTimer>(info) {
  kind_ = "timer";
  description_ = "timerfd (CLOCK_MONOTONIC)";
  fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd_ < 0) throw SystemError(info.Env(), errno, "timerfd_create", description_);
}

Napi::Value MonotonicTimer::Arm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* where = "arm(deadlineMs)";
  const int fd = RequireOpen(env, where);
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, std::string(where) + ": deadlineMs must be a number");
  const double deadline = info[0].As<Napi::Number>().DoubleValue();
  // The upper bound keeps the deadline in nanoseconds within int64 (it is ~290 years of uptime).
  if (!std::isfinite(deadline) || deadline < 0 || deadline > kMaxDeadlineMs) {
    throw Napi::RangeError::New(env, std::string(where) + ": deadlineMs must be a finite number of milliseconds >= 0 on the " +
                                         "monotonicNowMs() clock, got " + info[0].ToString().Utf8Value());
  }
  itimerspec setting{};
  setting.it_value = FromMilliseconds(deadline);
  // An all-zero it_value would disarm the timer instead; 1 ns is long past, so it fires at once.
  if (setting.it_value.tv_sec == 0 && setting.it_value.tv_nsec == 0) setting.it_value.tv_nsec = 1;
  // Setting the timer also clears an expiry not yet read: re-arming replaces, never fires twice.
  if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &setting, nullptr) < 0) {
    throw SystemError(env, errno, "timerfd_settime", description_ + " deadline " + std::to_string(deadline) + " ms");
  }
  return env.Undefined();
}

Napi::Value MonotonicTimer::Disarm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) return env.Undefined();  // a closed timer has nothing to cancel
  const itimerspec off{};
  if (timerfd_settime(fd_, 0, &off, nullptr) < 0) throw SystemError(env, errno, "timerfd_settime", description_ + " disarm");
  return env.Undefined();
}

void MonotonicTimer::OnReadable() {
  uint64_t expirations = 0;
  ssize_t bytes;
  do {
    bytes = read(fd_, &expirations, sizeof expirations);
  } while (bytes < 0 && errno == EINTR);
  if (bytes < 0) {
    // Re-armed or disarmed after the expiry woke the loop: that expiry was cancelled.
    if (errno == EAGAIN) return;
    Napi::Error error = SystemError(Env(), errno, "read", description_);
    EmitError(error);
    StopPolling();
    return;
  }
  Emit(onData_, {});
}

}  // namespace kubelvs
