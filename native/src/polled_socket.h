// Base for socket classes that receive asynchronously: the fd is non-blocking and watched by a
// libuv poll handle on the Node event loop (no thread ever blocks). When it becomes readable the
// subclass drains it and hands each datagram to JavaScript.
//
// JS methods provided here: start(onData, onError), stop(), close(), ref(), unref(), and the
// `closed` getter. While started, the JS object is kept alive by a strong reference so a socket
// nobody holds still delivers; stop() or close() drops it. Classes whose start() takes other
// arguments (PeriodicSender) add only the loop methods and call StartPolling() themselves.
#pragma once

#include <napi.h>
#include <unistd.h>
#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "system_error.h"

namespace kubelvs {

// A libuv poll handle with what its callbacks need; it outlives the socket object when a close
// is still pending.
struct PollHandle {
  uv_poll_t poll;
  void* owner = nullptr;  // the socket (Derived*) while it polls; nullptr once released
  napi_async_cleanup_hook_handle cleanupHook = nullptr;
  bool closing = false;
};

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
    AddLoopMethods(properties);
  }

  // ref(), unref() and `closed` only.
  static void AddLoopMethods(std::vector<typename Wrap::PropertyDescriptor>& properties) {
    properties.push_back(Wrap::InstanceMethod("ref", &PolledSocket::KeepLoopAlive));
    properties.push_back(Wrap::InstanceMethod("unref", &PolledSocket::AllowLoopExit));
    properties.push_back(Wrap::InstanceAccessor("closed", &PolledSocket::IsClosed, nullptr));
  }

  // Throws a JS error when the socket was closed; returns the fd otherwise.
  int RequireOpen(Napi::Env env, const char* operation) const {
    if (fd_ < 0) throw Napi::Error::New(env, std::string(operation) + ": " + kind_ + " " + description_ + " is closed");
    return fd_;
  }

  bool Polling() const { return poll_ != nullptr; }

  // A subclass that sets this to true handles readiness without JavaScript in the common case and
  // opens a HandleScope (holding a local reference to its object) itself before it calls JS or
  // creates JS values; the poll callback then does no N-API work at all (a handle scope costs a
  // heap allocation, which a PeriodicSender round must not).
  static constexpr bool kScopesOwnCallbacks = false;

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

  // Begins watching fd_ on the loop; onData may be empty (a class that only reports errors).
  void StartPolling(Napi::Env env, Napi::Function onData, Napi::Function onError) {
    if (Polling()) throw Napi::Error::New(env, "start: " + kind_ + " " + description_ + " is already started");
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "start: no libuv loop");
    auto* handle = new PollHandle;
    int rc = uv_poll_init(loop, &handle->poll, fd_);
    if (rc != 0) {
      delete handle;
      throw SystemError(env, -rc, "uv_poll_init", description_);
    }
    handle->poll.data = handle;
    handle->owner = static_cast<Derived*>(this);
    // Until the handle is closed, a terminating environment (a worker) must wait for it: Node
    // unloads the addon after cleanup, and libuv would then call a close callback that is gone.
    napi_add_async_cleanup_hook(env, &PolledSocket::OnEnvironmentCleanup, handle, &handle->cleanupHook);
    rc = uv_poll_start(&handle->poll, UV_READABLE, &PolledSocket::OnPoll);
    if (rc != 0) {
      CloseHandle(handle);
      throw SystemError(env, -rc, "uv_poll_start", description_);
    }
    poll_ = handle;
    if (!keepLoopAlive_) uv_unref(reinterpret_cast<uv_handle_t*>(&poll_->poll));
    if (!onData.IsEmpty()) onData_ = Napi::Persistent(onData);
    onError_ = Napi::Persistent(onError);
    asyncContext_ = std::make_shared<Napi::AsyncContext>(env, description_.c_str());
    this->Ref();
  }

  // Stops polling and closes the fd; idempotent.
  void CloseFd() {
    StopPolling();
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
      static_cast<Derived*>(this)->OnFdClosed();
    }
  }

  // Called once the fd is closed by close(); a subclass that shares its fd declares its own.
  void OnFdClosed() {}

  int fd_ = -1;
  std::string kind_ = "socket";  // what the object is, in error messages: "socket", "timer", ...
  std::string description_;      // names the object in error messages, e.g. "netlink protocol 0"
  Napi::FunctionReference onData_;
  Napi::FunctionReference onError_;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env, "start");
    if (Polling()) throw Napi::Error::New(env, "start: " + kind_ + " " + description_ + " is already started");
    if (!info[0].IsFunction() || !info[1].IsFunction()) {
      throw Napi::TypeError::New(env, "start(onData, onError): both arguments must be functions");
    }
    StartPolling(env, info[0].As<Napi::Function>(), info[1].As<Napi::Function>());
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    StopPolling();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseFd();
    return info.Env().Undefined();
  }

  Napi::Value KeepLoopAlive(const Napi::CallbackInfo& info) {
    keepLoopAlive_ = true;
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(&poll_->poll));
    return info.Env().Undefined();
  }

  Napi::Value AllowLoopExit(const Napi::CallbackInfo& info) {
    keepLoopAlive_ = false;
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&poll_->poll));
    return info.Env().Undefined();
  }

  Napi::Value IsClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), fd_ < 0); }

  static void OnPoll(uv_poll_t* poll, int status, int /*events*/) {
    auto* self = static_cast<Derived*>(static_cast<PollHandle*>(poll->data)->owner);
    if (self == nullptr) return;
    if constexpr (Derived::kScopesOwnCallbacks) {
      if (status >= 0) {
        self->OnReadable();
        return;
      }
    }
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
    PollHandle* handle = poll_;
    poll_ = nullptr;
    CloseHandle(handle);
  }

  // Stops the poll and closes it; the memory (and the cleanup hook) go when libuv is done with it.
  static void CloseHandle(PollHandle* handle) {
    if (handle->closing) return;
    handle->closing = true;
    handle->owner = nullptr;
    uv_poll_stop(&handle->poll);
    uv_close(reinterpret_cast<uv_handle_t*>(&handle->poll), &PolledSocket::OnHandleClosed);
  }

  static void OnHandleClosed(uv_handle_t* poll) {
    auto* handle = static_cast<PollHandle*>(poll->data);
    if (handle->cleanupHook != nullptr) napi_remove_async_cleanup_hook(handle->cleanupHook);
    delete handle;
  }

  // The environment is ending while the handle is open: close it now (the socket's fd is closed
  // later by the finalizer); removing the hook in OnHandleClosed tells Node we are done.
  static void OnEnvironmentCleanup(napi_async_cleanup_hook_handle, void* arg) {
    auto* handle = static_cast<PollHandle*>(arg);
    if (handle->owner != nullptr) static_cast<PolledSocket*>(static_cast<Derived*>(handle->owner))->poll_ = nullptr;
    CloseHandle(handle);
  }

  PollHandle* poll_ = nullptr;
  bool keepLoopAlive_ = true;
  std::shared_ptr<Napi::AsyncContext> asyncContext_;
};

}  // namespace kubelvs
