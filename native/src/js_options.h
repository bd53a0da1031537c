// Reading optional fields of a JS options object at the addon boundary. Wrong types throw a
// TypeError and out-of-range numbers a RangeError, each naming the call (`where`) and the field.
#pragma once

#include <napi.h>

#include <string>

namespace kubelvs {

// info[index] as an options object; absent or undefined gives an empty object.
Napi::Object OptionsArgument(const Napi::CallbackInfo& info, size_t index, const char* where);

// options[key] as an integer in min..max, or `fallback` when undefined.
int OptionalInt(const Napi::Object& options, const char* key, int fallback, int min, int max, const char* where);

// options[key] as a string, or "" when undefined.
std::string OptionalString(const Napi::Object& options, const char* key, const char* where);

}  // namespace kubelvs
