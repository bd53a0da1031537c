// Base for socket classes that receive asynchronously: the fd is non-blocking and watched by a
// libuv poll handle on the Node event loop (no thread ever blocks). When it becomes readable the
// subclass drains it and hands each datagram to JavaScript.
//
// JS methods provided here: start(onData, onError), stop(), close(), ref(), unref(), and the
// `closed` getter. While started, the JS object is kept alive by a strong reference so a socket
// nobody holds still delivers; stop() or close() drops it.
#pragma once

#include <napi.h>
#include <unistd.h>
#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "system_error.h"

namespace kubelvs {

template <typename Derived>
class PolledSocket : public Napi::ObjectWrap<Derived> {
 public:
  explicit PolledSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info) {}

  ~PolledSocket() override {
    // Finalizer path (GC or environment teardown): release OS resources without touching JS.
    ReleasePollHandle();
    if (fd_ >= 0) ::close(fd_);
  }

 protected:
  using Wrap = Napi::ObjectWrap<Derived>;

  static void AddCommonMethods(std::vector<typename Wrap::PropertyDescriptor>& properties) {
    properties.push_back(Wrap::InstanceMethod("start", &PolledSocket::Start));
    properties.push_back(Wrap::InstanceMethod("stop", &PolledSocket::Stop));
    properties.push_back(Wrap::InstanceMethod("close", &PolledSocket::Close));
    properties.push_back(Wrap::InstanceMethod("ref", &PolledSocket::KeepLoopAlive));
    properties.push_back(Wrap::InstanceMethod("unref", &PolledSocket::AllowLoopExit));
    properties.push_back(Wrap::InstanceAccessor("closed", &PolledSocket::IsClosed, nullptr));
  }

  // Throws a JS error when the socket was closed; returns the fd otherwise.
  int RequireOpen(Napi::Env env, const char* operation) const {
    if (fd_ < 0) throw Napi::Error::New(env, std::string(operation) + ": socket " + description_ + " is closed");
    return fd_;
  }

  bool Polling() const { return poll_ != nullptr; }

  // Calls a JS callback from the event loop. An exception thrown by the callback cannot propagate
  // to any JS caller here, so it is reported as an uncaught exception (process 'uncaughtException').
  void Emit(Napi::FunctionReference& callback, const std::initializer_list<napi_value>& args) {
    if (callback.IsEmpty()) return;
    Napi::Env env = this->Env();
    // Local copies: the callback may call stop()/close(), which resets the members.
    Napi::Function function = callback.Value();
    std::shared_ptr<Napi::AsyncContext> context = asyncContext_;
    try {
      function.MakeCallback(this->Value(), args, *context);
    } catch (const Napi::Error& error) {
      napi_fatal_exception(env, error.Value());
    }
  }

  void EmitError(const Napi::Error& error) { Emit(onError_, {error.Value()}); }

  // Stops polling after an unrecoverable receive error (the socket stays open).
  void StopPolling() {
    if (!Polling()) return;
    ReleasePollHandle();
    onData_.Reset();
    onError_.Reset();
    asyncContext_.reset();
    this->Unref();
  }

  int fd_ = -1;
  std::string description_;  // names the socket in error messages, e.g. "netlink protocol 0"
  Napi::FunctionReference onData_;
  Napi::FunctionReference onError_;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env, "start");
    if (Polling()) throw Napi::Error::New(env, "start: socket " + description_ + " is already started");
    if (!info[0].IsFunction() || !info[1].IsFunction()) {
      throw Napi::TypeError::New(env, "start(onData, onError): both arguments must be functions");
    }
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "start: no libuv loop");
    auto* handle = new uv_poll_t;
    int rc = uv_poll_init(loop, handle, fd_);
    if (rc == 0) {
      handle->data = this;
      rc = uv_poll_start(handle, UV_READABLE, &PolledSocket::OnPoll);
      if (rc != 0) uv_close(reinterpret_cast<uv_handle_t*>(handle), &PolledSocket::FreeHandle);
    } else {
      delete handle;
    }
    if (rc != 0) throw SystemError(env, -rc, "uv_poll_start", description_);
    poll_ = handle;
    if (!keepLoopAlive_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    onData_ = Napi::Persistent(info[0].As<Napi::Function>());
    onError_ = Napi::Persistent(info[1].As<Napi::Function>());
    asyncContext_ = std::make_shared<Napi::AsyncContext>(env, description_.c_str());
    this->Ref();
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    StopPolling();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    StopPolling();
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    return info.Env().Undefined();
  }

  Napi::Value KeepLoopAlive(const Napi::CallbackInfo& info) {
    keepLoopAlive_ = true;
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value AllowLoopExit(const Napi::CallbackInfo& info) {
    keepLoopAlive_ = false;
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value IsClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), fd_ < 0); }

  static void OnPoll(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<Derived*>(handle->data);
    if (self == nullptr) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    // A local handle to our JS object keeps `self` alive even if a callback drops the last reference.
    [[maybe_unused]] Napi::Object keepAlive = self->Value();
    if (status < 0) {
      Napi::Error error = SystemError(env, -status, "poll", self->description_);
      self->EmitError(error);
      self->StopPolling();
      return;
    }
    self->OnReadable();
  }

  void ReleasePollHandle() {
    if (poll_ == nullptr) return;
    uv_poll_stop(poll_);
    poll_->data = nullptr;
    // libuv frees nothing itself; the handle memory must outlive the close callback.
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), &PolledSocket::FreeHandle);
    poll_ = nullptr;
  }

  static void FreeHandle(uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); }

  uv_poll_t* poll_ = nullptr;
  bool keepLoopAlive_ = true;
  std::shared_ptr<Napi::AsyncContext> asyncContext_;
};

}  // namespace kubelvs
