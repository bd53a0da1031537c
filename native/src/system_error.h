// Turns an errno from a failed system call into a JavaScript exception that says which call
// failed on which object (interface, address, socket), with errno and its symbolic code.
#pragma once

#include <napi.h>

#include <string>

namespace kubelvs {

// Per-addon state shared by all classes (one instance per Node environment).
struct AddonState {
  // The TypeScript NativeSystemError class, registered by native/addon.ts; empty until then.
  Napi::FunctionReference errorClass;
};

// "EPERM", "ENOBUFS", ... or "E<number>" when the C library has no name for it.
std::string ErrnoCode(int errnum);

// Builds (does not throw) an error for `syscall` failing with `errnum` on `object`.
// Uses the registered error class when there is one: new ErrorClass(message, {errno, code, syscall, object}).
Napi::Error SystemError(Napi::Env env, int errnum, const std::string& syscall, const std::string& object);

}  // namespace kubelvs
