// PeriodicSender: sends the same datagrams from a RawIpSocket every interval without entering
// JavaScript. An idle VRRP Master re-sends identical adverts (every 10 ms at the shortest); doing
// that as timer -> JS -> N-API send costs several times the CPU of keepalived, and even a timer on
// the event loop pays for Node's per-iteration machinery. Here each schedule runs on a thread of
// its own (PeriodicSenderThread): one wake-up plus one pre-built sendmsg per datagram per round.
// JS still decides what to send, to whom, and when to start and stop.
//
// JS: new PeriodicSender(socket: RawIpSocket)   keeps the socket object alive
//     .start(datagrams: {payload, destination}[], options: {source?, ifindex?, ttl?}, intervalMs,
//            onError(error))
//         copies the payloads, sends every datagram once now (synchronously, on the calling
//         thread), then every intervalMs phase-locked to that first send, from the sender thread.
//         Calling it again replaces the datagrams and restarts the phase. Send errors go to onError
//         (syscall "sendmsg", object naming destination, source and interface) — the first
//         round's before start() returns, later ones from the event loop — and the schedule keeps
//         running so adverts resume when the link does; an errno is reported once until a round
//         succeeds again. A socket closed under the sender is reported as EBADF and stops it. The
//         thread takes the starting thread's scheduling policy and priority (SCHED_FIFO for the
//         agent); failing that it reports a "pthread_setschedparam" error and sends anyway.
//     .update(datagrams)  replaces the datagrams from the next round on; the phase is kept and
//                         nothing is sent now (a started sender only)
//     .stop() / .close()  end the schedule and join the thread; .ref() / .unref() / .closed
//     .rounds    rounds sent (the first included; send failures included, see .failures)
//     .missed    deadlines skipped because the thread woke after the next one
//     .failures  datagrams whose sendmsg failed
//     .withheld  rounds not sent because the event loop had neither iterated nor waited for events
//                (in epoll) for the lease, max(1 s, 3 x intervalMs): a hung agent falls silent so a
//                Backup takes over, as a hung keepalived does; sending resumes with the loop
// The counters cover the sender's whole life (restarts do not reset them).
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "outgoing_datagram.h"
#include "periodic_sender_thread.h"

namespace kubelvs {

class RawIpSocket;
struct SenderLoopHandles;

class PeriodicSender : public Napi::ObjectWrap<PeriodicSender> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit PeriodicSender(const Napi::CallbackInfo& info);
  // Finalizer path (GC or environment teardown): joins the thread, closes the loop handles.
  ~PeriodicSender() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Update(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value KeepLoopAlive(const Napi::CallbackInfo& info);
  Napi::Value AllowLoopExit(const Napi::CallbackInfo& info);
  Napi::Value IsClosed(const Napi::CallbackInfo& info);
  Napi::Value Rounds(const Napi::CallbackInfo& info);
  Napi::Value Missed(const Napi::CallbackInfo& info);
  Napi::Value Failures(const Napi::CallbackInfo& info);
  Napi::Value Withheld(const Napi::CallbackInfo& info);

  // Throws when the sender was closed.
  void RequireOpen(Napi::Env env, const char* operation) const;
  // Builds the datagrams of a JS array of {payload, destination}; throws on invalid input.
  Datagrams ParseDatagrams(Napi::Env env, Napi::Value list, const SendOptions& options, const char* where);
  // The wake-up async handle and the heartbeat prepare handle on this environment's loop.
  void OpenLoopHandles(Napi::Env env);
  void CloseLoopHandles();
  // The wake-up handle keeps the process alive while a schedule runs, unless unref()'d.
  void UpdateLoopReference();
  // Ends the schedule: thread joined, its duplicate fd closed, callbacks dropped. Idempotent.
  void StopSending();
  // Calls onError for each failure; stops early when a callback started, stopped or closed us.
  void Report(Napi::Env env, std::vector<SendFailure> failures);
  // On the event loop after the thread's uv_async_send: queued failures, a schedule that ended.
  void OnThreadSignal();

  static void OnWake(uv_async_t* handle);
  static void OnEnvironmentCleanup(napi_async_cleanup_hook_handle hook, void* arg);

  Napi::ObjectReference socketObject_;  // keeps the socket alive while we may send on it
  RawIpSocket* socket_ = nullptr;       // nullptr once closed
  std::string description_;             // "on raw IPv4 protocol 112"
  bool closed_ = false;
  bool keepLoopAlive_ = true;
  SendOptions options_;  // of the last start(), for update()
  SenderCounters counters_;
  SenderLoopHandles* loop_ = nullptr;               // opened by the first start(), until close()
  std::unique_ptr<PeriodicSenderThread> schedule_;  // while started
  // Bumped whenever a schedule starts or ends, so failures of an older schedule are dropped and a
  // report interrupted by an onError that called start(), stop() or close() stops there.
  uint64_t generation_ = 0;
  Napi::FunctionReference onError_;
  std::shared_ptr<Napi::AsyncContext> asyncContext_;
};

}  // namespace kubelvs
