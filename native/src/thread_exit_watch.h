// ThreadExitWatch: tells when one thread (or, as a fallback, the whole process) has exited, through
// a pidfd polled on the event loop. The guard uses it to see its agent die: after SIGKILL the kernel
// frees a process's memory before the process counts as exited, which for a 100 MB Node process is
// tens of milliseconds, while its other threads are gone within a millisecond or two.
//
// JS: new ThreadExitWatch(pid, tid)   pidfd_open(tid, PIDFD_THREAD) (Linux 6.9+); where the kernel
//                                     has no thread pidfds, pidfd_open(pid) (process exit)
//     .threadLevel                    true when watching the thread itself
//     .start(onExit(), onError(error)) / .stop() / .close() / .ref() / .unref() / .closed
#pragma once

#include "polled_socket.h"

namespace kubelvs {

class ThreadExitWatch : public PolledSocket<ThreadExitWatch> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit ThreadExitWatch(const Napi::CallbackInfo& info);

  // Called by PolledSocket when the pidfd is readable: the thread (process) has exited.
  void OnReadable();

 private:
  Napi::Value ThreadLevel(const Napi::CallbackInfo& info);
  bool threadLevel_ = false;
};

}  // namespace kubelvs
