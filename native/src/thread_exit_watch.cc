#include "thread_exit_watch.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "system_error.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
// PIDFD_THREAD (Linux 6.9) is O_EXCL.
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

namespace kubelvs {

Napi::Function ThreadExitWatch::DefineClass(Napi::Env env) {
  std::vector<PropertyDescriptor> properties;
  AddCommonMethods(properties);
  properties.push_back(InstanceAccessor("threadLevel", &ThreadExitWatch::ThreadLevel, nullptr));
  return ObjectWrap<ThreadExitWatch>::DefineClass(env, "ThreadExitWatch", properties);
}

ThreadExitWatch::ThreadExitWatch(const Napi::CallbackInfo& info) : PolledSocket<ThreadExitWatch>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "new ThreadExitWatch(pid, tid): pid and tid must be numbers");
  }
  const int pid = info[0].As<Napi::Number>().Int32Value();
  const int tid = info[1].As<Napi::Number>().Int32Value();
  if (pid < 1 || tid < 1) throw Napi::RangeError::New(env, "new ThreadExitWatch(pid, tid): must be positive");
  description_ = "thread " + std::to_string(tid) + " of process " + std::to_string(pid);
  // pidfds are always close-on-exec; readable (POLLIN) once the task has exited.
  fd_ = static_cast<int>(syscall(SYS_pidfd_open, tid, PIDFD_THREAD | O_NONBLOCK));
  if (fd_ >= 0) {
    threadLevel_ = true;
    return;
  }
  if (errno != EINVAL) throw SystemError(env, errno, "pidfd_open(PIDFD_THREAD)", description_);
  description_ = "process " + std::to_string(pid);
  fd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, O_NONBLOCK));
  if (fd_ < 0) throw SystemError(env, errno, "pidfd_open", description_);
}

void ThreadExitWatch::OnReadable() {
  // Level-triggered and final: report once, then the watch is done.
  Emit(onData_, {});
  StopPolling();
}

Napi::Value ThreadExitWatch::ThreadLevel(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), threadLevel_);
}

}  // namespace kubelvs
