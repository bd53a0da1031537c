#include "outgoing_datagram.h"

#include <errno.h>

#include <cstring>

#include "ip_address.h"
#include "js_options.h"

namespace kubelvs {

SendOptions ParseSendOptions(const Napi::CallbackInfo& info, size_t index, const char* where) {
  SendOptions parsed;
  Napi::Object options = OptionsArgument(info, index, where);
  parsed.source = OptionalString(options, "source", where);
  parsed.ifindex = OptionalInt(options, "ifindex", 0, 0, 0x7fffffff, where);
  parsed.ttl = OptionalInt(options, "ttl", 0, 1, 255, where);
  return parsed;
}

OutgoingDatagram::OutgoingDatagram(Napi::Env env, int family, const uint8_t* data, size_t length, Payload payload,
                                   const std::string& destination, const SendOptions& options,
                                   const std::string& socketDescription) {
  object_ = socketDescription + " to " + destination;
  if (!options.source.empty()) object_ += " from " + options.source;
  if (options.ifindex != 0) object_ += " via ifindex " + std::to_string(options.ifindex);

  if (payload == Payload::kCopied) {
    copy_.assign(data, data + length);
    data = copy_.data();
  }
  iov_.iov_base = const_cast<uint8_t*>(data);
  iov_.iov_len = length;
  message_.msg_iov = &iov_;
  message_.msg_iovlen = 1;
  message_.msg_name = &destination_;

  if (family == 4) {
    auto* to = reinterpret_cast<sockaddr_in*>(&destination_);
    to->sin_family = AF_INET;
    to->sin_addr = ParseIPv4(env, destination, "destination");
    message_.msg_namelen = sizeof(sockaddr_in);
    if (!options.source.empty() || options.ifindex != 0) {
      in_pktinfo packetInfo{};
      packetInfo.ipi_ifindex = options.ifindex;
      if (!options.source.empty()) packetInfo.ipi_spec_dst = ParseIPv4(env, options.source, "source");
      AppendControl(IPPROTO_IP, IP_PKTINFO, &packetInfo, sizeof packetInfo);
    }
    if (options.ttl != 0) AppendControl(IPPROTO_IP, IP_TTL, &options.ttl, sizeof options.ttl);
  } else {
    auto* to = reinterpret_cast<sockaddr_in6*>(&destination_);
    to->sin6_family = AF_INET6;
    to->sin6_addr = ParseIPv6(env, destination, "destination");
    to->sin6_scope_id = static_cast<uint32_t>(options.ifindex);  // needed for link-local and multicast destinations
    message_.msg_namelen = sizeof(sockaddr_in6);
    if (!options.source.empty() || options.ifindex != 0) {
      in6_pktinfo packetInfo{};
      packetInfo.ipi6_ifindex = static_cast<unsigned>(options.ifindex);
      if (!options.source.empty()) packetInfo.ipi6_addr = ParseIPv6(env, options.source, "source");
      AppendControl(IPPROTO_IPV6, IPV6_PKTINFO, &packetInfo, sizeof packetInfo);
    }
    if (options.ttl != 0) AppendControl(IPPROTO_IPV6, IPV6_HOPLIMIT, &options.ttl, sizeof options.ttl);
  }
  message_.msg_control = controlLength_ == 0 ? nullptr : control_;
  message_.msg_controllen = controlLength_;
}

void OutgoingDatagram::AppendControl(int level, int type, const void* data, size_t size) {
  auto* header = reinterpret_cast<cmsghdr*>(control_ + controlLength_);
  header->cmsg_level = level;
  header->cmsg_type = type;
  header->cmsg_len = CMSG_LEN(size);
  std::memcpy(CMSG_DATA(header), data, size);
  controlLength_ += CMSG_SPACE(size);
}

ssize_t OutgoingDatagram::SendOn(int fd) const {
  ssize_t sent;
  do {
    sent = sendmsg(fd, &message_, 0);
  } while (sent < 0 && errno == EINTR);
  return sent;
}

}  // namespace kubelvs
