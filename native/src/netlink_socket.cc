#include "netlink_socket.h"

#include <errno.h>
#include <linux/netlink.h>
#include <sys/socket.h>

namespace kubelvs {

namespace {

// Bounds the work done per event-loop wakeup; the poll is level-triggered, so whatever is left
// is read on the next turn and timers/other I/O are not starved by a flood of notifications.
constexpr int kMaxDatagramsPerWakeup = 64;

uint32_t GroupArgument(const Napi::Value& value, const char* what) {
  Napi::Env env = value.Env();
  if (!value.IsNumber()) throw Napi::TypeError::New(env, std::string(what) + ": group must be a number");
  const double group = value.As<Napi::Number>().DoubleValue();
  if (group < 1 || group > 0xffffffff || group != static_cast<uint32_t>(group)) {
    throw Napi::RangeError::New(env, std::string(what) + ": group must be a positive 32-bit integer");
  }
  return static_cast<uint32_t>(group);
}

}  // namespace

Napi::Function NetlinkSocket::DefineClass(Napi::Env env) {
  std::vector<PropertyDescriptor> properties = {
      InstanceAccessor("portId", &NetlinkSocket::PortId, nullptr),
      InstanceMethod("send", &NetlinkSocket::Send),
      InstanceMethod("addMembership", &NetlinkSocket::AddMembership),
      InstanceMethod("dropMembership", &NetlinkSocket::DropMembership),
      InstanceMethod("setReceiveBufferSize", &NetlinkSocket::SetReceiveBufferSize),
  };
  AddCommonMethods(properties);
  return ObjectWrap<NetlinkSocket>::DefineClass(env, "NetlinkSocket", properties);
}

NetlinkSocket::NetlinkSocket(const Napi::CallbackInfo& info) : PolledSocket<NetlinkSocket>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "new NetlinkSocket(protocol, groups?): protocol must be a number");
  const int protocol = info[0].As<Napi::Number>().Int32Value();
  description_ = "netlink protocol " + std::to_string(protocol);

  fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd_ < 0) throw SystemError(env, errno, "socket", description_);

  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;  // nl_pid 0: the kernel assigns a unique port id
  if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
    throw SystemError(env, errno, "bind", description_);
  }
  socklen_t length = sizeof local;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length) < 0) {
    throw SystemError(env, errno, "getsockname", description_);
  }
  portId_ = local.nl_pid;
  description_ += " port " + std::to_string(portId_);

  // Extended acks carry the kernel's error text; capped acks keep error replies small by not
  // echoing the whole request back. Both are optional: older kernels just lack the detail.
  const int on = 1;
  setsockopt(fd_, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
  setsockopt(fd_, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);

  if (info.Length() > 1 && !info[1].IsUndefined()) {
    if (!info[1].IsArray()) throw Napi::TypeError::New(env, "new NetlinkSocket(protocol, groups?): groups must be an array");
    Napi::Array groups = info[1].As<Napi::Array>();
    for (uint32_t i = 0; i < groups.Length(); i++) {
      const uint32_t group = GroupArgument(groups.Get(i), "new NetlinkSocket");
      if (setsockopt(fd_, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0) {
        throw SystemError(env, errno, "setsockopt(NETLINK_ADD_MEMBERSHIP)", description_ + " group " + std::to_string(group));
      }
    }
  }
}

Napi::Value NetlinkSocket::PortId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), portId_); }

Napi::Value NetlinkSocket::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = RequireOpen(env, "send");
  if (!info[0].IsBuffer()) throw Napi::TypeError::New(env, "send(buffer): argument must be a Buffer");
  Napi::Buffer<uint8_t> data = info[0].As<Napi::Buffer<uint8_t>>();
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = sendto(fd, data.Data(), data.Length(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) throw SystemError(env, errno, "sendto", description_);
  return Napi::Number::New(env, static_cast<double>(sent));
}

void NetlinkSocket::ChangeMembership(const Napi::CallbackInfo& info, int option, const char* what) {
  Napi::Env env = info.Env();
  const int fd = RequireOpen(env, what);
  const uint32_t group = GroupArgument(info[0], what);
  if (setsockopt(fd, SOL_NETLINK, option, &group, sizeof group) < 0) {
    throw SystemError(env, errno, std::string("setsockopt(") + what + ")", description_ + " group " + std::to_string(group));
  }
}

Napi::Value NetlinkSocket::AddMembership(const Napi::CallbackInfo& info) {
  ChangeMembership(info, NETLINK_ADD_MEMBERSHIP, "NETLINK_ADD_MEMBERSHIP");
  return info.Env().Undefined();
}

Napi::Value NetlinkSocket::DropMembership(const Napi::CallbackInfo& info) {
  ChangeMembership(info, NETLINK_DROP_MEMBERSHIP, "NETLINK_DROP_MEMBERSHIP");
  return info.Env().Undefined();
}

Napi::Value NetlinkSocket::SetReceiveBufferSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = RequireOpen(env, "setReceiveBufferSize");
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "setReceiveBufferSize(bytes): bytes must be a number");
  const int bytes = info[0].As<Napi::Number>().Int32Value();
  // SO_RCVBUFFORCE (CAP_NET_ADMIN) may exceed net.core.rmem_max; fall back to the capped option.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) < 0) {
    throw SystemError(env, errno, "setsockopt(SO_RCVBUF)", description_);
  }
  int effective = 0;
  socklen_t length = sizeof effective;
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &effective, &length) < 0) {
    throw SystemError(env, errno, "getsockopt(SO_RCVBUF)", description_);
  }
  return Napi::Number::New(env, effective);
}

void NetlinkSocket::OnReadable() {
  Napi::Env env = Env();
  for (int i = 0; i < kMaxDatagramsPerWakeup && Polling(); i++) {
    Napi::HandleScope scope(env);
    // Peek with MSG_TRUNC reports the datagram's full size, so the buffer always fits it exactly.
    ssize_t size = recv(fd_, nullptr, 0, MSG_PEEK | MSG_TRUNC);
    if (size < 0) {
      const int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK) return;
      if (error == EINTR) continue;
      EmitError(SystemError(env, error, "recv", description_));
      // ENOBUFS: the kernel dropped messages because our buffer was full. The socket still works;
      // the caller decides how to resynchronise. Anything else is unexpected: stop polling.
      if (error != ENOBUFS) StopPolling();
      continue;
    }
    Napi::Buffer<uint8_t> datagram = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(size));
    sockaddr_nl sender{};
    socklen_t senderLength = sizeof sender;
    ssize_t received = recvfrom(fd_, datagram.Data(), datagram.Length(), 0, reinterpret_cast<sockaddr*>(&sender), &senderLength);
    if (received < 0) {
      const int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK) return;
      if (error == EINTR) continue;
      EmitError(SystemError(env, error, "recvfrom", description_));
      if (error != ENOBUFS) StopPolling();
      continue;
    }
    // Only the kernel (port 0) is trusted; another process could otherwise inject fake replies.
    if (sender.nl_pid != 0) continue;
    Emit(onData_, {datagram});
  }
}

}  // namespace kubelvs
