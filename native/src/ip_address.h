// Text <-> binary IP addresses at the JavaScript boundary. Invalid input throws a TypeError
// naming the offending value, so callers never reach a system call with a half-parsed address.
#pragma once

#include <napi.h>
#include <netinet/in.h>

#include <string>

namespace kubelvs {

in_addr ParseIPv4(Napi::Env env, const std::string& text, const char* what);
in6_addr ParseIPv6(Napi::Env env, const std::string& text, const char* what);
std::string FormatIPv4(const in_addr& address);
std::string FormatIPv6(const in6_addr& address);

}  // namespace kubelvs
