// OutgoingDatagram: one IP payload addressed for sendmsg on a raw IP socket — the destination plus
// the control messages that pick the source address, the outgoing interface and the TTL / hop
// limit. RawIpSocket::send builds one per call; PeriodicSender builds its datagrams once and sends
// them every round without rebuilding or allocating anything.
#pragma once

#include <napi.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kubelvs {

// The `{ source?, ifindex?, ttl? }` options of a send.
struct SendOptions {
  std::string source;  // empty: the kernel picks the source address
  int ifindex = 0;     // 0: routing picks the interface
  int ttl = 0;         // 0: the socket default (255)
};

// Parses info[index] (absent or undefined = all defaults); TypeError / RangeError name `where`.
SendOptions ParseSendOptions(const Napi::CallbackInfo& info, size_t index, const char* where);

class OutgoingDatagram {
 public:
  enum class Payload {
    kBorrowed,  // points at the caller's bytes, which must outlive the datagram (one synchronous send)
    kCopied,    // keeps its own copy (sent again later)
  };

  // Throws a JS TypeError when the destination or source is not an address of `family` (4 or 6).
  // `socketDescription` ("raw IPv4 protocol 112") starts the object named in send errors.
  OutgoingDatagram(Napi::Env env, int family, const uint8_t* data, size_t length, Payload payload,
                   const std::string& destination, const SendOptions& options, const std::string& socketDescription);
  // The message points into the object itself.
  OutgoingDatagram(const OutgoingDatagram&) = delete;
  OutgoingDatagram& operator=(const OutgoingDatagram&) = delete;

  // One sendmsg on `fd` (EINTR retried): bytes sent, or -1 with errno set.
  ssize_t SendOn(int fd) const;

  // What a send error names, e.g. "raw IPv4 protocol 112 to 224.0.0.18 from 198.51.100.1 via ifindex 3".
  const std::string& object() const { return object_; }

 private:
  void AppendControl(int level, int type, const void* data, size_t size);

  std::vector<uint8_t> copy_;
  iovec iov_{};
  sockaddr_storage destination_{};
  // Sized for the largest pair of control messages we add: packet info and TTL / hop limit.
  alignas(cmsghdr) uint8_t control_[CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(int))] = {};
  size_t controlLength_ = 0;
  msghdr message_{};
  std::string object_;
};

}  // namespace kubelvs
