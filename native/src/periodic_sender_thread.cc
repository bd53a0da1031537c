#include "periodic_sender_thread.h"

#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

namespace kubelvs {

namespace {

constexpr int64_t kNanosecondsPerSecond = 1'000'000'000;
constexpr int64_t kMinLeaseNs = kNanosecondsPerSecond;  // a stall shorter than this is not a hang
constexpr int kLeaseIntervals = 3;                       // nor one shorter than three adverts
constexpr char kThreadName[] = "periodic-sender";       // 15 characters: the kernel's limit

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) && std::atomic<uint32_t>::is_always_lock_free,
              "the stop flag is used as a futex word");

int64_t MonotonicNowNs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);  // cannot fail for CLOCK_MONOTONIC with a valid pointer
  return static_cast<int64_t>(now.tv_sec) * kNanosecondsPerSecond + now.tv_nsec;
}

timespec ToTimespec(int64_t nanoseconds) {
  return timespec{static_cast<time_t>(nanoseconds / kNanosecondsPerSecond),
                  static_cast<long>(nanoseconds % kNanosecondsPerSecond)};
}

}  // namespace

int64_t PeriodicSenderThread::LeaseNs(int64_t intervalNs) {
  return std::max(kMinLeaseNs, kLeaseIntervals * intervalNs);
}

PeriodicSenderThread::PeriodicSenderThread(Datagrams datagrams, int socketFd,
                                           std::shared_ptr<const std::atomic<bool>> socketClosed, int64_t intervalNs,
                                           std::string description,
                                           SenderCounters& counters, LoopHeartbeat& heartbeat)
    : socketFd_(socketFd),
      socketClosed_(std::move(socketClosed)),
      intervalNs_(intervalNs),
      leaseNs_(LeaseNs(intervalNs)),
      description_(std::move(description)),
      counters_(counters),
      heartbeat_(heartbeat),
      datagrams_(std::move(datagrams)) {}

PeriodicSenderThread::~PeriodicSenderThread() { Stop(); }

std::vector<SendFailure> PeriodicSenderThread::SendFirstRound(const timespec& startedAt) {
  firstSendNs_ = static_cast<int64_t>(startedAt.tv_sec) * kNanosecondsPerSecond + startedAt.tv_nsec;
  loopIdleNs_ = uv_metrics_idle_time(heartbeat_.loop);
  loopIdleSeenNs_ = firstSendNs_;
  idleReadNs_ = firstSendNs_;
  std::vector<SendFailure> failures;
  if (!SendRound(failures)) ended_.store(true, std::memory_order_release);
  return failures;
}

int PeriodicSenderThread::Launch() {
  if (running_ || Ended()) return 0;
  // Signals go to the event-loop thread, where Node handles them: the sender thread blocks them all
  // (a new thread inherits the creating thread's mask).
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  const int error = pthread_create(&thread_, nullptr, &PeriodicSenderThread::ThreadMain, this);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  running_ = error == 0;
  return error;
}

void PeriodicSenderThread::Replace(Datagrams datagrams) {
  std::unique_lock<std::mutex> lock(roundMutex_);
  datagrams_.swap(datagrams);
  reportedErrnos_.reset();
  lock.unlock();
  // `datagrams` now holds the old ones: freed here, outside the lock.
}

void PeriodicSenderThread::Stop() {
  if (running_) {
    stopRequested_.store(1, std::memory_order_release);
    syscall(SYS_futex, &stopRequested_, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
    pthread_join(thread_, nullptr);
    running_ = false;
  }
  if (!fdClosed_) {
    ::close(socketFd_);
    fdClosed_ = true;
  }
}

std::vector<SendFailure> PeriodicSenderThread::TakeFailures() {
  std::vector<SendFailure> taken;
  std::lock_guard<std::mutex> lock(failuresMutex_);
  taken.swap(failures_);
  return taken;
}

void* PeriodicSenderThread::ThreadMain(void* self) {
  static_cast<PeriodicSenderThread*>(self)->Run();
  return nullptr;
}

void PeriodicSenderThread::Run() {
  pthread_setname_np(pthread_self(), kThreadName);  // for top -H and /proc; a failure only loses the name
  ApplyScheduling();
  std::vector<SendFailure> failures;  // stays empty (unallocated) while rounds succeed
  int64_t deadline = firstSendNs_ + intervalNs_;
  while (SleepUntil(deadline)) {
    const int64_t now = MonotonicNowNs();
    int64_t next = deadline + intervalNs_;
    if (now >= next) {
      // Woke after the next deadline too: those rounds are skipped, not sent in a burst.
      const int64_t skipped = (now - next) / intervalNs_ + 1;
      counters_.missed.fetch_add(static_cast<uint64_t>(skipped), std::memory_order_relaxed);
      next += skipped * intervalNs_;
    }
    deadline = next;

    const int64_t loopSilentNs = LoopSilentNs(now);
    if (loopSilentNs > leaseNs_ / 4) uv_async_send(heartbeat_.wake);  // iterate when you can
    if (loopSilentNs > leaseNs_) {
      counters_.withheld.fetch_add(1, std::memory_order_relaxed);  // the loop is hung: fall silent
      continue;
    }
    const bool open = SendRound(failures);
    if (!failures.empty()) Queue(failures);
    if (!open) {
      ended_.store(true, std::memory_order_release);  // after its EBADF is queued: see Ended()
      uv_async_send(heartbeat_.wake);
      return;
    }
  }
}

void PeriodicSenderThread::ApplyScheduling() {
  // An ordinary task, even when the thread that started it runs SCHED_FIFO (--realtime-priority).
  // Measured in the three-node lab at 10 ms adverts, side by side with keepalived: each real-time
  // wake-up costs the advert ~8 % more CPU (the RT class's balancing on every switch), and the
  // thread needs no precision that ordinary scheduling lacks: it sleeps 99 % of the time, so it
  // wakes with the scheduler's full credit, and a late advert matters only after 3 intervals. The
  // precision that decides a failover is the Backup's timer, which stays on the real-time loop.
  // SCHED_RESET_ON_FORK made it SCHED_OTHER already; a policy without it is inherited and undone here.
  if (sched_getscheduler(0) == SCHED_OTHER) return;
  sched_param ordinary{};
  const int error = pthread_setschedparam(pthread_self(), SCHED_OTHER, &ordinary);
  if (error == 0) return;
  std::vector<SendFailure> failure{
      {error, "pthread_setschedparam", "thread of periodic sender " + description_ + " (SCHED_OTHER)"}};
  Queue(failure);
}

bool PeriodicSenderThread::SleepUntil(int64_t deadlineNs) {
  const timespec deadline = ToTimespec(deadlineNs);
  while (stopRequested_.load(std::memory_order_acquire) == 0) {
    // Like clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) — FUTEX_WAIT_BITSET takes an absolute
    // CLOCK_MONOTONIC deadline — except that Stop() can wake it at once.
    const long result = syscall(SYS_futex, &stopRequested_, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, &deadline,
                                nullptr, FUTEX_BITSET_MATCH_ANY);
    if (result == 0 || errno == EAGAIN || errno == EINTR) continue;  // woken or interrupted: check again
    if (errno == ETIMEDOUT) break;
    // Not expected from a valid futex word and deadline; sleep the plain way rather than spin.
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {
    }
    break;
  }
  return stopRequested_.load(std::memory_order_acquire) == 0;
}

int64_t PeriodicSenderThread::LoopSilentNs(int64_t now) {
  // uv_metrics_idle_time takes the loop's metrics lock, which the loop thread takes on every wake-up:
  // read it a few times per lease, not on every round (100 times a second at 10 ms adverts).
  if (now - idleReadNs_ >= leaseNs_ / 8) {
    const uint64_t idle = uv_metrics_idle_time(heartbeat_.loop);
    if (idle != loopIdleNs_) {
      // It waited for events for (idle - loopIdleNs_) of the time since the previous read, so it was
      // still waiting, at the earliest, once that much time had passed since it. A loop waiting in
      // epoll right now counts its ongoing wait, which makes this `now`.
      const int64_t waited = static_cast<int64_t>(idle - loopIdleNs_);
      loopIdleSeenNs_ = std::max(loopIdleSeenNs_, std::min(now, idleReadNs_ + waited));
      loopIdleNs_ = idle;
    }
    idleReadNs_ = now;
  }
  return now - std::max(loopIdleSeenNs_, heartbeat_.lastIterationNs.load(std::memory_order_relaxed));
}

bool PeriodicSenderThread::SendRound(std::vector<SendFailure>& report) {
  std::lock_guard<std::mutex> lock(roundMutex_);
  counters_.rounds.fetch_add(1, std::memory_order_relaxed);
  if (socketClosed_->load(std::memory_order_acquire)) {
    // The socket's fd is gone (our duplicate still works, but the socket's owner is done with it).
    counters_.failures.fetch_add(1, std::memory_order_relaxed);
    report.push_back({EBADF, "sendmsg", datagrams_.front()->object()});
    return false;
  }
  bool clean = true;
  for (const std::unique_ptr<OutgoingDatagram>& datagram : datagrams_) {
    if (datagram->SendOn(socketFd_) >= 0) continue;
    const int error = errno;
    clean = false;
    counters_.failures.fetch_add(1, std::memory_order_relaxed);
    const size_t slot = static_cast<size_t>(error) < reportedErrnos_.size() ? static_cast<size_t>(error) : 0;
    if (reportedErrnos_.test(slot)) continue;
    reportedErrnos_.set(slot);
    report.push_back({error, "sendmsg", datagram->object()});
  }
  if (clean && reportedErrnos_.any()) reportedErrnos_.reset();
  return true;
}

void PeriodicSenderThread::Queue(std::vector<SendFailure>& failures) {
  {
    std::lock_guard<std::mutex> lock(failuresMutex_);
    for (SendFailure& failure : failures) failures_.push_back(std::move(failure));
  }
  failures.clear();
  uv_async_send(heartbeat_.wake);
}

}  // namespace kubelvs
