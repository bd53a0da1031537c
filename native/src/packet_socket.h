// PacketSocket: sends complete Ethernet frames out of one interface (AF_PACKET, SOCK_RAW).
// Used for gratuitous ARP, whose frame is built in TypeScript. Bound with protocol 0, so the
// kernel never queues received frames on it: it is send-only by construction.
//
// JS: new PacketSocket(ifindex)
//     .send(frame) -> bytes sent (destination MAC and EtherType are read from the frame itself)
//     .close() / .closed / .ifindex
#pragma once

#include <napi.h>

#include <string>

namespace kubelvs {

class PacketSocket : public Napi::ObjectWrap<PacketSocket> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit PacketSocket(const Napi::CallbackInfo& info);
  ~PacketSocket() override;

 private:
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value IsClosed(const Napi::CallbackInfo& info);
  Napi::Value Ifindex(const Napi::CallbackInfo& info);

  int fd_ = -1;
  int ifindex_ = 0;
  std::string description_;
};

}  // namespace kubelvs
