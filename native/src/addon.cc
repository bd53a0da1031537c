// Entry point of kubelvs_native.node: exports the socket and timer classes, monotonicNowMs(), and
// setErrorClass(), through which native/addon.ts registers the class every system-call failure is
// thrown as.
#include <napi.h>

#include "monotonic_timer.h"
#include "netlink_socket.h"
#include "packet_socket.h"
#include "periodic_sender.h"
#include "raw_ip_socket.h"
#include "scheduling.h"
#include "system_error.h"
#include "thread_exit_watch.h"

namespace kubelvs {
namespace {

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "setErrorClass(constructor): argument must be a class");
  env.GetInstanceData<AddonState>()->errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

}  // namespace
}  // namespace kubelvs

static Napi::Object InitKubelvsNative(Napi::Env env, Napi::Object exports) {
  using namespace kubelvs;
  env.SetInstanceData(new AddonState());
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
  exports.Set("NetlinkSocket", NetlinkSocket::DefineClass(env));
  exports.Set("RawIpSocket", RawIpSocket::DefineClass(env));
  exports.Set("PacketSocket", PacketSocket::DefineClass(env));
  exports.Set("ThreadExitWatch", ThreadExitWatch::DefineClass(env));
  exports.Set("MonotonicTimer", MonotonicTimer::DefineClass(env));
  exports.Set("PeriodicSender", PeriodicSender::DefineClass(env));
  exports.Set("setRealtimePriority", Napi::Function::New(env, SetRealtimePriority, "setRealtimePriority"));
  exports.Set("monotonicNowMs", Napi::Function::New(env, MonotonicNowMs, "monotonicNowMs"));
  return exports;
}

NODE_API_MODULE(kubelvs_native, InitKubelvsNative)
