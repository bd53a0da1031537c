#include "raw_ip_socket.h"

#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>

#include <cstring>

#include "ip_address.h"
#include "js_options.h"
#include "outgoing_datagram.h"

namespace kubelvs {

namespace {

constexpr int kMaxDatagramsPerWakeup = 64;
constexpr size_t kMaxIpPacket = 65535;
constexpr int kDefaultTtl = 255;  // RFC 5798: VRRP is sent with TTL / hop limit 255; NA likewise (RFC 4861)
// Marks JS objects that wrap a RawIpSocket, so another class can accept one safely.
constexpr napi_type_tag kRawIpSocketTag = {0x6b75'6265'6c76'7372, 0x6177'6970'736f'636b};

}  // namespace

Napi::Function RawIpSocket::DefineClass(Napi::Env env) {
  std::vector<PropertyDescriptor> properties = {
      InstanceAccessor("family", &RawIpSocket::Family, nullptr),
      InstanceMethod("joinGroup", &RawIpSocket::JoinGroup),
      InstanceMethod("leaveGroup", &RawIpSocket::LeaveGroup),
      InstanceMethod("send", &RawIpSocket::Send),
  };
  AddCommonMethods(properties);
  return ObjectWrap<RawIpSocket>::DefineClass(env, "RawIpSocket", properties);
}

RawIpSocket* RawIpSocket::FromValue(Napi::Value value) {
  if (!value.IsObject() || !value.As<Napi::Object>().CheckTypeTag(&kRawIpSocketTag)) return nullptr;
  return Unwrap(value.As<Napi::Object>());
}

RawIpSocket::RawIpSocket(const Napi::CallbackInfo& info) : PolledSocket<RawIpSocket>(info) {
  Napi::Env env = info.Env();
  info.This().As<Napi::Object>().TypeTag(&kRawIpSocketTag);
  const char* where = "new RawIpSocket(family, protocol, options?)";
  if (!info[0].IsNumber() || !info[1].IsNumber()) throw Napi::TypeError::New(env, std::string(where) + ": family and protocol must be numbers");
  family_ = info[0].As<Napi::Number>().Int32Value();
  protocol_ = info[1].As<Napi::Number>().Int32Value();
  if (family_ != 4 && family_ != 6) throw Napi::RangeError::New(env, std::string(where) + ": family must be 4 or 6");
  if (protocol_ < 1 || protocol_ > 255) throw Napi::RangeError::New(env, std::string(where) + ": protocol must be 1..255");
  Napi::Object options = OptionsArgument(info, 2, where);
  const bool sendOnly = options.Get("sendOnly").ToBoolean().Value();
  const int checksumOffset = OptionalInt(options, "checksumOffset", -1, 0, 65534, where);
  if (checksumOffset >= 0 && family_ != 6) throw Napi::RangeError::New(env, std::string(where) + ": checksumOffset is IPv6 only");

  description_ = "raw IPv" + std::to_string(family_) + " protocol " + std::to_string(protocol_);
  fd_ = socket(family_ == 4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol_);
  if (fd_ < 0) throw SystemError(env, errno, "socket", description_);

  if (family_ == 4) ConfigureIPv4(env, !sendOnly);
  else ConfigureIPv6(env, !sendOnly, checksumOffset);

  if (sendOnly) {
    // A raw socket receives every packet of its protocol (all ICMPv6, for instance). A filter that
    // accepts nothing keeps a send-only socket from queueing traffic nobody reads.
    sock_filter dropAll[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
    sock_fprog program{1, dropAll};
    if (setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) < 0) {
      throw SystemError(env, errno, "setsockopt(SO_ATTACH_FILTER)", description_);
    }
    uint8_t discard[1];
    while (recv(fd_, discard, sizeof discard, MSG_DONTWAIT) >= 0) {
      // drain what arrived between socket() and the filter
    }
  } else {
    receiveBuffer_.resize(kMaxIpPacket);
  }
}

void RawIpSocket::SetOption(Napi::Env env, int level, int option, int value, const char* name) {
  if (setsockopt(fd_, level, option, &value, sizeof value) < 0) {
    throw SystemError(env, errno, std::string("setsockopt(") + name + ")", description_);
  }
}

void RawIpSocket::ConfigureIPv4(Napi::Env env, bool receive) {
  SetOption(env, IPPROTO_IP, IP_TTL, kDefaultTtl, "IP_TTL");
  SetOption(env, IPPROTO_IP, IP_MULTICAST_TTL, kDefaultTtl, "IP_MULTICAST_TTL");
  SetOption(env, IPPROTO_IP, IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP");
  if (receive) {
    SetOption(env, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO");
    SetOption(env, IPPROTO_IP, IP_RECVTTL, 1, "IP_RECVTTL");
  }
}

void RawIpSocket::ConfigureIPv6(Napi::Env env, bool receive, int checksumOffset) {
  SetOption(env, IPPROTO_IPV6, IPV6_UNICAST_HOPS, kDefaultTtl, "IPV6_UNICAST_HOPS");
  SetOption(env, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, kDefaultTtl, "IPV6_MULTICAST_HOPS");
  SetOption(env, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP");
  if (checksumOffset >= 0) SetOption(env, IPPROTO_IPV6, IPV6_CHECKSUM, checksumOffset, "IPV6_CHECKSUM");
  if (receive) {
    SetOption(env, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
    SetOption(env, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT");
  }
}

Napi::Value RawIpSocket::Family(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), family_); }

void RawIpSocket::ChangeMembership(const Napi::CallbackInfo& info, bool join) {
  Napi::Env env = info.Env();
  const char* where = join ? "joinGroup(group, ifindex)" : "leaveGroup(group, ifindex)";
  const int fd = RequireOpen(env, where);
  if (!info[0].IsString() || !info[1].IsNumber()) throw Napi::TypeError::New(env, std::string(where) + ": expects a string and a number");
  const std::string group = info[0].As<Napi::String>().Utf8Value();
  const int ifindex = info[1].As<Napi::Number>().Int32Value();
  const std::string object = description_ + " group " + group + " ifindex " + std::to_string(ifindex);
  int result;
  const char* syscall;
  if (family_ == 4) {
    ip_mreqn request{};
    request.imr_multiaddr = ParseIPv4(env, group, where);
    request.imr_ifindex = ifindex;
    syscall = join ? "setsockopt(IP_ADD_MEMBERSHIP)" : "setsockopt(IP_DROP_MEMBERSHIP)";
    result = setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &request, sizeof request);
  } else {
    ipv6_mreq request{};
    request.ipv6mr_multiaddr = ParseIPv6(env, group, where);
    request.ipv6mr_interface = static_cast<unsigned>(ifindex);
    syscall = join ? "setsockopt(IPV6_ADD_MEMBERSHIP)" : "setsockopt(IPV6_DROP_MEMBERSHIP)";
    result = setsockopt(fd, IPPROTO_IPV6, join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP, &request, sizeof request);
  }
  if (result < 0) throw SystemError(env, errno, syscall, object);
}

Napi::Value RawIpSocket::JoinGroup(const Napi::CallbackInfo& info) {
  ChangeMembership(info, true);
  return info.Env().Undefined();
}

Napi::Value RawIpSocket::LeaveGroup(const Napi::CallbackInfo& info) {
  ChangeMembership(info, false);
  return info.Env().Undefined();
}

Napi::Value RawIpSocket::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* where = "send(payload, destination, options?)";
  const int fd = RequireOpen(env, where);
  if (!info[0].IsBuffer() || !info[1].IsString()) throw Napi::TypeError::New(env, std::string(where) + ": expects a Buffer and a string");
  Napi::Buffer<uint8_t> payload = info[0].As<Napi::Buffer<uint8_t>>();
  const std::string destination = info[1].As<Napi::String>().Utf8Value();
  const SendOptions options = ParseSendOptions(info, 2, where);
  const OutgoingDatagram datagram(env, family_, payload.Data(), payload.Length(), OutgoingDatagram::Payload::kBorrowed,
                                  destination, options, description_);
  const ssize_t sent = datagram.SendOn(fd);
  if (sent < 0) throw SystemError(env, errno, "sendmsg", datagram.object());
  return Napi::Number::New(env, static_cast<double>(sent));
}

bool RawIpSocket::DescribePacket(Napi::Env env, const msghdr& message, size_t length, Napi::Object& packet) {
  int ifindex = 0;
  int ttl = -1;
  std::string source;
  std::string destination;
  const uint8_t* payload = receiveBuffer_.data();
  size_t payloadLength = length;

  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(const_cast<msghdr*>(&message), header)) {
    if (family_ == 4 && header->cmsg_level == IPPROTO_IP && header->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(header), sizeof info);
      ifindex = info.ipi_ifindex;
      destination = FormatIPv4(info.ipi_addr);
    } else if (family_ == 4 && header->cmsg_level == IPPROTO_IP && header->cmsg_type == IP_TTL) {
      std::memcpy(&ttl, CMSG_DATA(header), sizeof ttl);
    } else if (family_ == 6 && header->cmsg_level == IPPROTO_IPV6 && header->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(header), sizeof info);
      ifindex = static_cast<int>(info.ipi6_ifindex);
      destination = FormatIPv6(info.ipi6_addr);
    } else if (family_ == 6 && header->cmsg_level == IPPROTO_IPV6 && header->cmsg_type == IPV6_HOPLIMIT) {
      std::memcpy(&ttl, CMSG_DATA(header), sizeof ttl);
    }
  }

  if (family_ == 4) {
    // IPv4 raw sockets deliver the IP header; strip it (options included) using IHL and the total length.
    if (length < sizeof(iphdr)) return false;
    iphdr ip;
    std::memcpy(&ip, payload, sizeof ip);
    const size_t headerLength = static_cast<size_t>(ip.ihl) * 4;
    const size_t totalLength = ntohs(ip.tot_len);
    if (ip.version != 4 || headerLength < sizeof(iphdr) || headerLength > length) return false;
    if (totalLength >= headerLength && totalLength < length) length = totalLength;
    if (ttl < 0) ttl = ip.ttl;
    payload += headerLength;
    payloadLength = length - headerLength;
    source = FormatIPv4(reinterpret_cast<const sockaddr_in*>(message.msg_name)->sin_addr);
  } else {
    source = FormatIPv6(reinterpret_cast<const sockaddr_in6*>(message.msg_name)->sin6_addr);
  }

  packet.Set("payload", Napi::Buffer<uint8_t>::Copy(env, payload, payloadLength));
  packet.Set("source", Napi::String::New(env, source));
  packet.Set("destination", Napi::String::New(env, destination));
  packet.Set("ifindex", Napi::Number::New(env, ifindex));
  packet.Set("ttl", Napi::Number::New(env, ttl));
  return true;
}

void RawIpSocket::OnReadable() {
  Napi::Env env = Env();
  for (int i = 0; i < kMaxDatagramsPerWakeup && Polling(); i++) {
    Napi::HandleScope scope(env);
    sockaddr_storage sender{};
    iovec iov{receiveBuffer_.data(), receiveBuffer_.size()};
    alignas(cmsghdr) uint8_t control[256];
    msghdr message{};
    message.msg_name = &sender;
    message.msg_namelen = sizeof sender;
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    const ssize_t received = recvmsg(fd_, &message, 0);
    if (received < 0) {
      const int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK) return;
      if (error == EINTR) continue;
      EmitError(SystemError(env, error, "recvmsg", description_));
      if (error != ENOBUFS) StopPolling();
      continue;
    }
    if (message.msg_flags & MSG_TRUNC) continue;  // larger than any IP packet: cannot be ours
    Napi::Object packet = Napi::Object::New(env);
    if (DescribePacket(env, message, static_cast<size_t>(received), packet)) Emit(onData_, {packet});
  }
}

}  // namespace kubelvs
