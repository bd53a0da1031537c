#include "system_error.h"

#include <string.h>

namespace kubelvs {

std::string ErrnoCode(int errnum) {
  const char* name = strerrorname_np(errnum);
  return name != nullptr ? std::string(name) : "E" + std::to_string(errnum);
}

Napi::Error SystemError(Napi::Env env, int errnum, const std::string& syscall, const std::string& object) {
  const std::string code = ErrnoCode(errnum);
  const std::string message = syscall + " " + object + ": " + code + " (" + strerrordesc_np(errnum) + ")";
  Napi::Object details = Napi::Object::New(env);
  details.Set("errno", Napi::Number::New(env, errnum));
  details.Set("code", Napi::String::New(env, code));
  details.Set("syscall", Napi::String::New(env, syscall));
  details.Set("object", Napi::String::New(env, object));

  AddonState* state = env.GetInstanceData<AddonState>();
  if (state != nullptr && !state->errorClass.IsEmpty()) {
    Napi::Object error = state->errorClass.New({Napi::String::New(env, message), details});
    return Napi::Error(env, error);
  }
  Napi::Error error = Napi::Error::New(env, message);
  for (const char* key : {"errno", "code", "syscall", "object"}) error.Value().Set(key, details.Get(key));
  return error;
}

}  // namespace kubelvs
