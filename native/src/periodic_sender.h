// PeriodicSender: sends the same datagrams from a RawIpSocket every interval without entering
// JavaScript. An idle VRRP Master re-sends identical adverts (every 10 ms at the shortest); doing
// that as timer -> JS -> N-API send costs several times the CPU of keepalived. Here a timerfd
// (absolute, with it_interval) wakes the libuv loop and the poll callback does one read() plus one
// pre-built sendmsg per datagram: no JS call, no allocation. JS still decides what to send, to
// whom, and when to start and stop.
//
// JS: new PeriodicSender(socket: RawIpSocket)   keeps the socket object alive
//     .start(datagrams: {payload, destination}[], options: {source?, ifindex?, ttl?}, intervalMs,
//            onError(error))
//         copies the payloads, sends every datagram once now (synchronously), then every intervalMs
//         phase-locked to that first send. Calling it again replaces the datagrams and restarts
//         the phase. Send errors go to onError (syscall "sendmsg", object naming destination,
//         source and interface) — the first round's before start() returns — and the schedule
//         keeps running so adverts resume when the link does; an errno is reported once until a
//         round succeeds again. A socket closed under the sender is reported as EBADF and stops it.
//     .update(datagrams)  replaces the datagrams from the next round on; the phase is kept and
//                         nothing is sent now (a started sender only)
//     .stop() / .close() / .ref() / .unref() / .closed
//     .rounds    rounds sent (the first included; send failures included, see .failures)
//     .missed    expiries coalesced into one round because the loop was late
//     .failures  datagrams whose sendmsg failed
// The counters cover the sender's whole life (restarts do not reset them).
#pragma once

#include <bitset>
#include <cstdint>
#include <memory>
#include <vector>

#include "outgoing_datagram.h"
#include "polled_socket.h"

namespace kubelvs {

class RawIpSocket;

class PeriodicSender : public PolledSocket<PeriodicSender> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit PeriodicSender(const Napi::CallbackInfo& info);

  // Called by PolledSocket when the timerfd is readable: one or more intervals have passed.
  void OnReadable();

  // A round is one read() and the sendmsg calls: no handle scope unless there is an error to report.
  static constexpr bool kScopesOwnCallbacks = true;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Update(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Rounds(const Napi::CallbackInfo& info);
  Napi::Value Missed(const Napi::CallbackInfo& info);
  Napi::Value Failures(const Napi::CallbackInfo& info);

  // Builds the datagrams of a JS array of {payload, destination}; throws on invalid input.
  std::vector<std::unique_ptr<OutgoingDatagram>> ParseDatagrams(Napi::Env env, Napi::Value list,
                                                                const SendOptions& options, const char* where);
  // Installs new datagrams: a round in progress (inside onError) must not touch the old ones.
  void ReplaceDatagrams(std::vector<std::unique_ptr<OutgoingDatagram>> datagrams);
  // Sends every datagram once; errors are counted and reported (once per errno until a clean round).
  void SendRound();
  // Ends the schedule: timer disarmed, polling stopped, datagrams dropped.
  void StopSending();

  Napi::ObjectReference socketObject_;  // keeps the socket alive while we may send on it
  RawIpSocket* socket_ = nullptr;       // nullptr once closed
  std::vector<std::unique_ptr<OutgoingDatagram>> datagrams_;  // empty when not sending
  SendOptions options_;                                       // of the last start(), for update()
  // Bumped whenever the datagrams are replaced or dropped, so a round interrupted by an onError
  // callback that called start(), stop() or close() does not touch freed datagrams.
  uint64_t generation_ = 0;
  uint64_t rounds_ = 0;
  uint64_t missed_ = 0;
  uint64_t failures_ = 0;
  std::bitset<4096> reportedErrnos_;  // errnos already reported since the last clean round
};

}  // namespace kubelvs
