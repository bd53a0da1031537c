#include "packet_socket.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "system_error.h"

namespace kubelvs {

namespace {
constexpr size_t kEthernetHeader = 14;
}

Napi::Function PacketSocket::DefineClass(Napi::Env env) {
  return ObjectWrap<PacketSocket>::DefineClass(env, "PacketSocket",
                                               {
                                                   InstanceMethod("send", &PacketSocket::Send),
                                                   InstanceMethod("close", &PacketSocket::Close),
                                                   InstanceAccessor("closed", &PacketSocket::IsClosed, nullptr),
                                                   InstanceAccessor("ifindex", &PacketSocket::Ifindex, nullptr),
                                               });
}

PacketSocket::PacketSocket(const Napi::CallbackInfo& info) : ObjectWrap<PacketSocket>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "new PacketSocket(ifindex): ifindex must be a number");
  ifindex_ = info[0].As<Napi::Number>().Int32Value();
  if (ifindex_ < 1) throw Napi::RangeError::New(env, "new PacketSocket(ifindex): ifindex must be positive");
  description_ = "packet socket ifindex " + std::to_string(ifindex_);

  fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw SystemError(env, errno, "socket", description_);
  sockaddr_ll local{};
  local.sll_family = AF_PACKET;
  local.sll_protocol = 0;  // receive nothing
  local.sll_ifindex = ifindex_;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    throw SystemError(env, error, "bind", description_);
  }
}

PacketSocket::~PacketSocket() {
  if (fd_ >= 0) ::close(fd_);
}

Napi::Value PacketSocket::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) throw Napi::Error::New(env, "send: " + description_ + " is closed");
  if (!info[0].IsBuffer()) throw Napi::TypeError::New(env, "send(frame): frame must be a Buffer");
  Napi::Buffer<uint8_t> frame = info[0].As<Napi::Buffer<uint8_t>>();
  if (frame.Length() < kEthernetHeader) {
    throw Napi::RangeError::New(env, "send(frame): an Ethernet frame has at least 14 bytes, got " + std::to_string(frame.Length()));
  }
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = ifindex_;
  std::memcpy(&to.sll_protocol, frame.Data() + 12, 2);  // EtherType, already in network order
  to.sll_halen = ETH_ALEN;
  std::memcpy(to.sll_addr, frame.Data(), ETH_ALEN);
  ssize_t sent;
  do {
    sent = sendto(fd_, frame.Data(), frame.Length(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) throw SystemError(env, errno, "sendto", description_);
  return Napi::Number::New(env, static_cast<double>(sent));
}

Napi::Value PacketSocket::Close(const Napi::CallbackInfo& info) {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  return info.Env().Undefined();
}

Napi::Value PacketSocket::IsClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), fd_ < 0); }

Napi::Value PacketSocket::Ifindex(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ifindex_); }

}  // namespace kubelvs
