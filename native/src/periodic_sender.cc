#include "periodic_sender.h"

#include <errno.h>
#include <fcntl.h>

#include <string>

#include "monotonic_timer.h"
#include "raw_ip_socket.h"
#include "system_error.h"

namespace kubelvs {

// The sender's handles on its environment's loop. They outlive the sender object while a close is
// pending, and the thread uses `wake` and `heartbeat` only while it runs (it is joined first).
struct SenderLoopHandles {
  uv_async_t wake;          // the thread's poke and failure reports; keeps the loop alive while sending
  uv_prepare_t prepare;     // stamps heartbeat.lastIterationNs once per loop iteration
  LoopHeartbeat heartbeat;  // heartbeat.wake points at `wake`
  PeriodicSender* owner = nullptr;  // nullptr once released
  napi_async_cleanup_hook_handle cleanupHook = nullptr;
  int openHandles = 0;
  bool closing = false;
};

namespace {

constexpr double kMinIntervalMs = 1;               // shorter would be a busy loop, not a schedule
constexpr double kMaxIntervalMs = 24 * 3600 * 1e3;  // one day
constexpr size_t kMaxIpPayload = 65535;

int64_t ToNanoseconds(const timespec& time) { return static_cast<int64_t>(time.tv_sec) * 1'000'000'000 + time.tv_nsec; }

// Both close callbacks count down; the last one frees the block and lets the environment end.
void OnHandleClosed(uv_handle_t* handle) {
  auto* handles = static_cast<SenderLoopHandles*>(handle->data);
  if (--handles->openHandles > 0) return;
  if (handles->cleanupHook != nullptr) napi_remove_async_cleanup_hook(handles->cleanupHook);
  delete handles;
}

// The thread using the handles must have been joined.
void CloseHandles(SenderLoopHandles* handles) {
  if (handles->closing) return;
  handles->closing = true;
  handles->owner = nullptr;
  uv_prepare_stop(&handles->prepare);
  uv_close(reinterpret_cast<uv_handle_t*>(&handles->wake), &OnHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&handles->prepare), &OnHandleClosed);
}

void OnPrepare(uv_prepare_t* handle) {
  auto* handles = static_cast<SenderLoopHandles*>(handle->data);
  handles->heartbeat.lastIterationNs.store(ToNanoseconds(MonotonicNow()), std::memory_order_relaxed);
}

}  // namespace

Napi::Function PeriodicSender::DefineClass(Napi::Env env) {
  return ObjectWrap<PeriodicSender>::DefineClass(
      env, "PeriodicSender",
      {
          InstanceMethod("start", &PeriodicSender::Start),
          InstanceMethod("update", &PeriodicSender::Update),
          InstanceMethod("stop", &PeriodicSender::Stop),
          InstanceMethod("close", &PeriodicSender::Close),
          InstanceMethod("ref", &PeriodicSender::KeepLoopAlive),
          InstanceMethod("unref", &PeriodicSender::AllowLoopExit),
          InstanceAccessor("closed", &PeriodicSender::IsClosed, nullptr),
          InstanceAccessor("rounds", &PeriodicSender::Rounds, nullptr),
          InstanceAccessor("missed", &PeriodicSender::Missed, nullptr),
          InstanceAccessor("failures", &PeriodicSender::Failures, nullptr),
          InstanceAccessor("withheld", &PeriodicSender::Withheld, nullptr),
      });
}

PeriodicSender::PeriodicSender(const Napi::CallbackInfo& info) : ObjectWrap<PeriodicSender>(info) {
  Napi::Env env = info.Env();
  socket_ = RawIpSocket::FromValue(info[0]);
  if (socket_ == nullptr) throw Napi::TypeError::New(env, "new PeriodicSender(socket): socket must be a RawIpSocket");
  socketObject_ = Napi::Persistent(info[0].As<Napi::Object>());
  description_ = "on " + socket_->description();
}

PeriodicSender::~PeriodicSender() {
  schedule_.reset();  // joins the thread before its loop handles go
  CloseLoopHandles();
}

void PeriodicSender::RequireOpen(Napi::Env env, const char* operation) const {
  if (closed_) throw Napi::Error::New(env, std::string(operation) + ": periodic sender " + description_ + " is closed");
}

Napi::Value PeriodicSender::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* where = "start(datagrams, options, intervalMs, onError)";
  RequireOpen(env, where);
  const int socketFd = socket_->OpenFd();
  if (socketFd < 0) throw Napi::Error::New(env, std::string(where) + ": socket " + socket_->description() + " is closed");
  const SendOptions options = ParseSendOptions(info, 1, where);
  if (!info[2].IsNumber()) throw Napi::TypeError::New(env, std::string(where) + ": intervalMs must be a number");
  const double intervalMs = info[2].As<Napi::Number>().DoubleValue();
  if (!(intervalMs >= kMinIntervalMs && intervalMs <= kMaxIntervalMs)) {
    throw Napi::RangeError::New(env, std::string(where) + ": intervalMs must be between 1 and 86400000, got " +
                                         info[2].ToString().Utf8Value());
  }
  if (!info[3].IsFunction()) throw Napi::TypeError::New(env, std::string(where) + ": onError must be a function");
  // Everything is parsed before anything changes: bad arguments leave a running schedule alone.
  Datagrams datagrams = ParseDatagrams(env, info[0], options, where);

  OpenLoopHandles(env);
  StopSending();
  // The thread sends on a duplicate: the socket's fd number may be closed and reused under it.
  const int threadFd = fcntl(socketFd, F_DUPFD_CLOEXEC, 0);
  if (threadFd < 0) throw SystemError(env, errno, "fcntl(F_DUPFD_CLOEXEC)", "socket " + socket_->description());
  schedule_ = std::make_unique<PeriodicSenderThread>(std::move(datagrams), threadFd, socket_->ClosedFlag(),
                                                     ToNanoseconds(FromMilliseconds(intervalMs)), description_, counters_, loop_->heartbeat);
  options_ = options;
  onError_ = Napi::Persistent(info[3].As<Napi::Function>());
  asyncContext_ = std::make_shared<Napi::AsyncContext>(env, ("periodic sender " + description_).c_str());
  Ref();  // a started sender nobody holds keeps sending
  generation_++;

  const timespec startedAt = MonotonicNow();
  loop_->heartbeat.lastIterationNs.store(ToNanoseconds(startedAt), std::memory_order_relaxed);
  uv_prepare_start(&loop_->prepare, &OnPrepare);
  UpdateLoopReference();
  std::vector<SendFailure> failures = schedule_->SendFirstRound(startedAt);
  const int launchError = schedule_->Launch();
  if (launchError != 0) {
    StopSending();
    throw SystemError(env, launchError, "pthread_create", "thread of periodic sender " + description_);
  }
  Report(env, std::move(failures));
  if (schedule_ && schedule_->Ended()) StopSending();
  return env.Undefined();
}

Napi::Value PeriodicSender::Update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* where = "update(datagrams)";
  RequireOpen(env, where);
  if (!schedule_ || schedule_->Ended()) {
    throw Napi::Error::New(env, std::string(where) + ": periodic sender " + description_ + " is not started");
  }
  schedule_->Replace(ParseDatagrams(env, info[0], options_, where));
  return env.Undefined();
}

Datagrams PeriodicSender::ParseDatagrams(Napi::Env env, Napi::Value value, const SendOptions& options,
                                         const char* where) {
  if (!value.IsArray()) throw Napi::TypeError::New(env, std::string(where) + ": datagrams must be an array");
  Napi::Array list = value.As<Napi::Array>();
  if (list.Length() == 0) throw Napi::RangeError::New(env, std::string(where) + ": datagrams must not be empty");
  Datagrams datagrams;
  for (uint32_t i = 0; i < list.Length(); i++) {
    const std::string item = std::string(where) + ": datagrams[" + std::to_string(i) + "]";
    Napi::Value entry = list.Get(i);
    if (!entry.IsObject()) throw Napi::TypeError::New(env, item + " must be an object");
    Napi::Value payload = entry.As<Napi::Object>().Get("payload");
    Napi::Value destination = entry.As<Napi::Object>().Get("destination");
    if (!payload.IsBuffer()) throw Napi::TypeError::New(env, item + ".payload must be a Buffer");
    if (!destination.IsString()) throw Napi::TypeError::New(env, item + ".destination must be a string");
    Napi::Buffer<uint8_t> bytes = payload.As<Napi::Buffer<uint8_t>>();
    if (bytes.Length() > kMaxIpPayload) throw Napi::RangeError::New(env, item + ".payload is larger than an IP packet");
    datagrams.push_back(std::make_unique<OutgoingDatagram>(
        env, socket_->family(), bytes.Data(), bytes.Length(), OutgoingDatagram::Payload::kCopied,
        destination.As<Napi::String>().Utf8Value(), options, socket_->description()));
  }
  return datagrams;
}

void PeriodicSender::OpenLoopHandles(Napi::Env env) {
  if (loop_ != nullptr) return;
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "start: no libuv loop");
  auto* handles = new SenderLoopHandles;
  int rc = uv_async_init(loop, &handles->wake, &PeriodicSender::OnWake);
  if (rc != 0) {
    delete handles;
    throw SystemError(env, -rc, "uv_async_init", "periodic sender " + description_);
  }
  uv_prepare_init(loop, &handles->prepare);  // cannot fail: it only links the handle into the loop
  handles->wake.data = handles;
  handles->prepare.data = handles;
  handles->openHandles = 2;
  uv_unref(reinterpret_cast<uv_handle_t*>(&handles->wake));
  uv_unref(reinterpret_cast<uv_handle_t*>(&handles->prepare));  // the heartbeat never keeps a loop alive
  handles->heartbeat.loop = loop;
  handles->heartbeat.wake = &handles->wake;
  handles->owner = this;
  // Until the handles are closed, a terminating environment (a worker) must wait for them: Node
  // unloads the addon after cleanup, and libuv would then call a close callback that is gone.
  napi_add_async_cleanup_hook(env, &PeriodicSender::OnEnvironmentCleanup, handles, &handles->cleanupHook);
  loop_ = handles;
}

void PeriodicSender::CloseLoopHandles() {
  if (loop_ == nullptr) return;
  SenderLoopHandles* handles = loop_;
  loop_ = nullptr;
  CloseHandles(handles);
}

void PeriodicSender::UpdateLoopReference() {
  if (loop_ == nullptr) return;
  auto* wake = reinterpret_cast<uv_handle_t*>(&loop_->wake);
  if (schedule_ && keepLoopAlive_) uv_ref(wake);
  else uv_unref(wake);
}

void PeriodicSender::StopSending() {
  if (!schedule_) return;
  generation_++;
  schedule_.reset();  // wakes and joins the thread; failures it queued are dropped with it
  if (loop_ != nullptr) uv_prepare_stop(&loop_->prepare);
  UpdateLoopReference();
  onError_.Reset();
  asyncContext_.reset();
  Unref();
}

void PeriodicSender::Report(Napi::Env env, std::vector<SendFailure> failures) {
  if (failures.empty()) return;
  Napi::HandleScope scope(env);
  // A local handle to our JS object keeps `this` alive even if a callback drops the last reference.
  [[maybe_unused]] Napi::Object keepAlive = Value();
  const uint64_t generation = generation_;
  for (const SendFailure& failure : failures) {
    if (generation != generation_ || onError_.IsEmpty()) return;  // onError restarted, stopped or closed us
    // Local copies: the callback may call stop()/close(), which resets the members.
    Napi::Function onError = onError_.Value();
    std::shared_ptr<Napi::AsyncContext> context = asyncContext_;
    Napi::Error error = SystemError(env, failure.errnum, failure.syscall, failure.object);
    try {
      onError.MakeCallback(Value(), {error.Value()}, *context);
    } catch (const Napi::Error& thrown) {
      // No JS caller to propagate to: an uncaught exception, like any event-loop callback's.
      napi_fatal_exception(env, thrown.Value());
    }
  }
}

void PeriodicSender::OnThreadSignal() {
  if (!schedule_) return;
  const bool ended = schedule_->Ended();  // first: the failures queued before the end are then all there
  std::vector<SendFailure> failures = schedule_->TakeFailures();
  if (failures.empty() && !ended) return;  // a poke to make the loop iterate: no N-API work at all
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  [[maybe_unused]] Napi::Object keepAlive = Value();
  const uint64_t generation = generation_;
  Report(env, std::move(failures));
  if (ended && generation == generation_) StopSending();  // a closed socket never comes back
}

void PeriodicSender::OnWake(uv_async_t* handle) {
  auto* handles = static_cast<SenderLoopHandles*>(handle->data);
  if (handles->owner != nullptr) handles->owner->OnThreadSignal();
}

// The environment is ending while the handles are open: stop the thread (it uses them), then close
// them; removing the hook in OnHandleClosed tells Node we are done. The sender object itself is
// finalized later.
void PeriodicSender::OnEnvironmentCleanup(napi_async_cleanup_hook_handle, void* arg) {
  auto* handles = static_cast<SenderLoopHandles*>(arg);
  if (handles->owner != nullptr) {
    PeriodicSender* owner = handles->owner;
    owner->schedule_.reset();
    owner->loop_ = nullptr;
  }
  CloseHandles(handles);
}

Napi::Value PeriodicSender::Stop(const Napi::CallbackInfo& info) {
  StopSending();
  return info.Env().Undefined();
}

Napi::Value PeriodicSender::Close(const Napi::CallbackInfo& info) {
  StopSending();
  CloseLoopHandles();
  closed_ = true;
  socket_ = nullptr;
  socketObject_.Reset();
  return info.Env().Undefined();
}

Napi::Value PeriodicSender::KeepLoopAlive(const Napi::CallbackInfo& info) {
  keepLoopAlive_ = true;
  UpdateLoopReference();
  return info.Env().Undefined();
}

Napi::Value PeriodicSender::AllowLoopExit(const Napi::CallbackInfo& info) {
  keepLoopAlive_ = false;
  UpdateLoopReference();
  return info.Env().Undefined();
}

Napi::Value PeriodicSender::IsClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), closed_); }

Napi::Value PeriodicSender::Rounds(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(counters_.rounds.load(std::memory_order_relaxed)));
}

Napi::Value PeriodicSender::Missed(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(counters_.missed.load(std::memory_order_relaxed)));
}

Napi::Value PeriodicSender::Failures(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(counters_.failures.load(std::memory_order_relaxed)));
}

Napi::Value PeriodicSender::Withheld(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(counters_.withheld.load(std::memory_order_relaxed)));
}

}  // namespace kubelvs
