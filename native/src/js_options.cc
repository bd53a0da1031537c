#include "js_options.h"

namespace kubelvs {

Napi::Object OptionsArgument(const Napi::CallbackInfo& info, size_t index, const char* where) {
  if (info.Length() <= index || info[index].IsUndefined()) return Napi::Object::New(info.Env());
  if (!info[index].IsObject()) throw Napi::TypeError::New(info.Env(), std::string(where) + ": options must be an object");
  return info[index].As<Napi::Object>();
}

int OptionalInt(const Napi::Object& options, const char* key, int fallback, int min, int max, const char* where) {
  Napi::Value value = options.Get(key);
  if (value.IsUndefined()) return fallback;
  Napi::Env env = options.Env();
  if (!value.IsNumber()) throw Napi::TypeError::New(env, std::string(where) + ": " + key + " must be a number");
  const double number = value.As<Napi::Number>().DoubleValue();
  if (number < min || number > max || number != static_cast<int>(number)) {
    throw Napi::RangeError::New(env, std::string(where) + ": " + key + " must be an integer in " +
                                         std::to_string(min) + ".." + std::to_string(max));
  }
  return static_cast<int>(number);
}

std::string OptionalString(const Napi::Object& options, const char* key, const char* where) {
  Napi::Value value = options.Get(key);
  if (value.IsUndefined()) return "";
  if (!value.IsString()) throw Napi::TypeError::New(options.Env(), std::string(where) + ": " + key + " must be a string");
  return value.As<Napi::String>().Utf8Value();
}

}  // namespace kubelvs
