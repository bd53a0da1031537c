// NetlinkSocket: one AF_NETLINK socket talking to the kernel. It only moves bytes: message
// encoding, sequence numbers and reply matching live in TypeScript (native/netlink/).
//
// JS: new NetlinkSocket(protocol, groups?)   socket + bind (kernel-assigned port id) + memberships
//     .portId                                the bound port id (nlmsg_pid of our requests)
//     .send(buffer)                          one sendmsg to the kernel; the buffer may hold many nlmsgs
//     .start(onDatagram(buffer), onError(error)) / .stop() / .close() / .ref() / .unref() / .closed
//     .addMembership(group) / .dropMembership(group)
//     .setReceiveBufferSize(bytes) -> effective size reported by the kernel
#pragma once

#include "polled_socket.h"

namespace kubelvs {

class NetlinkSocket : public PolledSocket<NetlinkSocket> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit NetlinkSocket(const Napi::CallbackInfo& info);

  // Called by PolledSocket when the fd is readable.
  void OnReadable();

 private:
  Napi::Value PortId(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value AddMembership(const Napi::CallbackInfo& info);
  Napi::Value DropMembership(const Napi::CallbackInfo& info);
  Napi::Value SetReceiveBufferSize(const Napi::CallbackInfo& info);
  void ChangeMembership(const Napi::CallbackInfo& info, int option, const char* what);

  uint32_t portId_ = 0;
};

}  // namespace kubelvs
