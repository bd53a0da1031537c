// PeriodicSenderThread: one schedule of a PeriodicSender — its datagrams sent every interval from
// a dedicated thread. The thread sleeps to each absolute CLOCK_MONOTONIC deadline (phase-locked to
// the first send) and wakes only to send: no libuv, no JavaScript, no allocation per round, so an
// idle VRRP Master costs one thread wake-up and its sendmsg calls per interval.
//
// It shares the fate of the event loop that started it (keepalived semantics: a hung daemon stops
// advertising so a Backup takes over). The loop is alive when it iterates (a prepare handle stamps
// each iteration, LoopHeartbeat) or waits for events in epoll (libuv's idle time, which Node
// collects, grows: uv_metrics_idle_time is thread-safe). While neither has happened for the lease,
// max(1 s, 3 x interval), the thread withholds its rounds: the agent is hung (busy or blocked
// outside epoll). After a quarter of the lease it pokes the loop through its async handle, which
// makes a loop without idle-time metrics iterate; an idle loop with them is never woken.
//
// Nothing here touches N-API. Failures the thread meets are queued as SendFailure and the loop is
// woken to report them to JavaScript (PeriodicSender does that).
#pragma once

#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <uv.h>

#include <atomic>
#include <bitset>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "outgoing_datagram.h"

namespace kubelvs {

using Datagrams = std::vector<std::unique_ptr<OutgoingDatagram>>;

// Counters over a PeriodicSender's whole life (schedules come and go): written by whichever thread
// sends, read by JavaScript.
struct SenderCounters {
  std::atomic<uint64_t> rounds{0};    // rounds sent, failed ones included
  std::atomic<uint64_t> missed{0};    // deadlines skipped: the thread woke after the next one
  std::atomic<uint64_t> failures{0};  // datagrams whose sendmsg failed
  std::atomic<uint64_t> withheld{0};  // rounds not sent because the event loop had stalled
};

// The event loop's signs of life: CLOCK_MONOTONIC nanoseconds of its latest iteration, the loop
// (for its idle time), and the async handle that makes it iterate (and report queued failures).
struct LoopHeartbeat {
  std::atomic<int64_t> lastIterationNs{0};
  uv_loop_t* loop = nullptr;
  uv_async_t* wake = nullptr;
};

// A failure to report to JavaScript as a system error, built without N-API on the sender thread.
struct SendFailure {
  int errnum = 0;
  std::string syscall;
  std::string object;
};

// The thread runs as an ordinary task whatever the starting thread's policy (see ApplyScheduling).
class PeriodicSenderThread {
 public:
  // Takes ownership of `socketFd`, a duplicate of the socket's fd for this schedule alone: the
  // socket's own fd number may be closed and reused while the thread is still between two checks
  // of `socketClosed`. `description` names the sender in errors ("on raw IPv4 protocol 112").
  PeriodicSenderThread(Datagrams datagrams, int socketFd, std::shared_ptr<const std::atomic<bool>> socketClosed,
                       int64_t intervalNs, std::string description,
                       SenderCounters& counters, LoopHeartbeat& heartbeat);
  // Stops and joins the thread, closes the duplicate fd.
  ~PeriodicSenderThread();
  PeriodicSenderThread(const PeriodicSenderThread&) = delete;
  PeriodicSenderThread& operator=(const PeriodicSenderThread&) = delete;

  // The first round, on the calling thread, before Launch(): its failures are returned so the
  // caller can report them synchronously. `startedAt` is the time the phase counts from.
  std::vector<SendFailure> SendFirstRound(const timespec& startedAt);
  // Starts the thread; the next round is due one interval after SendFirstRound's `startedAt`.
  // Returns 0, or the error number of pthread_create.
  int Launch();
  // Replaces the datagrams from the next round on; the phase is kept.
  void Replace(Datagrams datagrams);
  // Wakes the thread out of its sleep, waits for it to end, closes the duplicate fd; idempotent.
  void Stop();

  // Failures queued by the thread since the last call.
  std::vector<SendFailure> TakeFailures();
  // True once the thread ended the schedule by itself (the socket was closed). Read this before
  // TakeFailures(): every failure queued before the end is then taken.
  bool Ended() const { return ended_.load(std::memory_order_acquire); }

  // Withholding starts when the loop's last iteration is older than this; pokes at a quarter of it.
  static int64_t LeaseNs(int64_t intervalNs);

 private:
  static void* ThreadMain(void* self);
  void Run();
  void ApplyScheduling();
  // Sleeps until the absolute CLOCK_MONOTONIC deadline; false when Stop() woke it.
  bool SleepUntil(int64_t deadlineNs);
  // How long the loop has shown no sign of life (neither iterated nor waited in epoll), at `now`.
  int64_t LoopSilentNs(int64_t now);
  // Sends every datagram once (or finds the socket closed); failures go to `report`.
  // Returns false when the socket is closed: the schedule ends.
  bool SendRound(std::vector<SendFailure>& report);
  // Queues failures for the event loop and wakes it.
  void Queue(std::vector<SendFailure>& failures);

  const int socketFd_;
  const std::shared_ptr<const std::atomic<bool>> socketClosed_;
  const int64_t intervalNs_;
  const int64_t leaseNs_;
  const std::string description_;
  SenderCounters& counters_;
  LoopHeartbeat& heartbeat_;
  int64_t firstSendNs_ = 0;
  uint64_t loopIdleNs_ = 0;     // the loop's idle time when last read (sender thread only)
  int64_t loopIdleSeenNs_ = 0;  // a moment at which the loop was known to be waiting for events
  int64_t idleReadNs_ = 0;      // when loopIdleNs_ was read

  // Held for a whole round (a few non-blocking sendmsg calls, microseconds), so update() never
  // frees datagrams in use and the errno bookkeeping has one owner at a time.
  std::mutex roundMutex_;
  Datagrams datagrams_;
  std::bitset<4096> reportedErrnos_;  // errnos reported since the last clean round

  std::mutex failuresMutex_;
  std::vector<SendFailure> failures_;  // queued for the event loop

  std::atomic<uint32_t> stopRequested_{0};  // a futex word: Stop() sets it and wakes the sleeper
  std::atomic<bool> ended_{false};
  pthread_t thread_{};
  bool running_ = false;  // launched and not yet joined (touched by the owning thread only)
  bool fdClosed_ = false;
};

}  // namespace kubelvs
