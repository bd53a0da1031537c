// RawIpSocket: an IPv4 or IPv6 raw socket for one IP protocol (112 for VRRP, 58 for ICMPv6).
// The kernel builds the IP header on send; on receive the caller gets the protocol payload (the
// IPv4 header is stripped here, IPv6 raw sockets never see theirs) plus the fields RFC 5798
// validation needs: TTL / hop limit, ingress interface index, source and destination address.
//
// JS: new RawIpSocket(family: 4 | 6, protocol, { sendOnly?, checksumOffset? })
//     .joinGroup(group, ifindex) / .leaveGroup(group, ifindex)
//     .send(payload, destination, { source?, ifindex?, ttl? }) -> bytes sent
//     .start(onPacket({ payload, source, destination, ifindex, ttl }), onError) / .stop() / .close()
//     .ref() / .unref() / .closed
// Defaults: TTL / hop limit 255 for unicast and multicast, multicast loopback off.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "polled_socket.h"

namespace kubelvs {

class RawIpSocket : public PolledSocket<RawIpSocket> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit RawIpSocket(const Napi::CallbackInfo& info);

  void OnReadable();

  // The RawIpSocket wrapped by `value`, or nullptr when it is not one (checked by type tag).
  static RawIpSocket* FromValue(Napi::Value value);

  // For PeriodicSender, which sends on a duplicate of this fd from its own thread: the fd, or -1
  // once closed, and a flag that turns true when it is closed (the thread checks it every round).
  int OpenFd() const { return fd_; }
  std::shared_ptr<const std::atomic<bool>> ClosedFlag() const { return closedFlag_; }
  // From PolledSocket::CloseFd.
  void OnFdClosed() { closedFlag_->store(true, std::memory_order_release); }
  // Finalizer path: the fd is closed by the base destructor.
  ~RawIpSocket() override { OnFdClosed(); }
  int family() const { return family_; }
  const std::string& description() const { return description_; }

 private:
  void ConfigureIPv4(Napi::Env env, bool receive);
  void ConfigureIPv6(Napi::Env env, bool receive, int checksumOffset);
  void SetOption(Napi::Env env, int level, int option, int value, const char* name);
  void ChangeMembership(const Napi::CallbackInfo& info, bool join);
  Napi::Value JoinGroup(const Napi::CallbackInfo& info);
  Napi::Value LeaveGroup(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value Family(const Napi::CallbackInfo& info);
  // Builds the JS packet object for one received datagram, or returns false to drop it.
  bool DescribePacket(Napi::Env env, const msghdr& message, size_t length, Napi::Object& packet);

  std::shared_ptr<std::atomic<bool>> closedFlag_ = std::make_shared<std::atomic<bool>>(false);
  int family_ = 0;  // 4 or 6
  int protocol_ = 0;
  std::vector<uint8_t> receiveBuffer_;
};

}  // namespace kubelvs
