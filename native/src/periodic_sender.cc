#include "periodic_sender.h"

#include <errno.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <string>

#include "monotonic_timer.h"
#include "raw_ip_socket.h"
#include "system_error.h"

namespace kubelvs {

namespace {

constexpr double kMinIntervalMs = 1;               // shorter would be a busy loop, not a schedule
constexpr double kMaxIntervalMs = 24 * 3600 * 1e3;  // one day
constexpr size_t kMaxIpPayload = 65535;

timespec Add(const timespec& a, const timespec& b) {
  timespec sum{a.tv_sec + b.tv_sec, a.tv_nsec + b.tv_nsec};
  if (sum.tv_nsec >= 1'000'000'000) {
    sum.tv_sec += 1;
    sum.tv_nsec -= 1'000'000'000;
  }
  return sum;
}

}  // namespace

Napi::Function PeriodicSender::DefineClass(Napi::Env env) {
  std::vector<PropertyDescriptor> properties = {
      InstanceMethod("start", &PeriodicSender::Start),
      InstanceMethod("update", &PeriodicSender::Update),
      InstanceMethod("stop", &PeriodicSender::Stop),
      InstanceMethod("close", &PeriodicSender::Close),
      InstanceAccessor("rounds", &PeriodicSender::Rounds, nullptr),
      InstanceAccessor("missed", &PeriodicSender::Missed, nullptr),
      InstanceAccessor("failures", &PeriodicSender::Failures, nullptr),
  };
  AddLoopMethods(properties);
  return ObjectWrap<PeriodicSender>::DefineClass(env, "PeriodicSender", properties);
}

PeriodicSender::PeriodicSender(const Napi::CallbackInfo& info) : PolledSocket<PeriodicSender>(info) {
  Napi::Env env = info.Env();
  socket_ = RawIpSocket::FromValue(info[0]);
  if (socket_ == nullptr) throw Napi::TypeError::New(env, "new PeriodicSender(socket): socket must be a RawIpSocket");
  socketObject_ = Napi::Persistent(info[0].As<Napi::Object>());
  kind_ = "periodic sender";
  description_ = "on " + socket_->description();
  fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd_ < 0) throw SystemError(env, errno, "timerfd_create", "periodic sender " + description_);
}

Napi::Value PeriodicSender::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* where = "start(datagrams, options, intervalMs, onError)";
  const int timerFd = RequireOpen(env, where);
  if (socket_->OpenFd() < 0) throw Napi::Error::New(env, std::string(where) + ": socket " + socket_->description() + " is closed");
  const SendOptions options = ParseSendOptions(info, 1, where);
  if (!info[2].IsNumber()) throw Napi::TypeError::New(env, std::string(where) + ": intervalMs must be a number");
  const double intervalMs = info[2].As<Napi::Number>().DoubleValue();
  if (!(intervalMs >= kMinIntervalMs && intervalMs <= kMaxIntervalMs)) {
    throw Napi::RangeError::New(env, std::string(where) + ": intervalMs must be between 1 and 86400000, got " +
                                         info[2].ToString().Utf8Value());
  }
  if (!info[3].IsFunction()) throw Napi::TypeError::New(env, std::string(where) + ": onError must be a function");

  // Everything is parsed before anything changes: bad arguments leave a running schedule alone.
  std::vector<std::unique_ptr<OutgoingDatagram>> datagrams = ParseDatagrams(env, info[0], options, where);

  if (!Polling()) StartPolling(env, Napi::Function(), info[3].As<Napi::Function>());
  else onError_ = Napi::Persistent(info[3].As<Napi::Function>());
  options_ = options;
  ReplaceDatagrams(std::move(datagrams));

  // Phase-locked to the first send: expiries at first + k * interval, however late a round runs.
  // Setting the timer also discards an expiry of the previous schedule not yet read.
  const timespec interval = FromMilliseconds(intervalMs);
  itimerspec schedule{};
  schedule.it_interval = interval;
  schedule.it_value = Add(MonotonicNow(), interval);
  if (timerfd_settime(timerFd, TFD_TIMER_ABSTIME, &schedule, nullptr) < 0) {
    const int error = errno;
    StopSending();
    throw SystemError(env, error, "timerfd_settime", "periodic sender " + description_);
  }
  SendRound();
  return env.Undefined();
}

Napi::Value PeriodicSender::Update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* where = "update(datagrams)";
  RequireOpen(env, where);
  if (datagrams_.empty()) throw Napi::Error::New(env, std::string(where) + ": periodic sender " + description_ + " is not started");
  ReplaceDatagrams(ParseDatagrams(env, info[0], options_, where));
  return env.Undefined();
}

std::vector<std::unique_ptr<OutgoingDatagram>> PeriodicSender::ParseDatagrams(Napi::Env env, Napi::Value value,
                                                                               const SendOptions& options,
                                                                               const char* where) {
  if (!value.IsArray()) throw Napi::TypeError::New(env, std::string(where) + ": datagrams must be an array");
  Napi::Array list = value.As<Napi::Array>();
  if (list.Length() == 0) throw Napi::RangeError::New(env, std::string(where) + ": datagrams must not be empty");
  std::vector<std::unique_ptr<OutgoingDatagram>> datagrams;
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

void PeriodicSender::ReplaceDatagrams(std::vector<std::unique_ptr<OutgoingDatagram>> datagrams) {
  datagrams_ = std::move(datagrams);
  generation_++;
  reportedErrnos_.reset();
}

void PeriodicSender::SendRound() {
  rounds_++;
  const uint64_t generation = generation_;
  const int socketFd = socket_->OpenFd();
  bool clean = true;
  for (size_t i = 0; i < datagrams_.size(); i++) {
    const OutgoingDatagram& datagram = *datagrams_[i];
    // A closed socket's fd number may already belong to something else: never write to it.
    const int error = socketFd < 0 ? EBADF : datagram.SendOn(socketFd) < 0 ? errno : 0;
    if (error == 0) continue;
    clean = false;
    failures_++;
    const size_t slot = static_cast<size_t>(error) < reportedErrnos_.size() ? static_cast<size_t>(error) : 0;
    if (!reportedErrnos_.test(slot)) {
      reportedErrnos_.set(slot);
      Napi::HandleScope scope(Env());
      [[maybe_unused]] Napi::Object keepAlive = Value();  // in case onError drops the last reference
      EmitError(SystemError(Env(), error, "sendmsg", datagram.object()));
      if (generation != generation_) return;  // onError restarted, stopped or closed us
    }
    if (socketFd < 0) {
      StopSending();  // a closed socket never comes back
      return;
    }
  }
  if (clean) reportedErrnos_.reset();
}

void PeriodicSender::OnReadable() {
  uint64_t expirations = 0;
  ssize_t bytes;
  do {
    bytes = read(fd_, &expirations, sizeof expirations);
  } while (bytes < 0 && errno == EINTR);
  if (bytes < 0) {
    if (errno == EAGAIN) return;  // restarted after the expiry woke the loop
    const int readError = errno;
    Napi::HandleScope scope(Env());
    [[maybe_unused]] Napi::Object keepAlive = Value();
    Napi::Error error = SystemError(Env(), readError, "read", "periodic sender " + description_);
    EmitError(error);
    StopSending();
    return;
  }
  if (expirations > 1) missed_ += expirations - 1;
  SendRound();
}

void PeriodicSender::StopSending() {
  generation_++;
  datagrams_.clear();
  if (fd_ >= 0) {
    const itimerspec off{};
    timerfd_settime(fd_, 0, &off, nullptr);  // cannot fail on a valid timerfd with a zero setting
  }
  StopPolling();
}

Napi::Value PeriodicSender::Stop(const Napi::CallbackInfo& info) {
  StopSending();
  return info.Env().Undefined();
}

Napi::Value PeriodicSender::Close(const Napi::CallbackInfo& info) {
  StopSending();
  CloseFd();
  socket_ = nullptr;
  socketObject_.Reset();
  return info.Env().Undefined();
}

Napi::Value PeriodicSender::Rounds(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(rounds_));
}

Napi::Value PeriodicSender::Missed(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(missed_));
}

Napi::Value PeriodicSender::Failures(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(failures_));
}

}  // namespace kubelvs
